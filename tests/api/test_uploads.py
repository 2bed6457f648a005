"""Uploads under attack (RELIABILITY §17–21, 23): hostile names, oversized and lying
bodies, forged links, multipart abuse, a full disk. Nothing may stay behind.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api, files_under, running_api, upload_flow
from tests.settings import make_settings

pytestmark = pytest.mark.anyio

CAP = 256 * 1024


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(make_settings(tmp_path / "data", max_upload_bytes=CAP)) as api:
        yield api


def _leftovers(api: Api) -> list[Path]:
    """Upload files and partial files under the data folder."""
    root = Path(api.settings.data_dir)
    return files_under(root, lambda p: "uploads" in p.parts or ".partial" in p.name)


async def _ticket(api: Api, filename: str = "clip.mp4", content_type: str = "video/mp4") -> dict:
    response = await api.client.post(
        "/api/v1/analyze/upload-url", params={"filename": filename, "content_type": content_type}
    )
    assert response.status_code == 200, response.text
    return response.json()


HOSTILE_NAMES = [
    "../../etc/passwd.mp4",
    "..\\..\\x.mp4",
    "/etc/shadow.mp4",
    "C:\\Windows\\system32\\evil.mp4",
    "nul\x00byte.mp4",
    "cr\r\nSet-Cookie: a=b.mp4",
    'quote".mp4',
    "x" * 10_000 + ".mp4",
    "\u202egnp.mp4",
    "CON.mp4",
    "filename*=UTF-8''%2e%2e%2fx.mp4",
    "..",
    "....mp4",
]


async def test_hostile_filenames_stay_inside_the_storage_root(capped: Api, tiny_clip: Path) -> None:
    root = Path(capped.settings.data_dir).resolve()
    for name in HOSTILE_NAMES:
        accepted = await upload_flow(capped.client, tiny_clip, filename=name)
        key = accepted["s3_key"]
        job_id, stored = key.split("/")[1], key.split("/")[2]
        assert key == f"uploads/{job_id}/{stored}"
        assert stored.isascii() and 0 < len(stored) <= 100
        assert not set(stored) & set("/\\\x00\r\n\"'") and stored.strip(".")
        assert stored.split(".")[0].upper() != "CON"
    for path in root.rglob("*"):
        assert path.resolve().is_relative_to(root)
    outside = [p for p in root.parent.iterdir() if p.name not in (root.name,)]
    assert not [p for p in outside if p.name in ("passwd.mp4", "x.mp4", "evil.mp4")]


async def test_downloads_get_a_safe_content_disposition(capped: Api, tiny_clip: Path) -> None:
    from tests.api.conftest import wait_until_ended

    accepted = await upload_flow(capped.client, tiny_clip, filename='a"\r\nb/../c.mp4')
    assert (await wait_until_ended(capped.client, accepted["job_id"]))["status"] == "finished"
    result = (await capped.client.get(f"/api/v1/analyze/{accepted['job_id']}/result")).json()
    for name, url in result["downloads"].items():
        response = await capped.anonymous.get(url)
        disposition = response.headers["content-disposition"]
        # The student's report opens in the browser; every other file is saved.
        kind = "inline" if name == "report" else "attachment"
        assert disposition.startswith(f'{kind}; filename="'), name
        assert disposition.count('"') == 2 and "\r" not in disposition and "/" not in disposition


async def test_honest_length_over_the_cap_is_refused_before_reading(capped: Api) -> None:
    ticket = await _ticket(capped)
    app = capped.client._transport.app  # type: ignore[attr-defined]
    path, _, query = ticket["upload_url"].partition("://")[2].partition("/")[2].partition("?")
    reads = 0

    async def receive() -> dict:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"\x00" * 65536, "more_body": True}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "PUT", "path": "/" + path, "raw_path": ("/" + path).encode(),
        "query_string": query.encode(), "http_version": "1.1", "scheme": "http",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"video/mp4"),
                    (b"content-length", str(CAP + 1).encode())],
    }  # fmt: skip
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert reads == 0
    assert not _leftovers(capped)


async def test_a_chunked_body_is_cut_at_the_cap(capped: Api) -> None:
    ticket = await _ticket(capped)

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(CAP // 4096 + 50):
            yield b"\x00" * 4096

    response = await capped.anonymous.put(
        ticket["upload_url"], content=endless(), headers={"Content-Type": "video/mp4"}
    )
    assert response.status_code == 413
    assert response.json()["detail"]["reason"] == "upload_too_large"
    assert not _leftovers(capped)
    confirm = await capped.client.post(
        "/api/v1/analyze/confirm", params={"job_id": ticket["job_id"], "s3_key": ticket["s3_key"]}
    )
    assert confirm.status_code == 404


async def test_multipart_over_the_cap(capped: Api) -> None:
    response = await capped.client.post(
        "/api/v1/analyze", files={"file": ("big.mp4", b"\x00" * (CAP + 10), "video/mp4")}
    )
    assert response.status_code == 413
    assert (await capped.client.get("/api/v1/jobs")).json()["count"] == 0
    assert not _leftovers(capped)


async def test_upload_links_are_bound_to_content_type_name_and_time(
    capped: Api, tiny_clip: Path
) -> None:
    ticket = await _ticket(capped)
    url = ticket["upload_url"]
    data = tiny_clip.read_bytes()
    wrong_type = await capped.anonymous.put(
        url, content=data, headers={"Content-Type": "text/html"}
    )
    assert wrong_type.status_code == 403
    assert wrong_type.json()["detail"]["reason"] == "bad_signature"
    other_name = url.replace("/clip.mp4?", "/other.mp4?")
    renamed = await capped.anonymous.put(
        other_name, content=data, headers={"Content-Type": "video/mp4"}
    )
    assert renamed.status_code == 403
    parts = urlsplit(url)
    query = dict(pair.split("=") for pair in parts.query.split("&"))
    forged = url.replace(query["sig"], "0" * len(query["sig"]))
    assert (
        await capped.anonymous.put(forged, content=data, headers={"Content-Type": "video/mp4"})
    ).status_code == 403
    later = url.replace(f"expires={query['expires']}", f"expires={int(query['expires']) + 999}")
    assert (
        await capped.anonymous.put(later, content=data, headers={"Content-Type": "video/mp4"})
    ).status_code == 403
    assert not _leftovers(capped)


async def test_an_expired_link_says_so_and_asking_again_keeps_the_job(
    tmp_path: Path, tiny_clip: Path
) -> None:
    settings = make_settings(tmp_path, upload_url_expiry_s=1)
    async with running_api(settings, consumer=False) as api:
        params = {"filename": "late.mp4", "content_type": "video/mp4"}
        first = (await api.client.post("/api/v1/analyze/upload-url", params=params)).json()
        import anyio

        await anyio.sleep(2.1)
        late = await api.anonymous.put(
            first["upload_url"],
            content=tiny_clip.read_bytes(),
            headers={"Content-Type": "video/mp4"},
        )
        assert late.status_code == 403
        assert late.json()["detail"]["reason"] == "upload_expired"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"--B\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n\r\n" * 2000 + b"--B--\r\n",
         422),
        (b"--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + b"a" * (2 << 20)
         + b"\r\n--B--\r\n", 413),
        (b"--B\r\nContent-Disposition: form-data; name=\"../../x\"; filename=\"../../x\"\r\n\r\n"
         b"abc\r\n--B--\r\n", 422),
        (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n"
         b"\x00\x00\x00\x18ftypmp42", 400),
        (b"--B\r\n" + b"X-Long: " + b"h" * 20000 + b"\r\n\r\nabc\r\n--B--\r\n", 422),
    ],
    ids=["thousands-of-parts", "huge-text-field", "path-like-field", "truncated", "huge-header"],
)  # fmt: skip
async def test_multipart_abuse_is_refused(capped: Api, body: bytes, status: int) -> None:
    response = await capped.client.post(
        "/api/v1/analyze", content=body, headers={"Content-Type": "multipart/form-data; boundary=B"}
    )
    assert response.status_code == status, response.text
    assert "reason" in response.json()["detail"]
    assert (await capped.client.get("/api/v1/jobs")).json()["count"] == 0
    assert not _leftovers(capped)
    assert (await capped.anonymous.get("/health")).status_code == 200


async def test_multipart_needs_a_multipart_body(capped: Api) -> None:
    response = await capped.client.post(
        "/api/v1/analyze", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 415


@contextlib.contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"a small tmpfs is needed to fill a disk: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


async def test_a_full_disk_is_507_and_leaves_nothing(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk", "3m") as disk:
        async with running_api(make_settings(disk / "data"), consumer=False) as api:
            ticket = await _ticket(api)
            response = await api.anonymous.put(
                ticket["upload_url"],
                content=b"\x00" * (4 << 20),
                headers={"Content-Type": "video/mp4"},
            )
            assert response.status_code == 507, response.text
            assert response.json()["detail"]["reason"] == "insufficient_storage"
            assert not _leftovers(api)
            assert (await api.anonymous.get("/health")).status_code == 200


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 4096 + 1):
        yield b" " * 4096


@pytest.mark.parametrize(
    "how",
    ["json-honest-length", "json-chunked", "multipart-field", "multipart-file", "put-chunked",
     "declared-size"],
)  # fmt: skip
async def test_every_body_over_a_cap_has_one_reason(capped: Api, how: str) -> None:
    """Whichever cap (the small-body cap, the upload cap) and however it is noticed."""
    small_cap = 1024 * 1024  # api.security.SMALL_BODY_BYTES: bodies of non-upload routes
    url, json_type = "/api/v1/analyze/upload-url", {"Content-Type": "application/json"}
    client = capped.client
    if how == "json-honest-length":
        response = await client.post(url, content=b" " * (small_cap + 1), headers=json_type)
    elif how == "json-chunked":
        response = await client.post(url, content=_chunks(small_cap + 1), headers=json_type)
    elif how == "multipart-field":
        # Under the declared-length cap, over the cap on fields that are not the file.
        body = (b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\n' + b"a" * (100 << 10)
                + b"\r\n--B--\r\n")  # fmt: skip
        multipart = {"Content-Type": "multipart/form-data; boundary=B"}
        response = await client.post("/api/v1/analyze", content=body, headers=multipart)
    elif how == "multipart-file":
        files = {"file": ("big.mp4", b"\x00" * (CAP + 10), "video/mp4")}
        response = await client.post("/api/v1/analyze", files=files)
    elif how == "put-chunked":
        ticket = await _ticket(capped)
        response = await capped.anonymous.put(
            ticket["upload_url"], content=_chunks(CAP + 1), headers={"Content-Type": "video/mp4"}
        )
    else:
        response = await client.post(url, json={"filename": "a.mp4", "size": CAP + 1})
    assert response.status_code == 413, response.text
    assert response.json()["detail"]["reason"] == "upload_too_large"
