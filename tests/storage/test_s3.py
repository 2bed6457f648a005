"""S3Storage against a real HTTP S3 (moto's server): the calls a studio depends on."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from dance_analysis.errors import ObjectMissing
from dance_analysis.storage import create_storage
from dance_analysis.storage.keys import job_prefixes, result_key, upload_key
from dance_analysis.storage.s3 import S3Storage
from tests.jobs.services import s3_settings
from tests.settings import make_settings


@pytest.fixture
def s3(s3_endpoint: str, tmp_path: Path) -> S3Storage:
    storage = create_storage(make_settings(tmp_path, **s3_settings(s3_endpoint)))
    assert isinstance(storage, S3Storage)
    return storage


def test_put_stat_fetch_range_and_delete(s3: S3Storage, tmp_path: Path) -> None:
    job_id = str(uuid.uuid4())
    source = tmp_path / "result.json"
    source.write_bytes(b'{"ok": true}' * 100)
    key = result_key(job_id, "result.json")
    s3.put_file(key, source, "application/json")

    info = s3.stat(key)
    assert info is not None
    assert info.size == 1200 and info.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert b"".join(s3.open_range(key, 0, 11)) == b'{"ok": true}'
    copy = tmp_path / "copy.json"
    s3.fetch(key, copy)
    assert copy.read_bytes() == source.read_bytes()

    assert s3.delete_prefix(job_prefixes(job_id)[1]) == 1
    assert s3.stat(key) is None
    with pytest.raises(ObjectMissing):
        s3.fetch(key, copy)


def test_presigned_put_then_put_with_httpx(s3: S3Storage) -> None:
    key = upload_key(str(uuid.uuid4()), "clip.mp4")
    url = s3.presigned_put(key, "video/mp4", 900)
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["900"]  # moto does not enforce expiry; S3 does
    body = os.urandom(50_000)
    answer = httpx.put(url, content=body, headers={"Content-Type": "video/mp4"}, timeout=10)
    assert answer.status_code == 200, answer.text
    info = s3.stat(key)
    assert info is not None and info.size == len(body)


def test_presigned_get_has_a_safe_content_disposition(s3: S3Storage, tmp_path: Path) -> None:
    key = result_key(str(uuid.uuid4()), "overlay.mp4")
    source = tmp_path / "overlay.mp4"
    source.write_bytes(b"\0" * 10)
    s3.put_file(key, source)
    url = s3.presigned_get(key, 60, 'evil"\r\nX: y/../../a.mp4')
    assert url is not None
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200 and answer.content == b"\0" * 10
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="a.mp4"')
    assert "\r" not in disposition and "\n" not in disposition


def test_large_files_go_up_in_verified_parts(s3: S3Storage, tmp_path: Path) -> None:
    from boto3.s3.transfer import TransferConfig

    s3._transfer = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(11 << 20))
    key = result_key(str(uuid.uuid4()), "overlay.mp4")
    s3.put_file(key, source)
    info = s3.stat(key)
    assert info is not None and info.size == 11 << 20
    assert info.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert s3.abort_multipart_uploads("results/") == 0  # nothing left dangling


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1"])
def test_the_bucket_is_made_in_its_region_once_even_by_two_stores(
    s3_endpoint: str, tmp_path: Path, region: str
) -> None:
    """Outside us-east-1 S3 wants the region named again when a bucket is made; and two
    processes making a fresh bucket at once (the API and a worker) both go on writing."""
    settings = {**s3_settings(s3_endpoint), "s3_region": region}
    first = create_storage(make_settings(tmp_path / "a", **settings))
    second = create_storage(make_settings(tmp_path / "b", **settings))
    assert isinstance(first, S3Storage) and isinstance(second, S3Storage)
    first.ensure_bucket()
    second._create_bucket()  # what the slower of two racing processes runs
    second.ensure_bucket()
    source = tmp_path / "x.json"
    source.write_bytes(b"{}")
    key = result_key(str(uuid.uuid4()), "x.json")
    second.put_file(key, source, "application/json")
    assert first.stat(key) is not None
