"""The player: frame-accurate stepping, scrubbing, speed, A–B loop, mirror, live skeleton.

The other people in the frame (people.json) are drawn faintly; clicking one offers
"Analyse this dancer", which the window turns into a re-analysis about them.

Frames come from :class:`gui.frames.FrameServer` (a decoder thread); the skeleton is
drawn by :class:`VideoCanvas` from the result's landmarks each time a frame is
painted, so it can be restyled or hidden without re-encoding anything. Playback is
a GUI-thread timer that asks for the frame due at the current clock; a frame still
being decoded is never asked for twice, so a slow decoder drops frames rather than
falling behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from dance_analysis.skeleton import SIDE_COLOURS, side_of
from gui.counts import ClickTrack, CountRuler
from gui.frames import FrameServer, open_decoder
from gui.result import ClipResult, OtherPerson

if TYPE_CHECKING:
    from dance_analysis.video.frames import FrameDecoder

log = logging.getLogger(__name__)

SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
# The overlay video's palette: the dancer's left warm, right cool, the midline white.
SIDE_COLORS = {side: QColor(*rgb) for side, rgb in SIDE_COLOURS.items()}
# A second dancer drawn over the first (the teacher's ghost): one colour far from both sides.
GHOST_COLOR = QColor(60, 230, 120)
# The other people in the frame: thin, grey and translucent, as in the overlay video.
OTHERS_COLOR = QColor(200, 200, 200, 115)
ANALYSE_DANCER = "Analyse this dancer"
_TICK_MS = 10


def format_ms(t_ms: float) -> str:
    total = max(t_ms, 0.0) / 1000.0
    minutes, seconds = divmod(total, 60.0)
    return f"{int(minutes):02d}:{seconds:06.3f}"


class VideoCanvas(QWidget):
    """One picture, fitted to the widget, with the skeleton drawn over it.

    ``person_clicked(id, global position)``: a click on one of the other people.
    """

    person_clicked = Signal(int, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._image: QImage | None = None
        self.message = "Choose a clip in the library"  # shown while there is no picture
        self._points: npt.NDArray[np.float64] | None = None  # (k, 2), normalised
        self._bones: tuple[tuple[int, int], ...] = ()
        self._joints: tuple[str, ...] = ()  # names, for each point's side
        self.mirrored = False
        self.overlay = True
        self.drawn_points: list[QPointF] = []  # widget coordinates of the last paint
        self._ghost: npt.NDArray[np.float64] | None = None  # (k, 2), normalised, or None
        self.ghost_color = GHOST_COLOR
        self.drawn_ghost_points: list[QPointF] = []  # the ghost's joints at the last paint
        self._others: tuple[OtherPerson, ...] = ()
        self.drawn_other_points: list[QPointF] = []  # the others' joints at the last paint
        # Drawings of the window's own over the picture (the coach's marks, gui.marks):
        # painted last, skeleton shown or not; ``click_taker`` may claim a left click.
        self.drawings: Callable[[QPainter], None] | None = None
        self.click_taker: Callable[[QPointF], bool] | None = None

    def set_others(self, others: tuple[OtherPerson, ...]) -> None:
        """The other people of the frame on screen, drawn faintly under the dancer."""
        self._others = others
        self.update()

    def box_rect(self, box: tuple[float, float, float, float]) -> QRectF:
        """A normalised box in widget coordinates (mirroring applied)."""
        a, b = self.to_widget(box[0], box[1]), self.to_widget(box[2], box[3])
        return QRectF(a, b).normalized()

    def person_at(self, point: QPointF) -> int | None:
        """The other person under ``point`` (widget coordinates); the smallest box wins
        where boxes overlap (the person further back is the one clearly aimed at)."""
        if not self.overlay or self._image is None:
            return None
        hits = [
            (self.box_rect(person.box), person.id)
            for person in self._others
            if self.box_rect(person.box).contains(point)
        ]
        if not hits:
            return None
        return min(hits, key=lambda hit: hit[0].width() * hit[0].height())[1]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            if self.click_taker is not None and self.click_taker(event.position()):
                event.accept()
                return
            person = self.person_at(event.position())
            if person is not None:
                self.person_clicked.emit(person, event.globalPosition().toPoint())
                event.accept()
                return
        super().mousePressEvent(event)

    def show_frame(
        self,
        image: QImage | None,
        points: npt.NDArray[np.float64] | None,
        bones: tuple[tuple[int, int], ...],
        joints: tuple[str, ...] = (),
    ) -> None:
        self._image = image
        self._points = points
        self._bones = bones
        self._joints = joints
        self.update()

    def set_ghost(self, points: npt.NDArray[np.float64] | None) -> None:
        """A second skeleton (same bones) in :attr:`ghost_color`; None hides it.

        Drawn under the dancer's own skeleton, so the student's joints stay readable
        where the two meet; hidden with it when the overlay is off.
        """
        self._ghost = points
        self.update()

    def _side(self, index: int) -> str:
        return side_of(self._joints[index]) if index < len(self._joints) else "mid"

    @property
    def image(self) -> QImage | None:
        return self._image

    def image_rect(self) -> QRectF:
        """Where the picture lies in the widget (aspect ratio kept, centred)."""
        if self._image is None or self._image.isNull():
            return QRectF()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def to_widget(self, x: float, y: float) -> QPointF:
        rect = self.image_rect()
        if self.mirrored:
            x = 1.0 - x
        return QPointF(rect.x() + x * rect.width(), rect.y() + y * rect.height())

    def to_picture(self, point: QPointF) -> tuple[float, float] | None:
        """A widget point as ``(x, y)`` normalised on the upright picture (mirroring
        undone); None on the bars beside or above the picture, or with no picture."""
        rect = self.image_rect()
        if rect.isEmpty():
            return None
        x = (point.x() - rect.x()) / rect.width()
        y = (point.y() - rect.y()) / rect.height()
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return None
        return (1.0 - x if self.mirrored else x), y

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(20, 20, 24))
        self.drawn_points = []
        self.drawn_ghost_points = []
        self.drawn_other_points = []
        if self._image is None:
            painter.setPen(QColor(160, 160, 170))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        rect = self.image_rect()
        painter.save()
        if self.mirrored:
            painter.translate(rect.x() + rect.width(), rect.y())
            painter.scale(-1.0, 1.0)
            painter.drawImage(QRectF(0, 0, rect.width(), rect.height()), self._image)
        else:
            painter.drawImage(rect, self._image)
        painter.restore()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.overlay:
            self._paint_people(painter, rect)
        if self.drawings is not None:
            self.drawings(painter)

    def _paint_people(self, painter: QPainter, rect: QRectF) -> None:
        """The others faintly, the ghost, then the dancer's skeleton."""
        width = max(2.0, rect.width() / 150.0)
        for person in self._others:
            faint = self._widget_points(person.points)
            self._draw_skeleton(
                painter, faint, max(1.0, width / 2.5), lambda _i: OTHERS_COLOR, OTHERS_COLOR
            )
            self.drawn_other_points += [p for p in faint if p is not None]
        if self._ghost is not None:
            ghost = self._widget_points(self._ghost)
            self._draw_skeleton(
                painter, ghost, width, lambda _i: self.ghost_color, self.ghost_color
            )
            self.drawn_ghost_points = [p for p in ghost if p is not None]
        if self._points is None:
            return
        widget_points = self._widget_points(self._points)
        self._draw_skeleton(
            painter, widget_points, width, lambda i: SIDE_COLORS[self._side(i)], SIDE_COLORS["mid"]
        )
        self.drawn_points = [p for p in widget_points if p is not None]

    def _widget_points(self, points: npt.NDArray[np.float64]) -> list[QPointF | None]:
        return [
            None if np.isnan(x) or np.isnan(y) else self.to_widget(float(x), float(y))
            for x, y in points
        ]

    def _draw_skeleton(
        self,
        painter: QPainter,
        widget_points: list[QPointF | None],
        width: float,
        color_of: Callable[[int], QColor],
        between: QColor,
    ) -> None:
        """Bones (a bone joining two colours takes ``between``), then joints."""
        for a, b in self._bones:
            if a < len(widget_points) and b < len(widget_points):
                pa, pb = widget_points[a], widget_points[b]
                if pa is not None and pb is not None:
                    color = color_of(a) if color_of(a) == color_of(b) else between
                    painter.setPen(
                        QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
                    )
                    painter.drawLine(pa, pb)
        painter.setPen(Qt.PenStyle.NoPen)
        for index, point in enumerate(widget_points):
            if point is not None:
                painter.setBrush(color_of(index))
                painter.drawEllipse(point, width * 1.2, width * 1.2)


