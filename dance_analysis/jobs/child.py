"""The analysis child process: one clip, run in a process of its own (``spawn``).

A decoder that crashes or leaks takes down only this process; the worker sees it
die and counts a lost attempt. Messages go back over a one-way pipe as plain tuples:

    ("stage", name)              ("frames", done, total)
    ("done", {"artifacts": {name: path}, "frame_count": n, ...})
    ("error", reason, message)   a clip or output problem the user can act on
    ("bug", traceback_text)      anything else

The child leads a process group of its own, so that its own helpers (the pipeline
decodes in a process of its own) go with it when the worker stops it with
``killpg``, and a Ctrl-C in the terminal (sent to the terminal's process group) does
not reach it: stopping is the worker's decision. When its parent dies, the child
kills its group, so a ``kill -9`` of a worker leaves no orphan analysing on.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from dance_analysis.pose.devices import ENV_CACHE
from dance_analysis.stages import Stage

_FRAMES_EVERY_S = 0.2  # progress messages, at most this often
_PARENT_CHECK_S = 1.0


class _PipeProgress:
    def __init__(self, conn: Connection, cancel: Any) -> None:
        self._conn = conn
        self._cancel = cancel
        self._last_frames = 0.0

    def on_stage(self, stage: Stage) -> None:
        self._conn.send(("stage", stage))

    def on_frames(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_frames >= _FRAMES_EVERY_S or done >= total:
            self._last_frames = now
            self._conn.send(("frames", done, total))

    def should_cancel(self) -> bool:
        return bool(self._cancel.is_set())


def _exit_when_orphaned(parent_pid: int) -> None:
    while True:
        time.sleep(_PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            if hasattr(os, "killpg"):
                os.killpg(0, signal.SIGKILL)  # ourselves and the pipeline's helpers
            os._exit(70)


def music_summary(music: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the job row keeps of result.json's ``music``: the API's status and result.

    ``counts`` is the number of 8-count phrases (the full list stays in result.json).
    """
    if music is None:
        return None
    return {
        "present": bool(music["present"]),
        "reason": music.get("reason"),
        "tempo_bpm": music["tempo_bpm"],
        "beats_per_bar": music["beats_per_bar"],
        "style": music["style"],
        "counts": len({c["phrase"] for c in music["counts"]}),
        "first_one_ms": music["counts"][0]["t_ms"] if music["counts"] else None,
        "one_set_by": music.get("one_set_by", "tracker"),
    }


def run_analysis(
    clip: str, out_dir: str, options: Any, conn: Connection, cancel: Any, parent_pid: int
) -> None:
    """The child's entry point (a spawn target, so importable and picklable)."""
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True).start()

    from dance_analysis.errors import DanceAnalysisError
    from dance_analysis.pipeline import analyze_clip

    try:
        outcome = analyze_clip(clip, out_dir, options, _PipeProgress(conn, cancel))
    except DanceAnalysisError as error:
        conn.send(("error", error.reason.value, error.message))
    except BaseException:
        conn.send(("bug", traceback.format_exc()))
    else:
        conn.send(
            (
                "done",
                {
                    "artifacts": {name: str(path) for name, path in outcome.artifacts.items()},
                    "frame_count": outcome.frame_count,
                    "frames_with_person": outcome.frames_with_person,
                    "warnings": outcome.warnings,
                    "music": music_summary(outcome.music),
                    "summary": outcome.summary,
                    "people": {
                        "dancer_id": outcome.dancer_id,
                        "people_seen": outcome.people_seen,
                        "ids": outcome.people_ids,
                    },
                    # what detection found, so the worker's next children skip torch
                    "device": os.environ.get(ENV_CACHE),
                },
            )
        )
    finally:
        conn.close()
