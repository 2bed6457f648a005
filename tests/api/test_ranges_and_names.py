"""Downloads follow RFC 9110 on Range; multipart accepts RFC 5987 names (issue 7 §2.5, §2.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.ranges import RangeNotSatisfiable, satisfiable_ranges
from tests.api.conftest import Api, upload_flow, wait_until_ended

pytestmark = pytest.mark.anyio


async def _overlay_url(api: Api, clip: Path) -> tuple[str, bytes]:
    accepted = await upload_flow(api.client, clip)
    assert (await wait_until_ended(api.client, accepted["job_id"]))["status"] == "finished"
    url = f"/api/v1/jobs/{accepted['job_id']}/artifacts/overlay"
    whole = await api.client.get(url)
    assert whole.status_code == 200
    return url, whole.content


IGNORED = ["items=0-5", "bytes", "bytes=", "bytes=abc", "bytes=5-2", "bytes=1-2-3", "bytes=--1",
           "bytes=0-1,x", "=0-5"]  # fmt: skip
UNSATISFIABLE = ["{size}-", "{size}-{far}", "-0", "{far}-{far}"]


async def test_ranges_through_the_download_route(api: Api, tiny_clip: Path) -> None:
    url, whole = await _overlay_url(api, tiny_clip)
    size = len(whole)

    # An unknown unit or a malformed set is ignored: the whole file, 200.
    for header in IGNORED:
        response = await api.client.get(url, headers={"Range": header})
        assert response.status_code == 200, (header, response.text[:200])
        assert response.content == whole
        assert "content-range" not in response.headers

    # A valid set with nothing inside the file: 416, our error shape, the size.
    for spec in UNSATISFIABLE:
        header = "bytes=" + spec.format(size=size, far=size + 100)
        response = await api.client.get(url, headers={"Range": header})
        assert response.status_code == 416, (header, response.text)
        assert response.headers["content-range"] == f"bytes */{size}"
        assert response.json()["detail"]["reason"] == "range_not_satisfiable"

    # One range inside the file and one beyond it: RFC 9110 serves the one inside.
    part = await api.client.get(url, headers={"Range": f"bytes=2-5, {size + 10}-"})
    assert part.status_code == 206, part.text
    assert part.content == whole[2:6]
    assert part.headers["content-range"] == f"bytes 2-5/{size}"
    clipped = await api.client.get(url, headers={"Range": f"bytes={size - 3}-{size + 50}"})
    assert clipped.status_code == 206 and clipped.content == whole[-3:]


def test_range_rules_by_hand() -> None:
    assert satisfiable_ranges("bytes=0-0", 10) == "bytes=0-0"
    assert satisfiable_ranges("BYTES = -3", 10) == "bytes=7-9"  # the unit is case-blind
    assert satisfiable_ranges("bytes=-3", 10) == "bytes=7-9"
    assert satisfiable_ranges("bytes=-30", 10) == "bytes=0-9"
    assert satisfiable_ranges("bytes=0-1,,4-", 10) == "bytes=0-1,4-9"
    assert satisfiable_ranges("pages=1-2", 10) is None
    assert satisfiable_ranges("bytes=" + ",".join(["0-1"] * 101), 10) is None
    with pytest.raises(RangeNotSatisfiable):
        satisfiable_ranges("bytes=10-", 10)
    with pytest.raises(RangeNotSatisfiable):
        satisfiable_ranges("bytes=-5", 0)


def _multipart(disposition: str, data: bytes) -> bytes:
    return (
        b"--B\r\nContent-Disposition: " + disposition.encode("latin-1") + b"\r\n"
        b"Content-Type: video/mp4\r\n\r\n" + data + b"\r\n--B--\r\n"
    )


@pytest.mark.parametrize(
    ("disposition", "stored"),
    [
        ("form-data; name=\"file\"; filename*=UTF-8''caf%C3%A9.mp4", "cafe.mp4"),
        ('form-data; name="file"; filename*="UTF-8\'\'..%2F..%2Fx.mp4"', "x.mp4"),
        ('form-data; name="file"; filename="old.mp4"; filename*=UTF-8\'\'new.mp4', "new.mp4"),
    ],
)
async def test_a_part_named_only_by_filename_star_is_the_file(
    api: Api, tiny_clip: Path, disposition: str, stored: str
) -> None:
    response = await api.client.post(
        "/api/v1/analyze",
        content=_multipart(disposition, tiny_clip.read_bytes()),
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    )
    assert response.status_code == 202, response.text
    key = response.json()["s3_key"]
    assert key.split("/")[2] == stored, key
