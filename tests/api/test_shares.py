"""Share links to a student's report (issue 12): made with a token, opened without one.

One real ``python main.py serve`` on loopback (mock pose mode): a clip goes through the
documented upload flow, the coach asks for a share link, and the link opens the report
with no token; a tampered signature is refused, and a link made already expired (the
engine's clock passed in, no sleeping) answers 410 ``link_expired``. In process: the
list of links, the limits on their lifetime, the page a browser gets for a dead link,
and that neither kind of signature opens the other's route.
"""

from __future__ import annotations

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
from tests.api.conftest import BASE, Api, Server, upload_flow, wait_until_ended
from tests.settings import make_settings

pytestmark = pytest.mark.anyio

DAY_S = 86_400


def _tampered(url: str) -> str:
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    return url.replace(sig, ("0" if sig[0] != "0" else "1") + sig[1:])


async def test_a_share_link_opens_the_report_without_a_token_until_it_expires(
    server: Server, tiny_clip: Path
) -> None:
    async with server.client() as client, httpx.AsyncClient(timeout=60) as stranger:
        accepted = await upload_flow(client, tiny_clip)
        job_id = accepted["job_id"]
        assert (await wait_until_ended(client, job_id))["status"] == "finished"

        made = await client.post(f"/api/v1/analyze/{job_id}/share", json={"expires_in_s": 3600})
        assert made.status_code == 201, made.text
        share = made.json()
        assert share["url"].startswith(f"{server.url}/r/") and not share["expired"]
        assert share["qr_svg"].startswith("<svg") and "<script" not in share["qr_svg"]

        opened = await stranger.get(share["url"])  # no Authorization header at all
        assert opened.status_code == 200, opened.text
        assert opened.headers["content-type"].startswith("text/html")
        assert opened.headers["content-security-policy"] == REPORT_POLICY
        assert opened.headers["referrer-policy"] == "no-referrer"
        assert "<h2>Key moments</h2>" in opened.text and "<script" not in opened.text

        forged = await stranger.get(_tampered(share["url"]))
        assert forged.status_code == 403
        assert forged.json()["detail"]["reason"] == "bad_signature"

        # Made an hour ago for a minute: the engine's clock, not a sleep.
        service = JobService(make_settings(server.data_dir))
        try:
            old = service.create_share(job_id, 60, now=time.time() - 3600)
        finally:
            service.close()
        listed = (await client.get(f"/api/v1/analyze/{job_id}/shares")).json()
        assert listed["count"] == 2
        expired = next(entry for entry in listed["data"] if entry["expired"])
        assert old.id in expired["url"]
        gone = await stranger.get(expired["url"])
        assert gone.status_code == 410
        assert gone.json()["detail"]["reason"] == "link_expired"


async def test_links_have_limits_and_a_dead_link_reads_as_a_page(api: Api, tiny_clip: Path) -> None:
    assert ("GET", "/r/{share_id}") in PUBLIC_ROUTES
    accepted = await upload_flow(api.client, tiny_clip)
    job_id = accepted["job_id"]
    assert (await wait_until_ended(api.client, job_id))["status"] == "finished"
    share_path = f"/api/v1/analyze/{job_id}/share"

    assert (await api.anonymous.post(share_path)).status_code == 401  # making one needs a token
    for bad in ({"expires_in_s": 59}, {"expires_in_s": 90 * DAY_S + 1}, {"expires_in_s": "7"}):
        refused = await api.client.post(share_path, json=bad)
        assert refused.status_code == 422, bad
    missing = await api.client.post("/api/v1/analyze/00000000-0000-4000-8000-000000000000/share")
    assert missing.status_code == 404

    made = (await api.client.post(share_path)).json()  # no body: seven days
    span = datetime.fromisoformat(made["expires_at"]) - datetime.fromisoformat(made["created_at"])
    assert span.total_seconds() == 7 * DAY_S
    link = urlsplit(made["url"])
    assert f"{link.scheme}://{link.netloc}" == BASE  # the address the caller used
    path = f"{link.path}?{link.query}"
    assert (await api.anonymous.get(path)).status_code == 200

    # A download signature does not open a report, nor a share signature a download.
    share_id = urlsplit(path).path.rsplit("/", 1)[-1]
    expires = int(time.time()) + 600
    as_download = sign_download(api.service.secret, share_id, "report", expires)
    crossed = await api.anonymous.get(
        f"/r/{share_id}", params={"expires": expires, "sig": as_download}
    )
    assert crossed.status_code == 403
    query = parse_qs(urlsplit(path).query)
    download = await api.anonymous.get(
        f"/api/v1/jobs/{job_id}/artifacts/report",
        params={"expires": query["expires"][0], "sig": query["sig"][0]},
    )
    assert download.status_code == 401 and download.json()["detail"]["reason"] == "bad_signature"

    old = api.service.create_share(job_id, 60, now=time.time() - 120)
    dead = f"/r/{old.id}?expires={old.expires}&sig={old.signature}"
    page = await api.anonymous.get(dead, headers={"Accept": "text/html,*/*"})
    assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
    assert 'data-reason="link_expired"' in page.text and "Ask your coach" in page.text
    assert (await api.anonymous.get(f"/r/{old.id}")).status_code == 403  # no signature at all

    api.service.delete(job_id)  # the job's links go with it
    assert (await api.anonymous.get(path)).json()["detail"]["reason"] == "object_missing"
