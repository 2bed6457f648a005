"""The player's decoder thread: the engine's :class:`FrameDecoder` on a ``QThread``.

Decoding itself (seeking, the stream choice, rotation) is the engine's
(:mod:`dance_analysis.video.frames`); this module only runs it off the GUI thread
and hands back ``QImage``\\ s by signal. Requests are coalesced: while a picture is
being decoded only the latest request is kept, so scrubbing never queues up work
the user has already moved past. Every opened clip gets a generation number that
travels with its signals, so a picture of the previous clip that was already on
its way is recognised and dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from dance_analysis.video.frames import FrameDecoder


def open_decoder(path: Path) -> FrameDecoder:
    # PyAV and OpenCV load here, on the decoder thread, not when the window starts.
    from dance_analysis.video.frames import FrameDecoder

    return FrameDecoder(path)


def to_qimage(image: npt.NDArray[np.uint8]) -> QImage:
    height, width, _ = image.shape
    # .copy(): the QImage must own its pixels once the array goes away.
    return QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class FrameServer(QObject):
    """Owns a decoder on a worker thread; ``request(i)`` from the GUI, ``frame_decoded`` back.

    ``opened(generation, t_ms, info)``, ``frame_decoded(generation, index, image)`` and
    ``failed(generation, message)`` carry the generation :meth:`open` returned.
    """

    opened = Signal(int, object, object)
    frame_decoded = Signal(int, int, QImage)
    failed = Signal(int, str)
    _open_requested = Signal(int, str)
    _wake = Signal()

    def __init__(self, decoder_factory: Callable[[Path], FrameDecoder] = open_decoder) -> None:
        super().__init__()
        self._factory = decoder_factory
        self._decoder: FrameDecoder | None = None
        self._decoder_generation = 0
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

    def open(self, path: Path) -> int:
        """Start opening ``path``; returns the generation its signals will carry."""
        with self._lock:
            self._wanted = None
            self._generation += 1
            generation = self._generation
        self._open_requested.emit(generation, str(path))
        return generation

    def request(self, index: int) -> None:
        with self._lock:
            pending = self._wanted is not None
            self._wanted = index
        if not pending:
            self._wake.emit()

    @property
    def decoded(self) -> int:
        """Pictures decoded for the open clip (the tests count them)."""
        decoder = self._decoder
        return 0 if decoder is None else decoder.decoded

    def stop(self) -> None:
        """Stop the thread (and close the file) before the window goes away."""
        self._thread.quit()
        self._thread.wait()
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None

    # --- on the decoder thread -----------------------------------------------------

    @Slot(int, str)
    def _open(self, generation: int, path: str) -> None:
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None
        with self._lock:
            if generation != self._generation:
                return  # another clip was chosen meanwhile: open that one instead
        try:
            decoder = self._factory(Path(path))
        except Exception as error:  # a clip the player cannot read: say so, keep running
            self.failed.emit(generation, getattr(error, "message", None) or str(error))
            return
        self._decoder, self._decoder_generation = decoder, generation
        self.opened.emit(generation, decoder.t_ms, decoder.info)

    @Slot()
    def _decode_wanted(self) -> None:
        with self._lock:
            index, self._wanted = self._wanted, None
            current = self._generation
        decoder = self._decoder
        if index is None or decoder is None or self._decoder_generation != current:
            return
        try:
            image = to_qimage(decoder.frame(index))
        except Exception as error:
            self.failed.emit(current, f"Frame {index + 1} could not be decoded: {error}")
            return
        self.frame_decoded.emit(current, index, image)