class _Audio:
    """The clip's sound through QtMultimedia, at 1× only; absent or broken audio is ignored."""

    def __init__(self, owner: QWidget) -> None:
        self._owner = owner  # Qt parent of the media objects: Qt deletes them, not the GC
        self._player: Any = None
        self._output: Any = None

    def open(self, path: Path, has_audio: bool) -> None:
        self.close()
        if not has_audio:
            return
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._output = QAudioOutput(self._owner)
            self._player = QMediaPlayer(self._owner)
            self._player.setAudioOutput(self._output)
            self._player.setSource(QUrl.fromLocalFile(str(path)))
        except Exception:  # no multimedia backend or no audio device: play silently
            log.info("audio unavailable; playing without sound", exc_info=True)
            self._player = self._output = None

    def play(self, t_ms: float, speed: float) -> None:
        if self._player is None:
            return
        if speed != 1.0:  # pitch-shifted sound helps nobody: silent off normal speed
            self._player.pause()
            return
        self._player.setPosition(int(t_ms))
        self._player.play()

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()

    def close(self) -> None:
        """Let go of the player: Qt stops and frees it from the event loop.

        Not ``stop()`` or ``setSource()`` from here: with the FFmpeg backend they wait
        for the playback thread, which may be tearing down an object connected to our
        QAudioOutput and so needs the GIL this Python code holds (PySide looks for a
        Python ``disconnectNotify``). A suite run hung there for good. From the event
        loop no Python code holds the GIL, and the thread finishes.
        """
        if self._player is not None:
            self._player.deleteLater()
            self._output.deleteLater()
        self._player = self._output = None


