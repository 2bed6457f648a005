"""Share links to a student's report (issue 12): made with a token, opened without one.

One real ``python main.py serve`` on loopback (mock pose mode): a clip goes through the
documented upload flow, the coach asks for a share link, and the link opens the report
with no token; a tampered signature is refused, and a link made already expired (the
engine's clock passed in, through a job service on the server's data folder: no
sleeping) answers 410 ``link_expired``, to a browser as a page. Also: the list of links,
the limits on their lifetime, that neither a download nor a share signature opens the
other's route, and that a deleted job's links stop.
"""

from __future__ import annotations

import math
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api.routes.shares import REPORT_POLICY
from api.security import PUBLIC_ROUTES
from dance_analysis.jobs.service import JobService
from dance_analysis.storage.signing import sign_download
from tests.api.conftest import Server, upload_flow, wait_until_ended
from tests.settings import make_settings

pytestmark = pytest.mark.anyio

DAY_S = 86_400


def _tampered(url: str) -> str:
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    return url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])


async def test_a_share_link_opens_the_report_without_a_token_until_it_expires(
    server: Server, tiny_clip: Path
) -> None:
    assert ("GET", "/r/{share_id}") in PUBLIC_ROUTES
    service = JobService(make_settings(server.data_dir))  # the server's database and secret
    async with server.client() as client, httpx.AsyncClient(timeout=60) as stranger:
        try:
            await _share_and_open(server, client, stranger, service, tiny_clip)
        finally:
            service.close()


async def _share_and_open(
    server: Server,
    client: httpx.AsyncClient,
    stranger: httpx.AsyncClient,
    service: JobService,
    clip: Path,
) -> None:
    job_id = (await upload_flow(client, clip))["job_id"]
    assert (await wait_until_ended(client, job_id))["status"] == "finished"
    share_path = f"/api/v1/analyze/{job_id}/share"

    made = await client.post(share_path, json={"expires_in_s": 3600})
    assert made.status_code == 201, made.text
    share = made.json()
    assert share["url"].startswith(f"{server.url}/r/") and not share["expired"]
    assert share["qr_svg"].startswith("<svg") and "<script" not in share["qr_svg"]
    span = datetime.fromisoformat(share["expires_at"]) - datetime.fromisoformat(share["created_at"])
    assert math.ceil(span.total_seconds()) == 3600

    opened = await stranger.get(share["url"])  # no Authorization header at all
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"].startswith("text/html")
    assert opened.headers["content-security-policy"] == REPORT_POLICY
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert "<h2>Key moments</h2>" in opened.text and "<script" not in opened.text

    forged = await stranger.get(_tampered(share["url"]))
    assert forged.status_code == 403
    assert forged.json()["detail"]["reason"] == "bad_signature"
    link = urlsplit(share["url"])
    assert (await stranger.get(f"{server.url}{link.path}")).status_code == 403  # unsigned

    # Making one needs a token, a finished job and a lifetime from a minute to 90 days.
    assert (await stranger.post(f"{server.url}{share_path}")).status_code == 401
    for bad in (
        {"expires_in_s": 59},
        {"expires_in_s": 90 * DAY_S + 1},
        {"expires_in_s": "7"},
        {"expires_in_s": 3600.0},
    ):
        assert (await client.post(share_path, json=bad)).status_code == 422, bad
    unknown = "/api/v1/analyze/00000000-0000-4000-8000-000000000000/share"
    assert (await client.post(unknown)).status_code == 404
    week = (await client.post(share_path)).json()  # no body: seven days
    span = datetime.fromisoformat(week["expires_at"]) - datetime.fromisoformat(week["created_at"])
    assert math.ceil(span.total_seconds()) == 7 * DAY_S

    # A download signature does not open a report, nor a share signature a download.
    share_id = link.path.rsplit("/", 1)[-1]
    expires = int(time.time()) + 600
    as_download = sign_download(service.secret, share_id, "report", expires)
    crossed = await stranger.get(
        f"{server.url}/r/{share_id}", params={"expires": expires, "sig": as_download}
    )
    assert crossed.status_code == 403
    query = parse_qs(link.query)
    download = await stranger.get(
        f"{server.url}/api/v1/jobs/{job_id}/artifacts/report",
        params={"expires": query["expires"][0], "sig": query["sig"][0]},
    )
    assert download.status_code == 401 and download.json()["detail"]["reason"] == "bad_signature"

    # Made an hour ago for a minute: the engine's clock, not a sleep.
    old = service.create_share(job_id, 60, now=time.time() - 3600)
    listed = (await client.get(f"/api/v1/analyze/{job_id}/shares")).json()
    assert listed["count"] == 3
    (expired,) = (entry for entry in listed["data"] if entry["expired"])
    assert f"/r/{old.id}?" in expired["url"]
    gone = await stranger.get(expired["url"])
    assert gone.status_code == 410
    assert gone.json()["detail"]["reason"] == "link_expired"
    page = await stranger.get(expired["url"], headers={"Accept": "text/html,*/*"})
    assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
    assert 'data-reason="link_expired"' in page.text and "Ask your coach" in page.text

    assert (await client.delete(f"/api/v1/analyze/{job_id}")).status_code == 200
    after = await stranger.get(share["url"])  # the job's links went with it
    assert after.status_code == 404 and after.json()["detail"]["reason"] == "object_missing"
