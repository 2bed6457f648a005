"""Where a job is: its states, named once for the engine, the API and the GUI.

``awaiting_upload`` (an upload link issued, not yet confirmed) → ``queued`` →
``started`` → ``finished`` | ``failed`` | ``canceled``. How a job may move between
them is :mod:`dance_analysis.jobs.transitions`; the stage a started job is in is
:class:`dance_analysis.stages.Stage`.
"""

from __future__ import annotations

from dance_analysis.names import TextEnum


class JobStatus(TextEnum):
    """A job's state; the value is what the job row and the API's JSON carry."""

    AWAITING_UPLOAD = "awaiting_upload"
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELED = "canceled"


# Nothing happens to a job in these states any more.
ENDED = frozenset({JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED})