class PlayerView(QWidget):
    """Video with controls. ``position_changed(index, t_ms)`` whenever a new frame shows."""

    position_changed = Signal(int, float)
    clip_failed = Signal(str)
    dancer_requested = Signal(int)  # "Analyse this dancer" on another person: their id

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        decoder_factory: Callable[[Path], FrameDecoder] = open_decoder,
    ) -> None:
        super().__init__(parent)
        self.canvas = VideoCanvas(self)
        self.canvas.person_clicked.connect(self._on_canvas_person_clicked)
        self._server = FrameServer(decoder_factory)
        self._generation = 0  # of the clip this player shows (see FrameServer)
        self._server.opened.connect(self._on_server_opened)
        self._server.frame_decoded.connect(self._on_server_frame_decoded)
        self._server.failed.connect(self._on_server_failed)
        self._audio = _Audio(self)
        self.clicks = ClickTrack(self)  # the beats, heard below 1× where the sound is muted

        self._t_ms: npt.NDArray[np.float64] = np.zeros(0)
        self._result: ClipResult | None = None
        self._path: Path | None = None
        self._has_audio = False
        self.index = -1  # the frame on screen
        self._requested = -1
        self.speed = 1.0
        self.loop_a: int | None = None
        self.loop_b: int | None = None
        self._count_looping = False  # the loop was set by "Loop 8-count" (L stops it)
        self._playing = False
        self._clock_wall = 0.0
        self._clock_ms = 0.0

        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause (Space)")
        self.play_button.clicked.connect(self.toggle_play)
        self.back_button = QPushButton("◀ Frame")
        self.back_button.setToolTip("One frame back (Left arrow or ,)")
        self.back_button.clicked.connect(lambda: self.step(-1))
        self.forward_button = QPushButton("Frame ▶")
        self.forward_button.setToolTip("One frame forward (Right arrow or .)")
        self.forward_button.clicked.connect(lambda: self.step(1))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.speed_box = QComboBox()
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(self._on_speed_box_changed)
        self.a_button = QPushButton("A")
        self.a_button.setToolTip("Loop start: the current frame (A)")
        self.a_button.clicked.connect(self.set_loop_a)
        self.b_button = QPushButton("B")
        self.b_button.setToolTip("Loop end: the current frame (B)")
        self.b_button.clicked.connect(self.set_loop_b)
        self.clear_loop_button = QPushButton("No loop")
        self.clear_loop_button.clicked.connect(self.clear_loop)
        self.count_loop_button = QPushButton("Loop 8-count")
        self.count_loop_button.setToolTip(
            "Loop the 8-count under the playhead, from its 1 to the next 1 (L); again to stop"
        )
        self.count_loop_button.clicked.connect(self.toggle_count_loop)
        self.ruler = CountRuler()
        self.ruler.seek_requested.connect(self.seek_ms)
        self.mirror_box = QCheckBox("Mirror")
        self.mirror_box.toggled.connect(self._on_mirror_toggled)
        self.overlay_box = QCheckBox("Skeleton")
        self.overlay_box.setChecked(True)
        self.overlay_box.toggled.connect(self._on_overlay_toggled)
        self.time_label = QLabel("00:00.000 / 00:00.000")
        self.frame_label = QLabel("Frame – / –")
        self.loop_label = QLabel("")

        # Clicking a control must not take the keyboard from the player: a focused
        # button would take Space for itself and the slider would take the arrows.
        for control in (
            self.play_button, self.back_button, self.forward_button, self.slider,
            self.speed_box, self.a_button, self.b_button, self.clear_loop_button,
            self.count_loop_button, self.mirror_box, self.overlay_box, self.ruler,
        ):  # fmt: skip
            control.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        controls = QHBoxLayout()
        for button in (self.back_button, self.play_button, self.forward_button):
            controls.addWidget(button)
        controls.addWidget(self.speed_box)
        for widget in (
            self.a_button, self.b_button, self.clear_loop_button, self.count_loop_button
        ):  # fmt: skip
            controls.addWidget(widget)
        controls.addWidget(self.loop_label)
        controls.addStretch(1)
        controls.addWidget(self.mirror_box)
        controls.addWidget(self.overlay_box)
        readout = QHBoxLayout()
        readout.addWidget(self.slider, 1)
        readout.addWidget(self.time_label)
        readout.addWidget(self.frame_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.ruler)
        layout.addLayout(readout)
        layout.addLayout(controls)

        self._set_enabled(False)

    def add_shortcuts(self, scope: QWidget) -> list[QShortcut]:
        """The player's keys, working whenever ``scope`` (the Studio tab) is on screen.

        Arrows (or , and .) step one frame, Space plays or pauses, Home and End jump
        to the first and last frame, A and B set the loop, L loops the 8-count under
        the playhead, [ and ] ask for the "1" a beat earlier or later. Shortcuts rather than key
        presses: a key press goes to whichever widget has the focus (the library, the
        plot, the tab bar just clicked), so the keys worked only after clicking the
        picture. Window-wide, as Qt ignores the shortcuts of a hidden widget: they
        rest while another tab is shown. A text field still gets its typing: it
        claims keys before shortcuts see them.
        """
        actions: dict[Qt.Key, Callable[[], None]] = {
            Qt.Key.Key_Left: lambda: self.step(-1),
            Qt.Key.Key_Right: lambda: self.step(1),
            Qt.Key.Key_Comma: lambda: self.step(-1),
            Qt.Key.Key_Period: lambda: self.step(1),
            Qt.Key.Key_Space: self.toggle_play,
            Qt.Key.Key_Home: lambda: self.seek_frame(0),
            Qt.Key.Key_End: lambda: self.seek_frame(self.frame_count - 1),
            Qt.Key.Key_A: self.set_loop_a,
            Qt.Key.Key_B: self.set_loop_b,
            Qt.Key.Key_L: self.toggle_count_loop,
            Qt.Key.Key_BracketLeft: lambda: self.ruler.shift_one(-1),
            Qt.Key.Key_BracketRight: lambda: self.ruler.shift_one(1),
        }
        once = (Qt.Key.Key_Space, Qt.Key.Key_A, Qt.Key.Key_B, Qt.Key.Key_L,
                Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight)  # fmt: skip
        shortcuts = []
        for key, action in actions.items():
            shortcut = QShortcut(QKeySequence(key), scope)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.setAutoRepeat(key not in once)
            shortcut.activated.connect(action)
            shortcuts.append(shortcut)
        return shortcuts

    def add_tools(self, tools: QWidget) -> None:
        """A row of the window's own under the controls (the marks' toolbar)."""
        layout = self.layout()
        assert layout is not None
        layout.addWidget(tools)

    # --- opening --------------------------------------------------------------------

    def open_clip(self, path: Path, result: ClipResult | None, *, has_audio: bool = False) -> None:
        """Show ``path`` from its first frame; ``result`` (may be None) gives the skeleton."""
        self.pause()
        self._path = path
        self._result = result
        self._has_audio = has_audio
        self.index = self._requested = -1
        self.clear_loop()
        self._audio.close()
        self._show_nothing(f"Loading {path.name}…")
        self._show_counts()
        self._generation = self._server.open(path)

    def show_loading(self, name: str) -> None:
        """Another clip was chosen: the old picture goes at once, the new one is coming."""
        self.pause()
        self._audio.close()
        self._path = None
        self._result = None
        self._generation = -1  # whatever the decoder still sends is stale
        self._show_nothing(f"Loading {name}…")

    def set_result(self, result: ClipResult | None) -> None:
        """A result that arrived for the clip already open (the analysis just finished)."""
        self._result = result
        self._show_counts()
        if self.index >= 0:
            self._requested = -1
            self.seek_frame(self.index)

    @property
    def result(self) -> ClipResult | None:
        return self._result

    @property
    def frame_count(self) -> int:
        return int(self._t_ms.shape[0])

    @property
    def current_ms(self) -> float:
        return float(self._t_ms[self.index]) if 0 <= self.index < self.frame_count else 0.0

    def close_clip(self) -> None:
        self.pause()
        self._audio.close()
        self._path = None
        self._result = None
        self._generation = -1
        self._show_nothing("Choose a clip in the library")

    def _show_nothing(self, message: str) -> None:
        self.ruler.clear()
        self.clicks.set_music(None)
        self.count_loop_button.setEnabled(False)
        self._t_ms = np.zeros(0)
        self.index = self._requested = -1
        self.canvas.message = message
        self.canvas.set_others(())
        self.canvas.show_frame(None, None, ())
        self._set_enabled(False)
        self._update_readout()

    # --- moving ---------------------------------------------------------------------

    def seek_frame(self, index: int) -> None:
        if self.frame_count == 0:
            return
        index = min(max(index, 0), self.frame_count - 1)
        if self._playing:
            self._clock_ms = float(self._t_ms[index])
            self._clock_wall = time.monotonic()
            self._restart_sound()
        self._request(index)

    def seek_ms(self, t_ms: float) -> None:
        if self.frame_count == 0:
            return
        index = int(np.searchsorted(self._t_ms, t_ms + 1e-6, side="right")) - 1
        self.seek_frame(max(index, 0))

    def step(self, frames: int) -> None:
        self.pause()
        base = self._requested if self._requested >= 0 else self.index
        self.seek_frame(base + frames)

    def play(self) -> None:
        if self.frame_count == 0 or self._playing:
            return
        start = max(self.index, 0)
        if start >= self.frame_count - 1 and self._loop_range() is None:
            start = 0  # at the end: play again from the start
        self._playing = True
        self._clock_ms = float(self._t_ms[start])
        self._clock_wall = time.monotonic()
        self.play_button.setText("Pause")
        self._restart_sound()
        self._timer.start()

    def pause(self) -> None:
        self._timer.stop()
        if self._playing:
            self._playing = False
            self._audio.pause()
        self.clicks.stop()
        self.play_button.setText("Play")

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    @property
    def playing(self) -> bool:
        return self._playing

    def set_speed(self, speed: float) -> None:
        self.speed_box.setCurrentIndex(SPEEDS.index(speed))

    def set_loop_a(self) -> None:
        self._count_looping = False
        self.loop_a = max(self.index, 0)
        self._update_loop_label()

    def set_loop_b(self) -> None:
        self._count_looping = False
        self.loop_b = max(self.index, 0)
        self._update_loop_label()

    def clear_loop(self) -> None:
        self._count_looping = False
        self.loop_a = self.loop_b = None
        self._update_loop_label()

    def count_loop(self) -> tuple[int, int] | None:
        """The frames of the 8-count under the playhead: its "1" to the frame before the next.

        The "1"'s frame is the one on screen when the beat falls, so it belongs to the
        new phrase: the phrase is the one playing at the last moment this frame shows.
        None without counts.
        """
        if self._result is None or self.frame_count == 0:
            return None
        index = max(self.index, 0)
        shown_until = (
            float(self._t_ms[index + 1]) - 1e-3 if index + 1 < self.frame_count else self.current_ms
        )
        span = self.ruler.grid.phrase_span(shown_until)
        if span is None:
            return None
        one_ms, next_ms = span
        last = self.frame_count - 1
        start = self._frame_at(one_ms)
        end = last if next_ms is None else self._frame_at(next_ms) - 1
        end = min(end, last)
        return (start, end) if start < end else None

    def toggle_count_loop(self) -> None:
        """L: loop the 8-count playing; again (with that loop on) to stop looping."""
        if self._count_looping:
            self.clear_loop()
            return
        chosen = self.count_loop()
        if chosen is None:
            return
        self.loop_a, self.loop_b = chosen
        self._update_loop_label()
        self._count_looping = True

    @property
    def decoded(self) -> int:
        """Pictures decoded for the clip on screen (the tests count them)."""
        return self._server.decoded

    def shutdown(self) -> None:
        """Stop the clock, the audio and the decoder thread."""
        self.pause()
        self._audio.close()
        self.clicks.close()
        self._server.stop()

    # --- internals ------------------------------------------------------------------

    def _loop_range(self) -> tuple[int, int] | None:
        if self.loop_a is None or self.loop_b is None or self.loop_a >= self.loop_b:
            return None
        return self.loop_a, self.loop_b

    def _frame_at(self, t_ms: float) -> int:
        """The frame on screen at ``t_ms`` (the last one that started at or before it)."""
        index = int(np.searchsorted(self._t_ms, t_ms + 1e-6, side="right")) - 1
        return min(max(index, 0), self.frame_count - 1)

    def _restart_sound(self) -> None:
        """The clock (re)started at ``_clock_ms``: the clip's sound at 1×, clicks below."""
        self._audio.play(self._clock_ms, self.speed)
        self.clicks.restart(self._clock_ms)

    def _show_counts(self) -> None:
        music = self._result.music if self._result is not None else None
        duration = float(self._t_ms[-1]) if self.frame_count else 0.0
        self.ruler.set_music(music, duration)
        self.ruler.set_position(self.current_ms)
        self.clicks.set_music(music)
        self.count_loop_button.setEnabled(self.frame_count > 0 and self.ruler.has_counts)
        if self._count_looping:  # the "1" moved: loop the phrase as it is counted now
            chosen = self.count_loop()
            if chosen is None:
                self.clear_loop()
            else:
                self.loop_a, self.loop_b = chosen
                self._update_loop_label()

    def _request(self, index: int) -> None:
        if index == self._requested:
            return
        self._requested = index
        self._server.request(index)

    def _on_timer_timeout(self) -> None:
        if not self._playing or self.frame_count == 0:
            return
        now_ms = self._clock_ms + (time.monotonic() - self._clock_wall) * 1000.0 * self.speed
        loop = self._loop_range()
        last = self.frame_count - 1
        end_index = loop[1] if loop else last
        frame_ms = float(self._t_ms[1] - self._t_ms[0]) if self.frame_count > 1 else 40.0
        end_ms = float(self._t_ms[end_index]) + frame_ms
        if self.speed < 1.0:  # the clicks keep time even while a frame is still decoding
            self.clicks.advance(min(now_ms, end_ms))
        if self._requested != self.index:
            return  # still decoding the last frame asked for: drop rather than queue
        if now_ms >= end_ms:
            if loop is None:
                self._request(last)
                self.pause()
                return
            self._clock_ms = float(self._t_ms[loop[0]])
            self._clock_wall = time.monotonic()
            self._restart_sound()
            self._request(loop[0])
            return
        index = int(np.searchsorted(self._t_ms, now_ms + 1e-6, side="right")) - 1
        self._request(min(max(index, 0), end_index))

    def _on_server_opened(self, generation: int, t_ms: npt.NDArray[np.float64], info: Any) -> None:
        if generation != self._generation:
            return
        self._t_ms = t_ms
        self._has_audio = self._has_audio or bool(getattr(info, "has_audio", False))
        if self._path is not None:
            self._audio.open(self._path, self._has_audio)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(self.frame_count - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._set_enabled(self.frame_count > 0)
        self._show_counts()
        self._request(0)

    def _on_server_frame_decoded(self, generation: int, index: int, image: QImage) -> None:
        if generation != self._generation:
            return  # a picture of the clip shown before
        self.index = index
        points = None
        bones: tuple[tuple[int, int], ...] = ()
        joints: tuple[str, ...] = ()
        others: tuple[OtherPerson, ...] = ()
        if self._result is not None and index < self._result.frame_count:
            points = self._result.landmarks[index]
            bones, joints = self._result.bones, tuple(self._result.joints)
            others = self._result.others_at(index)
        self.canvas.set_others(others)
        self.canvas.show_frame(image, points, bones, joints)
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self._update_readout()
        self.ruler.set_position(self.current_ms)
        self.position_changed.emit(index, self.current_ms)

    def _on_server_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self.pause()
        self.canvas.message = "This clip cannot be played"
        self.canvas.update()
        self.clip_failed.emit(message)

    def _on_canvas_person_clicked(self, person_id: int, where: QPoint) -> None:
        """Offer to analyse the person clicked (the menu runs its own event loop)."""
        self.pause()
        menu = QMenu(self)
        title = menu.addAction(f"Dancer {person_id}")
        title.setEnabled(False)
        analyse = menu.addAction(ANALYSE_DANCER)
        analyse.setToolTip("Analyse the clip again about this person (a new item in the library)")
        analyse.triggered.connect(lambda: self.dancer_requested.emit(person_id))
        menu.exec(where)
        menu.deleteLater()

    def _on_slider_value_changed(self, value: int) -> None:
        self.seek_frame(value)

    def _on_speed_box_changed(self, position: int) -> None:
        if self._playing:  # keep the picture where it is; the clock runs at the new rate
            self._clock_ms = self.current_ms
            self._clock_wall = time.monotonic()
        self.speed = float(self.speed_box.itemData(position))
        if self._playing:
            self._restart_sound()

    def _on_mirror_toggled(self, checked: bool) -> None:
        self.canvas.mirrored = checked
        self.canvas.update()

    def _on_overlay_toggled(self, checked: bool) -> None:
        self.canvas.overlay = checked
        self.canvas.update()

    def _update_readout(self) -> None:
        total = float(self._t_ms[-1]) if self.frame_count else 0.0
        self.time_label.setText(f"{format_ms(self.current_ms)} / {format_ms(total)}")
        if self.index >= 0:
            self.frame_label.setText(f"Frame {self.index + 1} / {self.frame_count}")
        else:
            self.frame_label.setText("Frame – / –")

    def _update_loop_label(self) -> None:
        loop = self._loop_range()
        if loop is None:
            parts = []
            if self.loop_a is not None:
                parts.append(f"A {self.loop_a + 1}")
            if self.loop_b is not None:
                parts.append(f"B {self.loop_b + 1}")
            self.loop_label.setText(" ".join(parts))
        else:
            self.loop_label.setText(f"Loop {loop[0] + 1}–{loop[1] + 1}")

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (
            self.play_button, self.back_button, self.forward_button, self.slider,
            self.a_button, self.b_button, self.clear_loop_button,
        ):  # fmt: skip
            widget.setEnabled(enabled)
