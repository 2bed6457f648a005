"""The joint-angle plot as a coach reads it: picked joints, side colours, values, beats.

Real widgets offscreen; the result is the squats clip analysed by the real model
(``analysed_library``), or that clip over a drum groove analysed the same way (its
beats found by the real music analysis), with a music block or a long series made up
only where a case needs one the clips do not have.

``DANCE_DOCS_IMAGES=docs/images pytest tests/gui/test_angles_plot.py -k groove``
remakes the docs' picture (``angles-plot.png``) from the groove clip.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from dance_analysis.skeleton import SIDE_COLOURS, side_of
from gui.analysis_views import MID_CURVE_COLOUR, AnglesPlot, angle_parts
from gui.result import ClipResult
from tests.gui.conftest import analyse_into


@pytest.fixture
def squats_data(analysed_library: Path) -> dict[str, Any]:
    """The squats clip's result.json as the app reads it (no audio: no music)."""
    [path] = list(analysed_library.rglob("result.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def groove_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """13 s of the squats clip over a 104 BPM drum groove, analysed by the real model."""
    from tests.music.synth import drum_song, mux_under_video

    folder = tmp_path_factory.mktemp("groove")
    song = drum_song(104, seconds=13.0, offset_s=0.3)
    clip = mux_under_video(song.samples, folder / "squats_groove.mp4", seconds=13.0)
    analyse_into(folder / "data", clip.name, clip)
    [path] = list((folder / "data").rglob("result.json"))
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def angles(qtbot: Any) -> Iterator[AnglesPlot]:
    plot = AnglesPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 320)
    plot.show()
    qtbot.waitExposed(plot)
    yield plot
    plot.release()


def in_plot(angles: AnglesPlot, curve: Any) -> bool:
    return curve.scene() is angles.plot.scene() and curve.isVisible()


def click_box(qtbot: Any, angles: AnglesPlot, key: str) -> None:
    box = angles.boxes[key]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def long_result(seconds: float = 60.0, fps: float = 30.0) -> ClipResult:
    """A long clip's angles: knees a slow wave, hips a steady 150°."""
    t_ms = np.arange(0.0, seconds * 1000.0, 1000.0 / fps)
    knee = 120 + 40 * np.sin(t_ms / 700.0)
    series = {
        "left_knee": knee.tolist(), "right_knee": (knee - 5).tolist(),
        "left_hip": [150.0] * len(t_ms), "right_hip": [149.0] * len(t_ms),
    }  # fmt: skip
    return ClipResult.from_dict(
        {"frames": [{"t_ms": t} for t in t_ms], "angles": {"series": series}}
    )


def test_parts_group_left_and_right_in_a_coachs_order() -> None:
    names = ["right_elbow", "trunk", "left_knee", "left_hip", "right_knee", "right_hip",
             "left_elbow", "neck_tilt"]  # fmt: skip
    parts = angle_parts(names)
    assert [(p.key, p.label, p.series) for p in parts] == [
        ("knee", "Knee", ("left_knee", "right_knee")),
        ("hip", "Hip", ("left_hip", "right_hip")),
        ("elbow", "Elbow", ("left_elbow", "right_elbow")),
        ("trunk", "Trunk lean", ("trunk",)),
        ("neck_tilt", "Neck tilt", ("neck_tilt",)),  # one the app has no place for: last
    ]


def test_by_default_only_knees_and_hips_are_plotted(
    qtbot: Any, angles: AnglesPlot, squats_data: dict[str, Any]
) -> None:
    result = ClipResult.from_dict(squats_data)
    angles.set_result(result)

    assert [p.key for p in angles.parts] == ["knee", "hip", "ankle", "shoulder", "elbow", "trunk"]
    assert [angles.boxes[p.key].text() for p in angles.parts] == [
        "Knee", "Hip", "Ankle", "Shoulder", "Elbow", "Trunk lean",
    ]  # fmt: skip
    assert set(angles.curves) == set(result.angles)
    assert angles.shown_parts == ["knee", "hip"]
    shown = {name for name in result.angles if in_plot(angles, angles.curves[name])}
    assert shown == {"left_knee", "right_knee", "left_hip", "right_hip"}
    assert [key for key, box in angles.boxes.items() if box.isChecked()] == ["knee", "hip"]
    # The picker sits beside the plot, not over it.
    qtbot.waitUntil(
        lambda: angles.picker.geometry().right() < angles.plot.geometry().left(), timeout=5_000
    )
    assert angles.picker.width() >= angles.picker.widget().sizeHint().width()


def test_ticking_an_entry_shows_its_curves_and_unticking_hides_them(
    qtbot: Any, angles: AnglesPlot, squats_data: dict[str, Any]
) -> None:
    result = ClipResult.from_dict(squats_data)
    angles.set_result(result)
    seeks: list[float] = []
    angles.seek_requested.connect(seeks.append)

    click_box(qtbot, angles, "ankle")
    assert angles.shown_parts == ["knee", "hip", "ankle"]
    assert in_plot(angles, angles.curves["left_ankle"])
    assert in_plot(angles, angles.curves["right_ankle"])
    click_box(qtbot, angles, "knee")
    assert angles.shown_parts == ["hip", "ankle"]
    assert not in_plot(angles, angles.curves["left_knee"])
    assert not in_plot(angles, angles.curves["right_knee"])
    assert seeks == []  # ticking a joint is not a moment in time

    # The ankle row's angle axis fits the ankle curves (the time shown is the whole clip).
    ankles = np.concatenate([result.angles["left_ankle"], result.angles["right_ankle"]])
    view_box = angles.rows["ankle"].getViewBox()

    def fits() -> bool:
        low, high = view_box.viewRange()[1]
        span = np.nanmax(ankles) - np.nanmin(ankles)
        return bool(
            low <= np.nanmin(ankles) and high >= np.nanmax(ankles) and high - low < 1.5 * span
        )

    qtbot.waitUntil(fits, timeout=5_000)

    # The pick is the coach's: the next clip opens with the same joints.
    angles.set_result(ClipResult.from_dict(squats_data))
    assert angles.shown_parts == ["hip", "ankle"]
    assert not angles.boxes["knee"].isChecked() and angles.boxes["ankle"].isChecked()

    # Nothing ticked: a line says what to do instead of an empty frame.
    click_box(qtbot, angles, "hip")
    click_box(qtbot, angles, "ankle")
    assert angles.shown_parts == []
    assert angles.empty_note.scene() is angles.plot.scene()


def test_left_and_right_are_drawn_and_keyed_in_the_skeleton_colours(
    angles: AnglesPlot, squats_data: dict[str, Any]
) -> None:
    result = ClipResult.from_dict(squats_data)
    angles.set_result(result)
    for name in result.angles:
        side = side_of(name)
        expected = MID_CURVE_COLOUR if side == "mid" else SIDE_COLOURS[side]
        pen = angles.curves[name].opts["pen"]
        assert pen.color().getRgb()[:3] == expected, name
        dashed = pen.style() == Qt.PenStyle.DashLine
        assert dashed == (side == "right"), name  # told apart without colour too
        # The picker is the legend: its key is a stroke of the same pen.
        key = angles.keys[name].pixmap().toImage()
        assert key.pixelColor(4, 5).getRgb()[:3] == expected, name
    assert side_of("trunk") == "mid"
    assert QColor(*MID_CURVE_COLOUR).lightness() < 128  # visible on the white plot


def test_the_values_at_the_playhead_are_the_series_at_that_frame(
    angles: AnglesPlot, squats_data: dict[str, Any]
) -> None:
    data = copy.deepcopy(squats_data)
    data["angles"]["series"]["right_knee"][17] = None  # unmeasured in that frame
    result = ClipResult.from_dict(data)
    angles.set_result(result)

    for index in (0, 17, 40, result.frame_count - 1):
        angles.set_cursor_ms(float(result.t_ms[index]) + 1.0)  # inside the frame
        left, right = result.angles["left_knee"][index], result.angles["right_knee"][index]
        right_text = "–" if np.isnan(right) else f"{right:.0f}°"
        assert angles.readout("knee") == f"Knee  L {left:.0f}°  R {right_text}"
        hip = result.angles["left_hip"][index]
        assert angles.readout("hip").startswith(f"Hip  L {hip:.0f}°  R ")
        assert angles.readout("ankle") == "Ankle"  # not ticked: no values
    angles.set_cursor_ms(float(result.t_ms[17]))
    assert angles.readout("knee").endswith("R –")

    angles.boxes["trunk"].setChecked(True)
    trunk = result.angles["trunk"][17]
    assert angles.readout("trunk") == f"Trunk lean  {trunk:.0f}°"


def test_a_short_clip_is_shown_whole(angles: AnglesPlot, squats_data: dict[str, Any]) -> None:
    result = ClipResult.from_dict(squats_data)
    angles.set_result(result)
    first, last = float(result.t_ms[0]) / 1000, float(result.t_ms[-1]) / 1000
    assert angles.x_range == pytest.approx((first, last))
    for index in range(result.frame_count):
        angles.set_cursor_ms(float(result.t_ms[index]))
        assert angles.x_range == pytest.approx((first, last))


def test_on_a_long_clip_the_window_follows_the_playhead(qtbot: Any, angles: AnglesPlot) -> None:
    result = long_result(seconds=60.0)
    angles.set_result(result)
    assert angles.x_range == pytest.approx((0.0, AnglesPlot.WINDOW_S))
    starts = set()
    for t_ms in result.t_ms:  # playing through, frame by frame
        angles.set_cursor_ms(float(t_ms))
        left, right = angles.x_range or (np.nan, np.nan)
        assert left <= t_ms / 1000 <= right
        assert right - left == pytest.approx(AnglesPlot.WINDOW_S)
        starts.add(round(left, 3))
    assert 6 <= len(starts) <= 12  # turned page by page, not scrolled every frame
    # Every row really shows that time.
    for key in angles.shown_parts:
        x_low, x_high = angles.rows[key].getViewBox().viewRange()[0]
        assert (x_low, x_high) == pytest.approx(angles.x_range)
    # A seek back brings the window back.
    angles.set_cursor_ms(5_000.0)
    left, right = angles.x_range or (np.nan, np.nan)
    assert left <= 5.0 <= right

    # The coach zooms in with the wheel over the knee row: both rows show less time,
    # the same time; the page still turns with the playhead at that zoom.
    view_box = angles.rows["knee"].getViewBox()
    centre = angles.plot.mapFromScene(view_box.sceneBoundingRect().center())
    for _ in range(3):
        wheel = QWheelEvent(
            QPointF(centre), QPointF(angles.plot.viewport().mapToGlobal(centre)),
            QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
        )  # fmt: skip
        QApplication.sendEvent(angles.plot.viewport(), wheel)
    left, right = angles.x_range or (np.nan, np.nan)
    assert right - left < AnglesPlot.WINDOW_S * 0.8
    assert angles.rows["hip"].getViewBox().viewRange()[0] == pytest.approx([left, right])
    zoomed = right - left
    angles.set_cursor_ms(40_000.0)
    left, right = angles.x_range or (np.nan, np.nan)
    assert left <= 40.0 <= right and right - left == pytest.approx(zoomed)


def test_beat_lines_stand_at_the_beats_when_there_is_music(
    angles: AnglesPlot, squats_data: dict[str, Any]
) -> None:
    # The squats clip has no audio: no lines.
    angles.set_result(ClipResult.from_dict(squats_data))
    for beats, downbeats in angles.beat_lines.values():
        for lines in (beats, downbeats):
            x, _ = lines.getData()
            assert x is None or len(x) == 0

    beats_ms = [500.0 + k * 600.0 for k in range(20)]  # 100 bpm, bars of 4 from 0.5 s
    downbeats_ms = beats_ms[::4]
    data = copy.deepcopy(squats_data)
    data["music"] = {"present": True, "beats_ms": beats_ms, "downbeats_ms": downbeats_ms}
    angles.set_result(ClipResult.from_dict(data))
    assert set(angles.beat_lines) == {p.key for p in angles.parts}
    for key, (beats, downbeats) in angles.beat_lines.items():
        x_beats, y_beats = beats.getData()
        x_down, _ = downbeats.getData()
        # One line per beat, drawn once: a downbeat in the stronger item only.
        assert x_beats[0::2] == pytest.approx(x_beats[1::2])
        assert x_down[0::2] == pytest.approx(x_down[1::2])
        assert x_beats[0::2] == pytest.approx([t / 1000 for t in beats_ms if t not in downbeats_ms])
        assert x_down[0::2] == pytest.approx([t / 1000 for t in downbeats_ms])
        assert beats.opts["connect"] == "pairs" and downbeats.opts["connect"] == "pairs"
        # Each line crosses the whole row, and the lines do not stretch its angle axis.
        if key in angles.shown_parts:
            low, high = angles.rows[key].getViewBox().viewRange()[1]
            assert min(y_beats) < low and max(y_beats) > high
            assert high - low < 360
        strong = downbeats.opts["pen"]
        assert strong.widthF() > beats.opts["pen"].widthF()
        assert QColor(strong.color()).lightness() < QColor(beats.opts["pen"].color()).lightness()


def test_a_click_on_a_row_seeks_to_that_time(
    qtbot: Any, angles: AnglesPlot, squats_data: dict[str, Any]
) -> None:
    result = ClipResult.from_dict(squats_data)
    angles.set_result(result)
    seeks: list[float] = []
    angles.seek_requested.connect(seeks.append)
    for key, index in (("knee", 30), ("hip", 50)):
        view_box = angles.rows[key].getViewBox()
        low, high = view_box.viewRange()[1]
        scene = view_box.mapViewToScene(QPointF(result.t_ms[index] / 1000, (low + high) / 2))
        qtbot.mouseClick(
            angles.plot.viewport(), Qt.MouseButton.LeftButton,
            pos=angles.plot.mapFromScene(scene),
        )  # fmt: skip
        assert len(seeks) == 1
        # Within a pixel of the frame's time.
        pixel_ms = 1000 * (view_box.viewRange()[0][1] - view_box.viewRange()[0][0])
        pixel_ms /= view_box.sceneBoundingRect().width()
        assert seeks.pop() == pytest.approx(result.t_ms[index], abs=2 * pixel_ms)


def test_a_groove_clips_beat_lines_stand_at_its_analysed_beats(
    qtbot: Any, angles: AnglesPlot, groove_data: dict[str, Any], tmp_path: Path
) -> None:
    result = ClipResult.from_dict(groove_data)
    music = result.music
    assert music.present and music.beats_ms.size >= 16, "no beats found in the groove"
    angles.resize(960, 300)
    angles.set_result(result)
    angles.set_cursor_ms(float(result.t_ms[result.frame_count * 2 // 5]))
    for beats, downbeats in angles.beat_lines.values():
        x_beats, _ = beats.getData()
        x_down, _ = downbeats.getData()
        assert x_down[0::2] == pytest.approx(music.downbeats_ms / 1000)
        drawn = {round(float(x), 6) for x in np.concatenate([x_beats, x_down])}
        assert sorted(drawn) == pytest.approx(sorted(music.beats_ms / 1000))

    # The picture: a downbeat's line is painted across the whole knee row.
    qtbot.waitUntil(lambda: angles.rows["knee"].getViewBox().width() > 100, timeout=5_000)
    picture = angles.grab().toImage()
    view_box = angles.rows["knee"].getViewBox()
    box = view_box.sceneBoundingRect()
    beat_x = view_box.mapViewToScene(QPointF(float(music.downbeats_ms[1]) / 1000, 0)).x()
    top = angles.plot.mapTo(angles, angles.plot.mapFromScene(QPointF(beat_x, box.top())))
    bottom = angles.plot.mapTo(angles, angles.plot.mapFromScene(QPointF(beat_x, box.bottom())))

    def lavender(x: int, y: int) -> bool:  # no curve, grid line or playhead is this hue
        colour = picture.pixelColor(x, y)
        return colour.blue() > colour.red() > colour.green() + 8

    column = [
        any(lavender(top.x() + dx, y) for dx in (-1, 0, 1))
        for y in range(top.y() + 2, bottom.y() - 2)
    ]
    assert sum(column) > 0.8 * len(column)
    path = tmp_path / "angles-plot.png"
    assert picture.save(str(path))
    folder = os.environ.get("DANCE_DOCS_IMAGES")
    if folder:
        shutil.copyfile(path, Path(folder) / "angles-plot.png")
