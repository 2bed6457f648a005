"""Errors a user can cause, each with a stable reason code and a sentence for a person.

Bugs are not modelled here: they surface as ordinary exceptions with a traceback in
the log. Everything in this module is something the user can fix (another clip, a
smaller file) and so deserves a reason code that clients can switch on and a message
that a dance coach understands.
"""

from __future__ import annotations

from dance_analysis.names import TextEnum


class Reason(TextEnum):
    """Stable, machine-readable reason codes. Never rename one: clients switch on them."""

    FILE_NOT_FOUND = "file_not_found"
    EMPTY_FILE = "empty_file"
    NOT_A_VIDEO = "not_a_video"
    CORRUPT_CONTAINER = "corrupt_container"
    EXTERNAL_REFERENCE = "external_reference"  # an MP4/MOV whose samples live in another file
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
    INTERNAL_ERROR = "internal_error"
    # The job service, storage and access (docs/design/job-service.md)
    JOB_NOT_FOUND = "job_not_found"
    OBJECT_MISSING = "object_missing"
    OBJECT_MISMATCH = "object_mismatch"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    UPLOAD_TOO_LARGE = "upload_too_large"
    UPLOAD_EXPIRED = "upload_expired"
    BAD_SIGNATURE = "bad_signature"
    INVALID_STATE = "invalid_state"
    INVALID_REQUEST = "invalid_request"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    PAIRING_FAILED = "pairing_failed"
    DEVICE_NOT_FOUND = "device_not_found"
    RATE_LIMITED = "rate_limited"
    # Music (issue 8)
    UNKNOWN_STYLE = "unknown_style"
    NO_MUSIC = "no_music"  # a clip without counted beats: no "1" to move
    # Comparison (issue 9)
    CANNOT_COMPARE = "cannot_compare"  # no dancer in the student's or the teacher's clip
    # Our own pose graph (issue 11)
    NO_SUCH_DANCER = "no_such_dancer"  # --dancer / dancer_id names no person in the clip
    UNKNOWN_BACKEND = "unknown_backend"  # --backend names no pose backend we have
    MODEL_UNAVAILABLE = "model_unavailable"  # the wheel's .tflite files are missing
    # Where an analysis goes next (issue 12)
    INVALID_MARKS = "invalid_marks"  # a coach's marks that are not angles, lines or notes
    LINK_EXPIRED = "link_expired"  # a share link past its expiry


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


# --- the job service, storage and access ----------------------------------------------


class JobNotFound(DanceAnalysisError):
    """No job with that id (never created, or deleted)."""

    http_status = 404

    def __init__(self, job_id: str) -> None:
        super().__init__(Reason.JOB_NOT_FOUND, f"There is no job “{job_id[:64]}”.")


class ObjectMissing(DanceAnalysisError):
    """A stored file that should be there is not (upload never arrived, result deleted)."""

    http_status = 404

    def __init__(self, message: str) -> None:
        super().__init__(Reason.OBJECT_MISSING, message)


class ObjectMismatch(DanceAnalysisError):
    """An uploaded object is not what the client declared (key, size or SHA-256)."""

    http_status = 422

    def __init__(self, message: str, reason: Reason = Reason.OBJECT_MISMATCH) -> None:
        super().__init__(reason, message)


class ChecksumMismatch(ObjectMismatch):
    def __init__(self, message: str) -> None:
        super().__init__(message, Reason.CHECKSUM_MISMATCH)


class UploadTooLarge(DanceAnalysisError):
    http_status = 413

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            Reason.UPLOAD_TOO_LARGE,
            f"The file is larger than the limit of {max_bytes / (1 << 20):.0f} MB.",
        )
        self.max_bytes = max_bytes


class UploadExpired(DanceAnalysisError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__(
            Reason.UPLOAD_EXPIRED, "The upload link has expired: ask for a new one and try again."
        )


class BadSignature(DanceAnalysisError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__(Reason.BAD_SIGNATURE, "The upload link is not valid.")


class InvalidState(DanceAnalysisError):
    """The job is in a state that does not allow this (e.g. cancel a finished job)."""

    http_status = 409

    def __init__(self, message: str) -> None:
        super().__init__(Reason.INVALID_STATE, message)


class InvalidRequest(DanceAnalysisError):
    """A malformed argument the HTTP layer's schema did not already catch."""

    http_status = 422

    def __init__(self, message: str) -> None:
        super().__init__(Reason.INVALID_REQUEST, message)


class StorageUnavailable(DanceAnalysisError):
    """The primary store (S3/MinIO in a studio) cannot be reached right now."""

    http_status = 503

    def __init__(self, message: str = "File storage is unreachable; try again shortly.") -> None:
        super().__init__(Reason.STORAGE_UNAVAILABLE, message)


class PairingFailed(DanceAnalysisError):
    http_status = 403

    def __init__(self) -> None:
        super().__init__(
            Reason.PAIRING_FAILED,
            "That pairing code is not valid: it may have expired or been used already.",
        )


class DeviceNotFound(DanceAnalysisError):
    """No paired device or token with that id."""

    http_status = 404

    def __init__(self, device_id: str) -> None:
        super().__init__(Reason.DEVICE_NOT_FOUND, f"There is no device “{device_id[:64]}”.")


class RateLimited(DanceAnalysisError):
    http_status = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            Reason.RATE_LIMITED, f"Too many attempts: wait {retry_after_s} s and try again."
        )
        self.retry_after_s = retry_after_s


# --- music (issue 8) ------------------------------------------------------------------


class UnknownStyle(DanceAnalysisError):
    """The dance style asked for is not one the tempo search knows."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        super().__init__(
            Reason.UNKNOWN_STYLE,
            f"“{name[:64]}” is not a dance style we know. Choose one of: {', '.join(known)}.",
        )


# --- comparison (issue 9) -------------------------------------------------------------


class CannotCompare(DanceAnalysisError):
    """Two analysed clips that cannot be compared: one of them has no dancer in it."""

    def __init__(self, whose: str) -> None:
        super().__init__(
            Reason.CANNOT_COMPARE,
            f"The two clips cannot be compared: no dancer was found in the {whose} clip. "
            "Choose a clip where the whole body of the dancer can be seen.",
        )


# --- where an analysis goes next (issue 12) -------------------------------------------


class InvalidMarks(DanceAnalysisError):
    """A coach's marks that cannot be saved: an unknown kind, points off the picture, …"""

    def __init__(self, message: str) -> None:
        super().__init__(Reason.INVALID_MARKS, message)


class LinkExpired(DanceAnalysisError):
    """A share link whose time is up: the coach sends a new one."""

    http_status = 410

    def __init__(self) -> None:
        super().__init__(
            Reason.LINK_EXPIRED,
            "This link has expired. Ask your coach to send a new one.",
        )
