"""The dance counts under the player: the count ruler, the 8-count loop and the click track.

A coach thinks in counts ("your arm is late on 5 of the second eight"), not in
milliseconds. :class:`CountRuler` draws the clip's beats and their counts 1–8 as a
strip that follows the playhead; it asks for the "1" to be moved (the analysis may
put it a beat off) but never moves it itself: the window asks the job service, which
rewrites the result, and hands the ruler the new counts. :class:`ClickTrack` clicks
the beats while the player runs slowed down, when the clip's own sound is muted.
"""

from __future__ import annotations

import logging
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from gui.result import Music

log = logging.getLogger(__name__)

#: How much the ruler shows: about two phrases, so the labels stay readable.
WINDOW_PHRASES = 2
#: The window without a tempo (no music): only the message is drawn, but keep it sane.
_DEFAULT_WINDOW_MS = 8_000.0
#: A right-click this close (px) to a beat names that beat.
_PICK_PX = 12.0

_REASONS = {
    "no_audio": "No sound in this clip",
    "silence": "The sound is silent",
    "too_short": "The sound is too short to count",
    "no_steady_beat": "No steady beat found",
}


def no_counts_message(music: Music | None) -> str:
    """Why there are no counts, in one quiet line."""
    if music is None:
        return "Counts appear once the clip is analysed"
    reason = _REASONS.get(music.reason or "", "No music found")
    return f"{reason}: no counts"


@dataclass(frozen=True)
class BeatGrid:
    """The music's beats with what the ruler writes under each.

    ``beats_ms``: (n,) ms, sorted. ``is_one``: (n,) the bar's downbeat. ``counts``:
    (n,) 1–8, 0 for a beat with no count (before the first "1"). ``phrases``: (n,)
    0-based, -1 where ``counts`` is 0.
    """

    beats_ms: npt.NDArray[np.float64]
    is_downbeat: npt.NDArray[np.bool_]
    counts: npt.NDArray[np.int64]
    phrases: npt.NDArray[np.int64]

    @classmethod
    def of(cls, music: Music | None) -> BeatGrid:
        if music is None or not music.present or music.beats_ms.size == 0:
            empty = np.zeros(0)
            return cls(empty, empty.astype(bool), empty.astype(np.int64), empty.astype(np.int64))
        beats = np.sort(music.beats_ms)
        return cls(
            beats,
            _matches(beats, music.downbeats_ms),
            _take(beats, music.counts_ms, music.count_numbers, 0),
            _take(beats, music.counts_ms, music.phrases, -1),
        )

    @property
    def present(self) -> bool:
        return bool(self.beats_ms.size)

    @property
    def beat_ms(self) -> float:
        """The typical beat length (ms); the median, so one odd gap does not matter."""
        if self.beats_ms.size < 2:
            return 500.0
        return float(np.median(np.diff(self.beats_ms)))

    @property
    def ones_ms(self) -> npt.NDArray[np.float64]:
        """The "1" of every phrase, in order."""
        return self.beats_ms[self.counts == 1]

    def beat_at(self, t_ms: float) -> int:
        """The beat playing at ``t_ms`` (the last at or before it), -1 before the first."""
        return int(np.searchsorted(self.beats_ms, t_ms + 1e-6, side="right")) - 1

    def nearest_beat(self, t_ms: float) -> int:
        """The beat closest to ``t_ms``; -1 without beats."""
        if not self.present:
            return -1
        right = int(np.searchsorted(self.beats_ms, t_ms))
        candidates = [i for i in (right - 1, right) if 0 <= i < self.beats_ms.size]
        return min(candidates, key=lambda i: abs(float(self.beats_ms[i]) - t_ms))

    def phrase_span(self, t_ms: float) -> tuple[float, float | None] | None:
        """(its "1", the next phrase's "1") of the phrase playing at ``t_ms``.

        Before the first "1", the first phrase (the coach is about to dance it). The
        end is None when the last phrase runs to the end of the clip.
        """
        ones = self.ones_ms
        if ones.size == 0:
            return None
        index = max(int(np.searchsorted(ones, t_ms + 1e-6, side="right")) - 1, 0)
        if index + 1 < ones.size:
            return float(ones[index]), float(ones[index + 1])
        # The last phrase: it ends on the beat after its last count, if there is one.
        counted = np.flatnonzero(self.counts > 0)
        after = int(counted[-1]) + 1 if counted.size else self.beats_ms.size
        end = float(self.beats_ms[after]) if after < self.beats_ms.size else None
        return float(ones[index]), end

    def window(self, t_ms: float) -> tuple[float, float]:
        """The span (ms) the ruler shows with the playhead at ``t_ms``.

        It starts half a beat before the "1" of the phrase playing, so the coach sees
        the phrase from its start and the next one coming; it moves on a phrase at a
        time (labels that stand still can be read while playing). Before the first
        "1" or without counts it keeps the playhead a quarter of the way in.
        """
        if not self.present:
            return t_ms - _DEFAULT_WINDOW_MS / 4, t_ms + _DEFAULT_WINDOW_MS * 3 / 4
        per_phrase = int(self.counts.max(initial=0)) or 8  # 8 counts, or 6 in 3/4
        span = WINDOW_PHRASES * per_phrase * self.beat_ms
        ones = self.ones_ms
        index = int(np.searchsorted(ones, t_ms + 1e-6, side="right")) - 1
        if index < 0:
            start = t_ms - span / 4
        else:
            start = float(ones[index]) - self.beat_ms / 2
            if t_ms > start + span * 0.9:  # a long phrase (a gap in the counts)
                start = t_ms - span / 4
        return start, start + span

    def beats_between(self, start_ms: float, end_ms: float) -> tuple[int, int]:
        """Indices [first, last) of the beats with ``start_ms <= t < end_ms``."""
        first = int(np.searchsorted(self.beats_ms, start_ms, side="left"))
        last = int(np.searchsorted(self.beats_ms, end_ms, side="left"))
        return first, max(first, last)


