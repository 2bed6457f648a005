"""The count ruler, moving the "1", the 8-count loop and the click track (issue 8, §4).

The pure ruler tests draw a :class:`ClipResult` built from a dict with beats a hand can
check; the player and window tests use a clip over a 124 BPM drum groove analysed by the
real model once per session.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from dance_analysis.music.recount import move_one
from gui.counts import BeatGrid, ClickTrack, CountRuler
from gui.player import PlayerView
from gui.result import ClipResult, Music
from gui.wording import feedback_text
from tests.gui.conftest import analyse_into, choose_in_next_popup
from tests.gui.test_coach import focus, press
from tests.gui.test_window import finished_job, show_result

BEAT = 500.0  # ms: 120 BPM


def music_dict(*, first_one: int = 1, beats: int = 40, start_ms: float = 250.0) -> dict[str, Any]:
    """Beats every 500 ms from ``start_ms``; the beat at ``first_one`` is the first "1"."""
    beats_ms = [start_ms + BEAT * i for i in range(beats)]
    counted = range(first_one, beats)
    return {
        "present": True,
        "tempo_bpm": 120.0,
        "beats_per_bar": 4,
        "beats_ms": beats_ms,
        "downbeats_ms": beats_ms[first_one % 4 :: 4],
        "counts": [
            {"t_ms": beats_ms[i], "count": (i - first_one) % 8 + 1, "phrase": (i - first_one) // 8}
            for i in counted
        ],
    }


def result_with(music: dict[str, Any], *, frames: int = 500, fps: float = 25.0) -> ClipResult:
    return ClipResult.from_dict(
        {
            "frames": [{"t_ms": i * 1000.0 / fps} for i in range(frames)],
            "music": music,
        }
    )


def ruler_at(qtbot: Any, music: dict[str, Any] | None, t_ms: float) -> CountRuler:
    ruler = CountRuler()
    qtbot.addWidget(ruler)
    ruler.resize(900, 60)
    ruler.set_music(None if music is None else Music.from_dict(music), 20_000.0)
    ruler.set_position(t_ms)
    return ruler


# --- the ruler ------------------------------------------------------------------------


def test_ruler_labels_each_counted_beat_and_numbers_phrases_from_one(qtbot: Any) -> None:
    music = music_dict(first_one=1)
    # 2.3 s: beat 4 (250 + 4 × 500 = 2250) is playing; it is count 4 of the first phrase.
    ruler = ruler_at(qtbot, music, 2_300.0)

    counts = ruler.labels("count")
    phrases = ruler.labels("phrase")

    # The window starts half a beat before the phrase's "1" (750 ms) and holds two
    # phrases: 16 beats, 750 … 8250 ms, each labelled with its count.
    start, end = ruler.span
    assert (start, end) == (500.0, 8_500.0)
    assert [label.t_ms for label in counts] == [750.0 + BEAT * i for i in range(16)]
    assert [label.text for label in counts] == [str(n) for n in range(1, 9)] * 2
    assert [(p.t_ms, p.text) for p in phrases] == [(750.0, "Phrase 1"), (4_750.0, "Phrase 2")]
    # Left to right, where the times are.
    xs = [label.x for label in counts]
    assert xs == sorted(xs)
    assert xs[0] == pytest.approx((750.0 - 500.0) / 8_000.0 * ruler.width())
    # The count playing is highlighted.
    assert ruler.highlighted is not None
    assert (ruler.highlighted.t_ms, ruler.highlighted.text) == (2_250.0, "4")
    # The pick-up beat before the first "1" (250 ms) has a tick but no count.
    ruler.set_position(300.0)
    assert "1" not in [label.text for label in ruler.labels("count") if label.t_ms < 700]
    assert ruler.highlighted is None


def test_ruler_follows_the_playhead_a_phrase_at_a_time(qtbot: Any) -> None:
    ruler = ruler_at(qtbot, music_dict(first_one=1), 9_000.0)  # in the third phrase

    phrases = ruler.labels("phrase")

    assert phrases[0].text == "Phrase 3"
    assert ruler.span[0] == 8_750.0 - BEAT / 2
    ruler.set_position(12_760.0)  # just after the fourth phrase's "1" (12 750 ms)
    assert ruler.labels("phrase")[0].text == "Phrase 4"
    assert ruler.highlighted is not None and ruler.highlighted.text == "1"


def test_downbeats_are_drawn_stronger_than_the_other_beats(qtbot: Any) -> None:
    ruler = ruler_at(qtbot, music_dict(first_one=1), 2_300.0)
    picture = ruler.grab().toImage()
    row = ruler.height() - 8  # low on the ticks, below any label

    def brightness(t_ms: float) -> int:
        x = round(ruler.x_of(t_ms))
        return max(QColor(picture.pixel(x + dx, row)).value() for dx in (-1, 0, 1))

    downbeat, other = brightness(750.0), brightness(1_250.0)  # counts 1 and 2
    assert downbeat > other > QColor(32, 32, 38).value()


def test_without_music_the_ruler_says_why_quietly(qtbot: Any) -> None:
    silent = {"present": False, "reason": "no_steady_beat", "beats_ms": [], "counts": []}
    ruler = ruler_at(qtbot, silent, 1_000.0)

    assert ruler.labels() == []
    assert ruler.message == "No steady beat found: no counts"
    assert ruler_at(qtbot, {"present": False, "reason": "no_audio"}, 0).message == (
        "No sound in this clip: no counts"
    )
    with qtbot.assertNotEmitted(ruler.one_shift_requested):
        ruler.shift_one(1)
    assert ruler.beat_menu(100.0) is None


def test_a_click_on_the_ruler_seeks_there(qtbot: Any) -> None:
    ruler = ruler_at(qtbot, music_dict(), 2_300.0)
    x = round(ruler.x_of(3_000.0))

    with qtbot.waitSignal(ruler.seek_requested) as seek:
        qtbot.mouseClick(ruler, Qt.MouseButton.LeftButton, pos=QPoint(x, 20))

    assert seek.args[0] == pytest.approx(ruler.ms_at(x))
    assert abs(seek.args[0] - 3_000.0) < 8_000.0 / ruler.width()


def test_the_menu_on_a_beat_makes_it_the_one_and_keys_shift_it(qtbot: Any) -> None:
    ruler = ruler_at(qtbot, music_dict(first_one=1), 2_300.0)

    menu = ruler.beat_menu(ruler.x_of(1_750.0) + 4)  # near count 3
    assert menu is not None
    [action] = menu.actions()
    assert action.text() == "Make this beat the 1"
    with qtbot.waitSignal(ruler.one_requested) as one:
        action.trigger()
    assert one.args == [1_750.0]
    assert ruler.beat_menu(ruler.x_of(2_000.0)) is None  # between two beats: no menu
    with qtbot.waitSignal(ruler.one_shift_requested) as shift:
        ruler.shift_one(-1)
    assert shift.args == [-1]


def test_phrase_spans_and_the_last_phrase(qtbot: Any) -> None:
    grid = BeatGrid.of(Music.from_dict(music_dict(first_one=1, beats=20)))
    # "1"s at 750, 4750, 8750; beats end at 9750 (index 19).
    assert grid.phrase_span(100.0) == (750.0, 4_750.0)  # before the first "1": the first
    assert grid.phrase_span(4_750.0) == (4_750.0, 8_750.0)
    assert grid.phrase_span(9_000.0) == (8_750.0, None)  # the last runs to the clip's end
    assert BeatGrid.of(Music.from_dict({})).phrase_span(0.0) is None


# --- the click track, pure ----------------------------------------------------------------


def test_clicks_are_the_beats_the_clock_ran_over_once_each(qtbot: Any) -> None:
    owner = CountRuler()
    qtbot.addWidget(owner)
    track = ClickTrack(owner)
    track.set_music(Music.from_dict(music_dict(first_one=1)))

    assert track.due(700.0, 1_800.0) == [(750.0, True), (1_250.0, False), (1_750.0, False)]
    assert track.due(1_800.0, 700.0) == []  # the clock went back (a loop): nothing
    track.restart(740.0)
    got = [click for to in (760.0, 1_250.0, 1_250.1, 2_800.0) for click in track.advance(to)]
    # Half-open steps: 1250 clicks once, on the step that passed it.
    # 750 and 2750 are bar lines (the "1"s of counts 1 and 5): the higher click.
    assert got == [(750, True), (1_250, False), (1_750, False), (2_250, False), (2_750, True)]
    assert track.played == got
    track.close()


# --- the player ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def groove_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight seconds of the squats clip (small, 5 fps) over a 124 BPM drum groove."""
    from tests.music import synth

    return synth.groove_clip(tmp_path_factory.mktemp("groove"), seconds=8.0)


