"""Object keys: the only way a client-supplied name gets near a path.

Keys look the same in the local store and in S3 (``uploads/{job_id}/{name}``,
``results/{job_id}/{name}``). A key is built from a job id we generated and a name
passed through :func:`safe_filename`; :func:`validate_key` is checked again by every
storage backend before it touches anything, so a key that could leave the storage
root (``..``, an absolute path, a backslash, NUL) never reaches the file system.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_CHARS = 100
MAX_KEY_CHARS = 512
_MAX_EXT_CHARS = 10
_FALLBACK_STEM = "upload"

# One key component: what safe_filename produces, and our own job ids and artifact names.
_COMPONENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(10)}
    | {f"LPT{i}" for i in range(10)}
)
TOP_LEVEL = frozenset({"uploads", "results"})


class UnsafeKeyError(ValueError):
    """A key that could escape the storage root. Our own code builds keys, so a bug."""


def safe_filename(original: str) -> str:
    """An ASCII file name that is safe on every file system and in every URL.

    Keeps only the last path component (``/`` and ``\\`` both count), folds accents to
    ASCII, drops control and bidi characters, replaces everything else outside
    ``[A-Za-z0-9._-]`` by ``_``, refuses dots-only names and Windows device names,
    and keeps the (short) extension while capping the length at 100 characters.
    """
    name = re.split(r"[/\\]", original)[-1]
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE_CHARS.sub("_", name)
    # Leading dots hide a file (or make ".."); trailing dots and spaces vanish on Windows.
    name = name.strip("._ ")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > _MAX_EXT_CHARS:
        stem, ext = name, ""
    stem = stem.strip("._") or _FALLBACK_STEM
    # "CON.mp4" and "con.tar.gz" both open the console device on Windows.
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    suffix = f".{ext}" if ext else ""
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip("._") or _FALLBACK_STEM
    return f"{stem}{suffix}"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a well-formed key under a known top-level folder."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
        raise UnsafeKeyError(f"bad storage key length: {key!r:.80}")
    parts = key.split("/")
    if parts[0] not in TOP_LEVEL or len(parts) < 2:
        raise UnsafeKeyError(f"storage key outside uploads/ and results/: {key!r:.80}")
    for part in parts:
        if not _COMPONENT.match(part) or part in (".", ".."):
            raise UnsafeKeyError(f"unsafe storage key: {key!r:.80}")
    return key


def validate_prefix(prefix: str) -> str:
    """A prefix for :meth:`Storage.delete_prefix`: a whole folder, ending with ``/``."""
    if not prefix.endswith("/"):
        raise UnsafeKeyError(f"a prefix must name a folder and end with '/': {prefix!r:.80}")
    validate_key(prefix[:-1])
    return prefix


def upload_key(job_id: str, filename: str) -> str:
    """Where a job's source clip lives. ``filename`` may be anything a client sent."""
    return validate_key(f"uploads/{job_id}/{safe_filename(filename)}")


def result_key(job_id: str, name: str) -> str:
    """Where a job's artifact (``result.json``, ``overlay.mp4``, …) lives."""
    return validate_key(f"results/{job_id}/{name}")


def job_prefixes(job_id: str) -> tuple[str, str]:
    """Every folder that holds a job's files."""
    return validate_prefix(f"uploads/{job_id}/"), validate_prefix(f"results/{job_id}/")
