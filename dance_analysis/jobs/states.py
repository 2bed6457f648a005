"""Where a job is: its states, named once for the engine, the API and the GUI.

``awaiting_upload`` (an upload link issued, not yet confirmed) → ``queued`` →
``started`` → ``finished`` | ``failed`` | ``canceled``. How a job may move between
them is :mod:`dance_analysis.jobs.transitions`; the stage a started job is in is
:class:`dance_analysis.stages.Stage`.
"""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    """A job's state; the value is what the job row and the API's JSON carry."""

    AWAITING_UPLOAD = "awaiting_upload"
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELED = "canceled"

    # A str mixin formats as "JobStatus.QUEUED" on Python ≥ 3.11 (but "queued" on
    # 3.10): the value, everywhere, keeps messages and logs the same on every version.
    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# Nothing happens to a job in these states any more.
ENDED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED})