@pytest.fixture(scope="session")
def music_library(tmp_path_factory: pytest.TempPathFactory, groove_clip: Path) -> Path:
    """A data folder holding the groove clip analysed by the real model (done once)."""
    return analyse_into(
        tmp_path_factory.mktemp("music-analysed") / "data", "groove.mp4", groove_clip
    )


@pytest.fixture
def music_copy(music_library: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(music_library, target)
    return target


def stored_result(library: Path) -> Path:
    [path] = library.glob("storage/**/result.json")
    return path


@pytest.fixture
def groove_result(music_library: Path) -> ClipResult:
    result = ClipResult.load(stored_result(music_library))
    assert result.music.present and result.music.counts_ms.size >= 9, "no counts in the groove"
    return result


@pytest.fixture
def player(qtbot: Any, groove_clip: Path, groove_result: ClipResult) -> Any:
    view = PlayerView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    view.open_clip(groove_clip, groove_result, has_audio=True)
    qtbot.waitUntil(lambda: view.index == 0, timeout=10_000)
    yield view
    view.shutdown()


def expected_clicks(music: Music, from_ms: float, to_ms: float) -> list[tuple[float, bool]]:
    ones = set(music.downbeats_ms.tolist())
    return [(float(t), float(t) in ones) for t in music.beats_ms if from_ms <= t < to_ms]


def test_slowed_playback_clicks_each_beat_in_order_with_the_ones_higher(
    qtbot: Any, player: Any, groove_result: ClipResult
) -> None:
    music = groove_result.music
    one = float(music.downbeats_ms[1])  # the second bar's "1"
    player.seek_frame(groove_result.frame_at(one) - 1)  # a frame before it
    qtbot.waitUntil(lambda: player.index == groove_result.frame_at(one) - 1, timeout=5_000)
    start = player.current_ms
    player.set_speed(0.5)
    player.play()
    qtbot.waitUntil(lambda: len(player.clicks.played) >= 3, timeout=20_000)
    reached = player.clicks.position_ms
    player.pause()

    assert player.clicks.played == expected_clicks(music, start, reached)
    assert player.clicks.played[0] == (one, True)
    assert [is_one for _, is_one in player.clicks.played[1:3]] == [False, False]


def test_no_clicks_at_normal_speed_or_without_music(
    qtbot: Any, player: Any, groove_result: ClipResult
) -> None:
    music = groove_result.music
    past_two_beats = groove_result.frame_at(float(music.beats_ms[2])) + 1
    player.play()  # 1×: the clip's own sound, no clicks
    qtbot.waitUntil(lambda: player.index >= past_two_beats, timeout=20_000)
    player.pause()
    assert player.clicks.played == []

    silent = dataclasses.replace(groove_result, music=Music.from_dict({}))
    player.set_result(silent)
    player.seek_frame(0)
    player.set_speed(0.5)
    player.play()
    qtbot.waitUntil(lambda: player.index >= past_two_beats, timeout=30_000)
    player.pause()
    assert player.clicks.played == []
    assert player.ruler.message == "No music found: no counts"


def test_a_seek_while_playing_slowly_does_not_click_the_beats_jumped_over(
    qtbot: Any, player: Any, groove_result: ClipResult
) -> None:
    music = groove_result.music
    player.set_speed(0.5)
    player.play()
    qtbot.waitUntil(lambda: len(player.clicks.played) >= 1, timeout=20_000)
    before = player.clicks.position_ms
    target = float(music.beats_ms[9]) + 50.0  # far ahead, past several beats
    player.seek_ms(target)
    landed = player.clicks.position_ms  # the clock starts again at the frame sought
    assert landed == groove_result.t_ms[groove_result.frame_at(target)]
    qtbot.waitUntil(lambda: player.clicks.played[-1][0] > target, timeout=20_000)
    player.pause()

    jumped = [t for t, _ in player.clicks.played if before <= t < landed]
    assert jumped == [], f"clicked the beats a seek jumped over: {jumped}"
    assert sum(1 for t in music.beats_ms if before <= t < landed) >= 6
    assert [t for t, _ in player.clicks.played] == sorted(t for t, _ in player.clicks.played)


def test_loop_8_count_loops_the_phrase_under_the_playhead(
    qtbot: Any, player: Any, groove_result: ClipResult, music_library: Path
) -> None:
    music = groove_result.music
    ones = music.counts_ms[music.count_numbers == 1]
    assert ones.size >= 2
    inside = float(ones[0] + (ones[1] - ones[0]) / 2)  # mid-way through the first phrase
    player.seek_ms(inside)
    qtbot.waitUntil(lambda: player.index == groove_result.frame_at(inside), timeout=5_000)

    qtbot.mouseClick(player.count_loop_button, Qt.MouseButton.LeftButton)

    # From the frame on screen at the "1" to the frame before the next phrase's "1".
    first = groove_result.frame_at(float(ones[0]))
    assert groove_result.t_ms[first] <= ones[0] < groove_result.t_ms[first + 1]
    assert (player.loop_a, player.loop_b) == (first, groove_result.frame_at(float(ones[1])) - 1)
    assert player.loop_label.text() == f"Loop {first + 1}–{player.loop_b + 1}"
    # The "1" moves a beat later (the window's reload): the loop follows the new phrase.
    data = json.loads(stored_result(music_library).read_text(encoding="utf-8"))
    recounted = ClipResult.from_dict(move_one(data, shift_beats=1))
    player.set_result(recounted)
    new_ones = recounted.music.counts_ms[recounted.music.count_numbers == 1]
    assert new_ones[0] != ones[0]
    assert (player.loop_a, player.loop_b) == (
        groove_result.frame_at(float(new_ones[0])),
        groove_result.frame_at(float(new_ones[1])) - 1,
    )
    player.toggle_count_loop()  # again: no loop
    assert (player.loop_a, player.loop_b) == (None, None)
    player.set_result(groove_result)

    # In the last phrase the loop runs to the beat after its 8, or the clip's end.
    player.seek_ms(float(ones[-1]) + 10.0)
    qtbot.waitUntil(
        lambda: player.index == groove_result.frame_at(float(ones[-1]) + 10), timeout=5_000
    )
    player.toggle_count_loop()
    grid = BeatGrid.of(music)
    span = grid.phrase_span(float(ones[-1]))
    assert span is not None
    end = span[1]
    last = groove_result.frame_count - 1
    expected_end = last if end is None else min(groove_result.frame_at(end) - 1, last)
    assert (player.loop_a, player.loop_b) == (groove_result.frame_at(float(ones[-1])), expected_end)
    qtbot.mouseClick(player.clear_loop_button, Qt.MouseButton.LeftButton)
    assert (player.loop_a, player.loop_b) == (None, None)


# --- the real window ------------------------------------------------------------------------


def count_at_beats(ruler: CountRuler) -> dict[float, str]:
    return {label.t_ms: label.text for label in ruler.labels("count")}


def right_click_menu_action(qtbot: Any, ruler: CountRuler, point: QPoint, text: str) -> None:
    """Right-click ``point`` and choose ``text`` in the menu that opens (as a coach would)."""
    chosen = choose_in_next_popup(text)
    qtbot.mouseClick(ruler, Qt.MouseButton.RightButton, pos=point)
    qtbot.waitUntil(lambda: chosen == [text], timeout=5_000)


def test_moving_the_one_in_the_window_recounts_ruler_feedback_and_file(
    qtbot: Any, open_desktop: Any, music_copy: Path, tmp_path: Path
) -> None:
    desktop = open_desktop(music_copy)
    window = desktop.window
    job = finished_job(desktop)
    show_result(qtbot, desktop, job.id)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    ruler = window.player.ruler
    stored = stored_result(music_copy)
    before = json.loads(stored.read_text(encoding="utf-8"))["music"]["counts"]
    beats = [float(t) for t in window.player.result.music.beats_ms]
    counted = count_at_beats(ruler)
    assert counted[before[0]["t_ms"]] == "1" and len(counted) >= 8
    texts_before = [window.feedback.item(i).text() for i in range(window.feedback.count())]

    # ] : the "1" a beat later. Every count slides one beat: what was 2 is now 1.
    focus(qtbot, window.player.canvas)
    with qtbot.waitSignal(window.result_shown, timeout=20_000):
        press(qtbot, Qt.Key.Key_BracketRight)
    after = json.loads(stored.read_text(encoding="utf-8"))["music"]["counts"]
    assert after[0]["t_ms"] == beats[beats.index(before[0]["t_ms"]) + 1]
    shifted = count_at_beats(ruler)
    assert shifted != counted
    for t, text in shifted.items():
        if t in counted:
            assert int(text) == (int(counted[t]) - 2) % 8 + 1, (t, text, counted[t])
    assert shifted[after[0]["t_ms"]] == "1"
    # The feedback list counts the new way too.
    texts = [window.feedback.item(i).text() for i in range(window.feedback.count())]
    assert texts != texts_before
    assert texts == [feedback_text(entry) for entry in window.player.result.feedback]

    # Right-click the beat three on from the first and make it the "1".
    ruler.set_position(window.player.current_ms)
    target = beats.index(after[0]["t_ms"]) + 3
    index = int(np.flatnonzero(ruler.grid.beats_ms == beats[target])[0])
    with qtbot.waitSignal(window.result_shown, timeout=20_000):
        right_click_menu_action(qtbot, ruler, ruler.menu_point(index), "Make this beat the 1")
    moved = json.loads(stored.read_text(encoding="utf-8"))["music"]
    assert moved["one_set_by"] == "coach"
    assert moved["counts"][0]["t_ms"] in (beats[target], beats[target - 8])
    assert count_at_beats(ruler)[beats[target]] == "1"
    assert window.player.result.music.counts_ms[0] == moved["counts"][0]["t_ms"]

    # L loops the 8-count playing; the picture shows a count playing.
    player = window.player
    middle = beats[target + 2] + 100.0
    player.seek_ms(middle)
    qtbot.waitUntil(lambda: player.index == player.result.frame_at(middle), timeout=5_000)
    window.activateWindow()  # the offscreen platform leaves it inactive after a popup
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    focus(qtbot, window.library.tree)
    press(qtbot, Qt.Key.Key_L)
    assert (player.loop_a, player.loop_b) == player.count_loop() != (None, None)
    save_ruler_picture(ruler, tmp_path / "count-ruler.png")


def save_ruler_picture(ruler: CountRuler, path: Path) -> None:
    """The ruler as drawn, to ``path``; also to ``$DANCE_DOCS_IMAGES`` when set.

    ``DANCE_DOCS_IMAGES=docs/images pytest tests/gui/test_counts.py -k window`` remakes
    the docs' picture from the real clip.
    """
    width = 900
    ruler.resize(width, max(ruler.height(), 56))
    picture = ruler.grab()
    assert picture.save(str(path))
    image = picture.toImage()
    highlight = QColor(240, 180, 40)
    assert any(
        QColor(image.pixel(x, y)) == highlight
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    ), "neither the playing count nor a phrase number was drawn"
    folder = os.environ.get("DANCE_DOCS_IMAGES")
    if folder:
        shutil.copyfile(path, Path(folder) / "count-ruler.png")
