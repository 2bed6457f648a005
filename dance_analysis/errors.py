"""Errors a user can cause, each with a stable reason code and a sentence for a person.

Bugs are not modelled here: they surface as ordinary exceptions with a traceback in
the log. Everything in this module is something the user can fix (another clip, a
smaller file) and so deserves a reason code that clients can switch on and a message
that a dance coach understands.
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    """Stable, machine-readable reason codes. Never rename one: clients switch on them."""

    FILE_NOT_FOUND = "file_not_found"
    EMPTY_FILE = "empty_file"
    NOT_A_VIDEO = "not_a_video"
    CORRUPT_CONTAINER = "corrupt_container"
    CORRUPT_STREAM = "corrupt_stream"
    NO_VIDEO_STREAM = "no_video_stream"
    UNSUPPORTED_CODEC = "unsupported_codec"
    RESOLUTION_TOO_LARGE = "resolution_too_large"
    TOO_LONG = "too_long"
    DECODER_CRASHED = "decoder_crashed"
    NO_PERSON_DETECTED = "no_person_detected"
    OUTPUT_NOT_WRITABLE = "output_not_writable"
    INSUFFICIENT_STORAGE = "insufficient_storage"
    CANCELED = "canceled"
    TIMEOUT = "timeout"
    WORKER_LOST = "worker_lost"


class DanceAnalysisError(Exception):
    """Base class for every error a user can cause.

    ``reason`` is the stable code, ``message`` the human sentence. ``http_status`` lets
    the API render any of them without a table of its own.
    """

    http_status: int = 422

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.reason.value}]"

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason.value, "message": self.message}


class MediaError(DanceAnalysisError):
    """The clip cannot be analysed: empty, not a video, corrupt, too large, ..."""


class OutputError(DanceAnalysisError):
    """The results cannot be written (folder not writable, disk full)."""

    http_status = 507


class CanceledError(DanceAnalysisError):
    """The caller asked the analysis to stop."""

    http_status = 409

    def __init__(self, message: str = "The analysis was canceled.") -> None:
        super().__init__(Reason.CANCELED, message)
