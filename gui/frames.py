"""Frame-accurate decoding for the player, on its own thread.

:class:`FrameDecoder` is plain PyAV (no Qt): it indexes the clip's presentation
timestamps once (demuxing only, no decoding), then returns frame *i* by seeking to
the key frame before it and decoding forward, or simply decoding the next picture
when the player asks for ``i + 1``. :class:`FrameServer` runs a decoder on a
``QThread`` and hands back ``QImage``\\ s by signal. Requests are coalesced: while a
frame is being decoded only the latest request is kept, so scrubbing never queues
up work the user has already moved past.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from dance_analysis.video.probe import probe

FloatArray = npt.NDArray[np.float64]


class FrameDecoder:
    """Random access to a clip's frames by index, upright RGB (rotation applied)."""

    def __init__(self, path: Path) -> None:
        self.info = probe(path)
        self._quarter_turns = (-self.info.rotation // 90) % 4
        self._container = av.open(str(path))
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._time_base: Fraction = self._stream.time_base or self.info.time_base
        pts = sorted(
            packet.pts
            for packet in self._container.demux(self._stream)
            if packet.pts is not None and packet.size > 0 and not packet.is_discard
        )
        self.pts: list[int] = pts
        start = pts[0] if pts else 0
        self.t_ms: FloatArray = np.array(
            [(value - start) * float(self._time_base) * 1000.0 for value in pts]
        )
        self._frames: Iterator[av.VideoFrame] | None = None
        self._last_index = -2

    @property
    def frame_count(self) -> int:
        return len(self.pts)

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Frame ``index`` as (height, width, 3) uint8 RGB."""
        index = min(max(index, 0), self.frame_count - 1)
        target = self.pts[index]
        if index != self._last_index + 1 or self._frames is None:
            self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
            self._frames = self._container.decode(self._stream)
        picture = None
        for candidate in self._frames:
            if candidate.pts is not None and candidate.pts < target:
                continue  # decoding forward from the key frame
            picture = candidate
            break
        if picture is None:  # the decoder ended early: start over next time
            self._frames = None
            raise EOFError(f"frame {index} could not be decoded")
        self._last_index = index
        image = picture.to_ndarray(format="rgb24")
        if self._quarter_turns:
            image = np.ascontiguousarray(np.rot90(image, self._quarter_turns))
        return image

    def close(self) -> None:
        self._frames = None
        self._container.close()


def to_qimage(image: npt.NDArray[np.uint8]) -> QImage:
    height, width, _ = image.shape
    # .copy(): the QImage must own its pixels once the array goes away.
    return QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class FrameServer(QObject):
    """Owns a decoder on a worker thread; ``request(i)`` from the GUI, ``frame_decoded`` back."""

    opened = Signal(object, object)  # (t_ms array, VideoInfo)
    frame_decoded = Signal(int, QImage)
    failed = Signal(str)
    _open_requested = Signal(str)
    _wake = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._decoder: FrameDecoder | None = None
        self._lock = threading.Lock()
        self._wanted: int | None = None
        self._generation = 0
        self._thread = QThread()
        self._thread.setObjectName("frame-decoder")
        self.moveToThread(self._thread)
        self._open_requested.connect(self._open)
        self._wake.connect(self._decode_wanted)
        self._thread.start()

    # --- called on the GUI thread -----------------------------------------------------

    def open(self, path: Path) -> None:
        with self._lock:
            self._wanted = None
            self._generation += 1
        self._open_requested.emit(str(path))

    def request(self, index: int) -> None:
        with self._lock:
            pending = self._wanted is not None
            self._wanted = index
        if not pending:
            self._wake.emit()

    def stop(self) -> None:
        """Stop the thread (and close the file) before the window goes away."""
        self._thread.quit()
        self._thread.wait()
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    # --- on the decoder thread -----------------------------------------------------

    @Slot(str)
    def _open(self, path: str) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None
        try:
            self._decoder = FrameDecoder(Path(path))
        except Exception as error:  # a clip the player cannot read: say so, keep running
            self.failed.emit(str(error))
            return
        self.opened.emit(self._decoder.t_ms, self._decoder.info)

    @Slot()
    def _decode_wanted(self) -> None:
        with self._lock:
            index, self._wanted = self._wanted, None
        if index is None or self._decoder is None:
            return
        try:
            image = to_qimage(self._decoder.frame(index))
        except Exception as error:
            self.failed.emit(f"Frame {index + 1} could not be decoded: {error}")
            return
        self.frame_decoded.emit(index, image)
