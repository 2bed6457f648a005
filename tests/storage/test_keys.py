"""Keys: a client's file name never becomes a path outside the storage root."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from dance_analysis.storage.keys import (
    UnsafeKeyError,
    result_key,
    safe_filename,
    upload_key,
    validate_key,
)
from dance_analysis.storage.local import LocalStorage

HOSTILE = [
    "../../etc/passwd.mp4",
    "..\\..\\x.mp4",
    "/etc/passwd",
    "C:\\Windows\\system32\\evil.mp4",
    "clip\x00.mp4",
    "clip\r\nSet-Cookie: x=y.mp4",
    "my \"dance\" 'clip'.mp4",
    "a" * 10_000 + ".mp4",
    "evil\u202egnp.mp4",
    "CON.mp4",
    "lpt1",
    "UTF-8''%2e%2e%2fetc%2fpasswd.mp4",
    "..",
    "...",
    "",
    ".hidden.mp4",
    "ünïcødé tänz.MOV",
    "/",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_stay_inside_the_root(tmp_path: Path, name: str) -> None:
    safe = safe_filename(name)
    assert safe.isascii() and safe.isprintable()
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert 0 < len(safe) <= 100
    assert safe.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1"}

    storage = LocalStorage(tmp_path / "root")
    key = upload_key(str(uuid.uuid4()), name)
    path = storage.local_path(key)
    assert path is not None
    assert path.resolve().is_relative_to((tmp_path / "root").resolve())
    storage.write_stream(key, [b"x"], max_bytes=10)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]


def test_safe_filename_keeps_a_readable_name_and_its_extension() -> None:
    assert safe_filename("My Dance (take 2).mp4") == "My_Dance_take_2.mp4"
    assert safe_filename("Tänzerin é.MOV") == "Tanzerin_e.MOV"
    assert safe_filename("a" * 500 + ".mp4").endswith(".mp4")
    assert safe_filename("CON.mp4") == "_CON.mp4"
    assert safe_filename("...") == "upload"


@pytest.mark.parametrize(
    "key",
    [
        "uploads/../x",
        "../uploads/x",
        "/uploads/x",
        "uploads//x",
        "uploads/x/",
        "other/x",
        "uploads/a\\b",
        "uploads/a\x00b",
        "uploads/.hidden",
        "results",
    ],
)
def test_validate_key_refuses_escapes(key: str) -> None:
    with pytest.raises(UnsafeKeyError):
        validate_key(key)


def test_result_key_shape() -> None:
    job_id = str(uuid.uuid4())
    assert result_key(job_id, "overlay.mp4") == f"results/{job_id}/overlay.mp4"
