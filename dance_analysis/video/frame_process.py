"""Decoding and overlay rendering in a child process, frames shared through memory.

The pose model runs on the parent's main thread. Everything else a frame needs
(decode, colour conversion, drawing, H.264 encoding) runs in one child process, so
it never competes with the model for the parent's GIL: measured on a 2-core machine,
doing the same work on threads of the parent slowed MediaPipe by about 20 %.

Frames travel through a ring of shared-memory slots: the child decodes straight
into a free slot, tells the parent "frame i is in slot s", the parent runs the model
on that slot (no copy) and answers with the poses (the dancer's, and the other
people's, drawn faintly); the child draws onto the same slot, encodes it and frees it.
Only a few kilobytes of landmarks cross the pipe per frame, and memory is bounded by
the ring, however long the clip.

A crash of the decoder (a hostile or broken clip) ends only the child: the parent
sees the pipe close and reports ``decoder_crashed``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.errors import DanceAnalysisError, MediaError, OutputError, Reason
from dance_analysis.video.probe import VideoInfo, VideoLimits
from dance_analysis.video.reader import Frame

_RING_BYTES = 64 << 20  # shared frames: 24 slots of 720p, 3 of 4K
_MIN_SLOTS, _MAX_SLOTS = 3, 24
_NICENESS = 10


@dataclass(frozen=True)
class OverlaySpec:
    """Where and how the child writes the overlay video (video only, no audio yet)."""

    path: Path
    crf: int = 23
    preset: str = "veryfast"
    visibility_min: float = 0.5


def _slot_count(frame_bytes: int) -> int:
    return max(_MIN_SLOTS, min(_MAX_SLOTS, _RING_BYTES // max(frame_bytes, 1)))


class FrameProcess:
    """Parent side: iterate :meth:`frames`, answer each with :meth:`done`, then :meth:`finish`.

    Use as a context manager: leaving it stops the child and frees the shared memory,
    whatever happened.
    """

    def __init__(self, info: VideoInfo, limits: VideoLimits, overlay: OverlaySpec | None) -> None:
        shape = (info.height, info.width, 3)
        frame_bytes = int(np.prod(shape))
        slots = _slot_count(frame_bytes)
        self._memory = SharedMemory(create=True, size=slots * frame_bytes)
        self._images: npt.NDArray[np.uint8] = np.ndarray(
            (slots, *shape), dtype=np.uint8, buffer=self._memory.buf
        )
        # spawn, not fork: the parent may already run MediaPipe's and Qt's threads.
        context = mp.get_context("spawn")
        self._pipe, child_pipe = context.Pipe(duplex=True)
        self._process = context.Process(
            target=_child_main,
            args=(child_pipe, self._memory.name, slots, info, limits, overlay),
            name="frame-process",
            daemon=True,
        )
        self._process.start()
        child_pipe.close()
        self.peak_rss_mb: float | None = None  # the child's, known after finish()

    def frames(self) -> Iterator[Frame]:
        """Upright RGB frames in presentation order; each image lives in shared memory
        until :meth:`done` is called for it."""
        while True:
            message = self._receive()
            kind = message[0]
            if kind == "frame":
                _, slot, index, pts, t_ms = message
                yield Frame(index=index, pts=pts, t_ms=t_ms, image=self._images[slot])
            elif kind == "end":
                return
            else:
                raise RuntimeError(f"unexpected message from the frame process: {kind!r}")

    def done(
        self,
        frame: Frame,
        landmarks: npt.NDArray[np.float64] | None,
        world: npt.NDArray[np.float64] | None,
        others: npt.NDArray[np.float64] | None = None,
    ) -> None:
        """Hand the frame back with the chosen dancer's pose (None: not in this frame) and
        ``others``, the other people's landmarks ``(k, 33, 4)`` (drawn faintly), for
        drawing and encoding."""
        self._pipe.send(
            (
                frame.index,
                None if landmarks is None else landmarks.tobytes(),
                None if world is None else world.tobytes(),
                None if others is None or not len(others) else others.tobytes(),
            )
        )

    def finish(self) -> None:
        """Wait for the child to write the last frame and close the overlay."""
        self._pipe.send(None)
        message = self._receive()
        if message[0] != "finished":
            raise RuntimeError(f"unexpected message from the frame process: {message[0]!r}")
        self.peak_rss_mb = message[1]
        self._process.join()

    def _receive(self) -> tuple[Any, ...]:
        try:
            message: tuple[Any, ...] = self._pipe.recv()
        except (EOFError, ConnectionError):
            self._process.join(timeout=5)
            raise MediaError(
                Reason.DECODER_CRASHED,
                "The video decoder crashed on this clip "
                f"(exit code {self._process.exitcode}). The file is probably damaged; "
                "try exporting it again from the phone or camera.",
            ) from None
        if message[0] == "error":
            raise _rebuild_error(message[1])
        return message

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._pipe.close()
        del self._images  # release the view before the mapping goes away
        self._memory.close()
        self._memory.unlink()

    def __enter__(self) -> FrameProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_ERROR_TYPES: dict[str, type[DanceAnalysisError]] = {
    cls.__name__: cls for cls in (DanceAnalysisError, MediaError, OutputError)
}


def _rebuild_error(error: dict[str, Any]) -> BaseException:
    """Errors cross the process boundary as plain data (custom exceptions do not
    unpickle reliably); user errors come back as themselves, bugs with their traceback."""
    if error.get("reason"):
        cls = _ERROR_TYPES.get(error["type"], DanceAnalysisError)
        return cls(Reason(error["reason"]), error["message"])
    return RuntimeError(f"frame process failed:\n{error['traceback']}")


# --- the child ------------------------------------------------------------------------


def _child_main(
    pipe: Connection,
    memory_name: str,
    slots: int,
    info: VideoInfo,
    limits: VideoLimits,
    overlay: OverlaySpec | None,
) -> None:
    # Yield the CPU to the model: MediaPipe's inference splits each frame across
    # threads that wait for one another, so any competition on the other core stalls
    # it. At a lower priority this process fills the gaps instead; the ring of slots
    # absorbs the lag.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(_NICENESS)
    # Attaching registers the segment with the resource tracker, which a spawned
    # child shares with its parent: the parent's unlink() settles it for both.
    memory = SharedMemory(name=memory_name)
    images: npt.NDArray[np.uint8] = np.ndarray(
        (slots, info.height, info.width, 3), dtype=np.uint8, buffer=memory.buf
    )
    try:
        _run_child(pipe, images, info, limits, overlay)
    except BaseException as error:  # reported to the parent, who raises it
        pipe.send(("error", _describe_error(error)))
    finally:
        del images
        memory.close()
        pipe.close()


def _describe_error(error: BaseException) -> dict[str, Any]:
    if isinstance(error, DanceAnalysisError):
        return {
            "reason": error.reason.value,
            "message": error.message,
            "type": type(error).__name__,
        }
    return {"reason": None, "traceback": "".join(traceback.format_exception(error))}


def _run_child(
    pipe: Connection,
    images: npt.NDArray[np.uint8],
    info: VideoInfo,
    limits: VideoLimits,
    overlay: OverlaySpec | None,
) -> None:
    from dance_analysis.video.reader import read_frames

    writer = None
    draw = draw_faint = None
    if overlay is not None:
        from dance_analysis.render import draw_others, draw_pose
        from dance_analysis.video.writer import VideoWriter

        writer = VideoWriter(
            overlay.path,
            width=info.width,
            height=info.height,
            time_base=info.time_base,
            crf=overlay.crf,
            preset=overlay.preset,
        )
        draw, draw_faint = draw_pose, draw_others

    free = deque(range(len(images)))
    in_flight: deque[tuple[int, int]] = deque()  # (slot, pts) in frame order

    def answer_oldest() -> None:
        """Take the parent's answer for the oldest frame out: draw, encode, free."""
        reply = pipe.recv()
        slot, pts = in_flight.popleft()
        if writer is not None and draw is not None and draw_faint is not None:
            _, landmarks, world, others = reply
            if others is not None:  # first, so the dancer is drawn over them
                draw_faint(
                    images[slot],
                    np.frombuffer(others).reshape(-1, 33, 4),
                    visibility_min=overlay.visibility_min if overlay else 0.5,
                )
            if landmarks is not None:
                draw(
                    images[slot],
                    np.frombuffer(landmarks).reshape(33, 4),
                    None if world is None else np.frombuffer(world).reshape(33, 4),
                    visibility_min=overlay.visibility_min if overlay else 0.5,
                )
            writer.write(images[slot], pts)
        free.append(slot)

    try:
        decoded = read_frames(info, limits, into=lambda: images[free[0]])
        for frame in decoded:
            slot = free.popleft()
            in_flight.append((slot, frame.pts))
            pipe.send(("frame", slot, frame.index, frame.pts, frame.t_ms))
            # Decode ahead while slots last; otherwise wait for the model.
            while in_flight and (not free or pipe.poll()):
                answer_oldest()
        pipe.send(("end",))
        while in_flight:
            answer_oldest()
        if pipe.recv() is not None:
            raise RuntimeError("protocol error: expected the end marker")
    finally:
        if writer is not None:
            writer.close()
    pipe.send(("finished", _peak_rss_mb()))


def _peak_rss_mb() -> float | None:
    """This process's peak resident memory (Linux), for the caller's figures."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