def _matches(
    beats: npt.NDArray[np.float64], marks: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """Which ``beats`` are one of ``marks`` (within a ms: the same beat written twice)."""
    out = np.zeros(beats.shape, dtype=bool)
    if marks.size == 0 or beats.size == 0:
        return out
    nearest = _nearest(beats, marks)
    close = np.abs(beats[nearest] - marks) <= 1.0
    out[nearest[close]] = True
    return out


def _take(
    beats: npt.NDArray[np.float64],
    marks: npt.NDArray[np.float64],
    values: npt.NDArray[np.int64],
    missing: int,
) -> npt.NDArray[np.int64]:
    """``values`` placed on the beat each of ``marks`` falls on, ``missing`` elsewhere."""
    out = np.full(beats.shape, missing, dtype=np.int64)
    if marks.size == 0 or beats.size == 0:
        return out
    nearest = _nearest(beats, marks)
    close = np.abs(beats[nearest] - marks) <= 1.0
    out[nearest[close]] = values[close]
    return out


def _nearest(
    beats: npt.NDArray[np.float64], marks: npt.NDArray[np.float64]
) -> npt.NDArray[np.intp]:
    right = np.clip(np.searchsorted(beats, marks), 0, beats.size - 1)
    left = np.clip(right - 1, 0, beats.size - 1)
    take_left = np.abs(beats[left] - marks) < np.abs(beats[right] - marks)
    return np.where(take_left, left, right)


@dataclass(frozen=True)
class Label:
    """One thing the ruler wrote, for the tests and for picking: where and what."""

    t_ms: float
    x: float
    text: str
    kind: str  # "count", "phrase"


class CountRuler(QWidget):
    """Beats, counts 1–8 and phrase numbers in a strip that follows the playhead.

    ``seek_requested(ms)`` on a left click; ``one_requested(ms)`` when the coach makes
    a beat the "1" (right-click menu); ``one_shift_requested(beats)`` for ``[``/``]``.
    """

    seek_requested = Signal(float)
    one_requested = Signal(float)
    one_shift_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Right-clicks come to mousePressEvent on every platform (the menu opens on the
        # press, as on Linux), never as a second, deferred context menu event.
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.setMinimumHeight(46)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip(
            "Counts of the music. Click to jump; right-click a beat to make it the 1; "
            "[ and ] move the 1 a beat earlier or later"
        )
        self.grid = BeatGrid.of(None)
        self.music: Music | None = None
        self.position_ms = 0.0
        self.duration_ms = 0.0
        self.message = no_counts_message(None)
        self.drawn_labels: list[Label] = []  # what the last paint wrote
        self.highlighted: Label | None = None  # the count playing, as last painted
        self._span = (0.0, _DEFAULT_WINDOW_MS)

    # --- data -----------------------------------------------------------------------

    def set_music(self, music: Music | None, duration_ms: float = 0.0) -> None:
        """New counts (a clip opened, or the "1" moved); ``None`` while not analysed."""
        self.music = music
        self.grid = BeatGrid.of(music)
        self.duration_ms = duration_ms
        self.message = "" if self.grid.present else no_counts_message(music)
        self._span = self.grid.window(self.position_ms)
        self.update()

    def clear(self) -> None:
        """No clip: nothing to count, nothing to say."""
        self.set_music(None)
        self.message = ""

    def set_position(self, t_ms: float) -> None:
        self.position_ms = t_ms
        self._span = self.grid.window(t_ms)
        self.update()

    @property
    def has_counts(self) -> bool:
        return bool((self.grid.counts > 0).any())

    @property
    def span(self) -> tuple[float, float]:
        """The ms the ruler shows, left edge to right edge."""
        return self._span

    def x_of(self, t_ms: float) -> float:
        start, end = self._span
        return (t_ms - start) / (end - start) * self.width()

    def ms_at(self, x: float) -> float:
        start, end = self._span
        return start + x / max(self.width(), 1) * (end - start)

    def beat_near(self, x: float) -> int:
        """The beat within a click of ``x``, or -1."""
        index = self.grid.nearest_beat(self.ms_at(x))
        if index < 0 or abs(self.x_of(float(self.grid.beats_ms[index])) - x) > _PICK_PX:
            return -1
        return index

    # --- the "1" --------------------------------------------------------------------

    def shift_one(self, beats: int) -> None:
        """``[``/``]``: ask for the "1" a beat earlier (-1) or later (+1)."""
        if self.has_counts and beats:
            self.one_shift_requested.emit(beats)

    def make_one(self, index: int) -> None:
        if 0 <= index < self.grid.beats_ms.size:
            self.one_requested.emit(float(self.grid.beats_ms[index]))

    def beat_menu(self, x: float) -> QMenu | None:
        """The right-click menu for the beat at ``x`` (None away from a beat)."""
        index = self.beat_near(x)
        if index < 0:
            return None
        menu = QMenu(self)
        action = menu.addAction("Make this beat the 1")
        action.triggered.connect(lambda: self.make_one(index))
        return menu

    # --- events ---------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if event.button() == Qt.MouseButton.LeftButton and self.duration_ms > 0:
            self.seek_requested.emit(min(max(self.ms_at(x), 0.0), self.duration_ms))
            event.accept()
        elif event.button() == Qt.MouseButton.RightButton:
            event.accept()
            self._open_menu(x, event.globalPosition().toPoint())
        else:
            super().mousePressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The menu key: the beat under the playhead."""
        x = self.x_of(self.position_ms)
        self._open_menu(x, self.mapToGlobal(QPoint(round(x), self.height() // 2)))

    def _open_menu(self, x: float, at: QPoint) -> None:
        menu = self.beat_menu(x)
        if menu is not None:
            menu.exec(at)
            menu.deleteLater()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(32, 32, 38))
        self.drawn_labels = []
        self.highlighted = None
        if not self.grid.present:
            painter.setPen(QColor(140, 140, 150))
            painter.drawText(
                self.rect().adjusted(8, 0, -8, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                self.message,
            )
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_beats(painter)
        x = self.x_of(self.position_ms)
        painter.setPen(QPen(QColor(230, 60, 60), 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))

    def _paint_beats(self, painter: QPainter) -> None:
        grid = self.grid
        start, end = self._span
        first, last = grid.beats_between(start, end)
        height = float(self.height())
        baseline = height - 4
        playing = grid.beat_at(self.position_ms)
        label_font = QFont(self.font())
        label_font.setPointSizeF(max(label_font.pointSizeF(), 8.0))
        phrase_font = QFont(label_font)
        phrase_font.setBold(True)
        metrics_h = painter.fontMetrics().height()
        for index in range(first, last):
            t = float(grid.beats_ms[index])
            x = self.x_of(t)
            downbeat = bool(grid.is_downbeat[index])
            count = int(grid.counts[index])
            tick = height * (0.45 if downbeat else 0.22)
            painter.setPen(QPen(QColor(235, 235, 240) if downbeat else QColor(130, 130, 145),
                                2.5 if downbeat else 1.0))  # fmt: skip
            painter.drawLine(QPointF(x, baseline), QPointF(x, baseline - tick))
            if count <= 0:
                continue
            text = str(count)
            box = QRectF(x - 10, baseline - tick - metrics_h - 1, 20, metrics_h)
            label = Label(t, x, text, "count")
            if index == playing:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(240, 180, 40))
                painter.drawRoundedRect(box.adjusted(1, 0, -1, 0), 4, 4)
                painter.setPen(QColor(20, 20, 24))
                self.highlighted = label
            else:
                painter.setPen(QColor(235, 235, 240) if count == 1 else QColor(170, 170, 185))
            painter.setFont(phrase_font if count == 1 else label_font)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
            self.drawn_labels.append(label)
            if count == 1:
                phrase = f"Phrase {int(grid.phrases[index]) + 1}"
                painter.setFont(phrase_font)
                painter.setPen(QColor(240, 180, 40))
                painter.drawText(QPointF(x + 4, metrics_h - 2), phrase)
                self.drawn_labels.append(Label(t, x, phrase, "phrase"))
        painter.setFont(self.font())

    def labels(self, kind: str = "count") -> list[Label]:
        """What a paint now writes (paints the ruler off screen first)."""
        self.grab()
        return [label for label in self.drawn_labels if label.kind == kind]

    def menu_point(self, index: int) -> QPoint:
        """Where beat ``index`` is on the ruler (the tests right-click there)."""
        return QPoint(round(self.x_of(float(self.grid.beats_ms[index]))), self.height() // 2)


# --- the click track ----------------------------------------------------------------

_CLICK_RATE = 44_100


def click_samples(hz: float, *, ms: float = 28.0, rate: int = _CLICK_RATE) -> npt.NDArray[np.int16]:
    """A short wood-block-like click: a sine at ``hz`` dying away fast."""
    t = np.arange(int(rate * ms / 1000.0)) / rate
    wave_ = np.sin(2 * np.pi * hz * t) * np.exp(-t / 0.006)
    return (np.clip(wave_ * 0.8, -1, 1) * 32767).astype("<i2")


def _write_wav(samples: npt.NDArray[np.int16], path: Path, rate: int = _CLICK_RATE) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


class ClickTrack:
    """Clicks on the beats as the slowed-down clock passes them, a higher one on a "1".

    Below 1× the clip's own sound is muted (stretched music helps nobody); the clicks
    keep the count at the slowed tempo. The player tells it where its clock starts
    (:meth:`restart`: play, seek, loop) and where it has got to (:meth:`advance`);
    only beats the clock ran over click, so a seek never rattles off the beats it
    jumped across. ``played`` keeps what was clicked, (ms, is_one), for the tests.
    """

    def __init__(self, owner: QWidget) -> None:
        self._owner = owner  # Qt parent of the sound effects
        self.grid = BeatGrid.of(None)
        self._from_ms: float | None = None
        self.played: list[tuple[float, bool]] = []
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._sounds: dict[bool, Any] = {}

    def set_music(self, music: Music | None) -> None:
        self.grid = BeatGrid.of(music)
        self._from_ms = None
        self.played = []
        if self.grid.present:
            self._load_sounds()

    @property
    def position_ms(self) -> float | None:
        """How far the clicks have got (None when stopped)."""
        return self._from_ms

    def restart(self, t_ms: float) -> None:
        """The clock (re)starts at ``t_ms``: a beat exactly there clicks next."""
        self._from_ms = t_ms

    def stop(self) -> None:
        self._from_ms = None

    def due(self, from_ms: float, to_ms: float) -> list[tuple[float, bool]]:
        """The beats the clock ran over going from ``from_ms`` to ``to_ms``, in order.

        Half-open, ``from_ms <= t < to_ms``, so consecutive calls click each beat once;
        nothing when the clock went back (a loop or a seek restarts instead).
        """
        if to_ms <= from_ms:
            return []
        first, last = self.grid.beats_between(from_ms, to_ms)
        return [
            (
                float(self.grid.beats_ms[i]),
                bool(self.grid.is_downbeat[i] or self.grid.counts[i] == 1),
            )
            for i in range(first, last)
        ]

    def advance(self, to_ms: float) -> list[tuple[float, bool]]:
        """The clock is now at ``to_ms``: click what it passed since the last call."""
        if self._from_ms is None:
            self._from_ms = to_ms
            return []
        clicks = self.due(self._from_ms, to_ms)
        self._from_ms = max(self._from_ms, to_ms)
        if clicks:
            self.played.extend(clicks)
            # Two beats in one tick (a stalled timer) would sound as one: click the last.
            self._play(clicks[-1][1])
        return clicks

    def close(self) -> None:
        for effect in self._sounds.values():
            effect.stop()
            effect.deleteLater()
        self._sounds = {}
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def _load_sounds(self) -> None:
        if self._sounds:
            return
        try:
            from PySide6.QtMultimedia import QSoundEffect

            self._folder = tempfile.TemporaryDirectory(prefix="dance-clicks-")
            for is_one, hz in ((False, 1_400.0), (True, 2_200.0)):
                path = _write_wav(click_samples(hz), Path(self._folder.name) / f"click{hz:g}.wav")
                effect = QSoundEffect(self._owner)
                effect.setSource(QUrl.fromLocalFile(str(path)))
                effect.setVolume(0.8)
                self._sounds[is_one] = effect
        except Exception:  # no multimedia backend or no audio device: count silently
            log.info("click track unavailable; counting silently", exc_info=True)
            self._sounds = {}

    def _play(self, is_one: bool) -> None:
        effect = self._sounds.get(is_one)
        if effect is None:
            return
        try:
            effect.play()
        except Exception:  # a device that went away mid-session
            log.debug("click not played", exc_info=True)
