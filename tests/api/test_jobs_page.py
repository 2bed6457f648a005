"""The jobs page (``GET /jobs``) and the retry route it uses.

- The page is public and locked down (CSP, no-store, no inline script, no secret).
- ``POST /api/v1/jobs/{id}/retry``: 404 for an unknown job, 409 ``invalid_state`` for a
  job that is not failed or canceled, a comparison, or a clip that never arrived; 202
  with a new job for a failed or canceled analysis, which then runs.
- In a real browser (Debian's chromium, Playwright) against a real HTTP server on
  loopback: the page asks for a token, refuses a wrong one with the API's sentence,
  lists real jobs with their columns, cancels a queued job, retries a failed and a
  canceled one, filters by state, updates rows in place, and asks again for a token
  once it is revoked.

The server runs in this process (``api.server.ApiServer``) with its consumer started and
stopped by the test, so a job stays queued exactly as long as the test needs it to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.routes import jobs_page
from api.security import PUBLIC_PAGES, PUBLIC_ROUTES
from api.server import ApiServer
from dance_analysis.access import AccessService
from dance_analysis.jobs.consumer import Consumer
from dance_analysis.jobs.service import JobService
from tests.api.conftest import Api, running_api, wait_until_ended
from tests.api.test_phone_page import TIMEOUT_MS, _until, browser  # noqa: F401 (a fixture)
from tests.settings import make_settings

ENDED = ("finished", "failed", "canceled")


# -- the page itself ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_page_is_public_and_locked_down(api: Api) -> None:
    assert {("GET", "/jobs"), ("GET", "/static/jobs.js")} <= PUBLIC_PAGES
    assert not PUBLIC_PAGES & PUBLIC_ROUTES
    page = await api.anonymous.get("/jobs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert csp == jobs_page.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe" not in csp and "http" not in csp and "*" not in csp
    html = page.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert api.token not in html
    for asset, kind in (("jobs.js", "javascript"), ("jobs.css", "text/css")):
        got = await api.anonymous.get(f"/static/{asset}")
        assert got.status_code == 200 and kind in got.headers["content-type"], asset
        assert got.headers["cache-control"] == "no-store"
    # The data behind it is not public.
    assert (await api.anonymous.get("/api/v1/jobs")).status_code == 401


# -- the retry route --------------------------------------------------------------------------


def _clip_bytes(clip: Path, *, broken: bool = False) -> bytes:
    data = clip.read_bytes()
    return data[: len(data) // 2] if broken else data  # half: the index at the end is lost


async def _upload(client: httpx.AsyncClient, name: str, data: bytes) -> str:
    response = await client.post("/api/v1/analyze", files={"file": (name, data, "video/mp4")})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


@pytest.mark.anyio
async def test_retry_runs_a_failed_job_again_and_refuses_the_rest(
    tmp_path: Path, tiny_clip: Path
) -> None:
    async with running_api(make_settings(tmp_path / "data"), consumer=False) as api:
        client = api.client
        good = await _upload(client, "good.mp4", _clip_bytes(tiny_clip))
        broken = await _upload(client, "broken.mp4", _clip_bytes(tiny_clip, broken=True))

        unknown = await client.post("/api/v1/jobs/00000000-0000-4000-8000-000000000000/retry")
        assert unknown.status_code == 404, unknown.text
        assert unknown.json()["detail"]["reason"] == "job_not_found"
        queued = await client.post(f"/api/v1/jobs/{good}/retry")  # no consumer: still queued
        assert queued.status_code == 409, queued.text
        assert queued.json()["detail"] == {
            "reason": "invalid_state",
            "message": "The job is queued; only a failed or canceled job can be retried.",
        }
        anonymous = await api.anonymous.post(f"/api/v1/jobs/{broken}/retry")
        assert anonymous.status_code == 401

        consumer = api.service.start_consumer(workers=1)
        try:
            assert (await wait_until_ended(client, good))["status"] == "finished"
            failed = await wait_until_ended(client, broken)
        finally:
            consumer.stop(5)
        assert failed["status"] == "failed" and failed["error"]["reason"] == "corrupt_container"
        finished = await client.post(f"/api/v1/jobs/{good}/retry")
        assert finished.status_code == 409
        assert finished.json()["detail"]["reason"] == "invalid_state"

        # The list says which worker ran each ended job, and how many attempts it took.
        listed = {job["id"]: job for job in (await client.get("/api/v1/jobs")).json()["data"]}
        assert listed[broken]["worker_id"] and listed[good]["worker_id"]
        assert listed[broken]["attempts"] == 1
        assert listed[broken]["reason"] == "corrupt_container"

        # A comparison is compared again, not retried.
        compared = await client.post(
            "/api/v1/compare", json={"student_job_id": good, "reference_job_id": good}
        )
        assert compared.status_code == 202, compared.text
        comparison = compared.json()["job_id"]
        assert (await client.post(f"/api/v1/jobs/{comparison}/cancel")).status_code == 200
        refused = await client.post(f"/api/v1/jobs/{comparison}/retry")
        assert refused.status_code == 409
        assert "compare the two analyses again" in refused.json()["detail"]["message"]

        # A job canceled before its upload arrived has nothing to analyse again.
        ticket = (
            await client.post("/api/v1/analyze/upload-url", params={"filename": "never.mp4"})
        ).json()
        assert (await client.post(f"/api/v1/jobs/{ticket['job_id']}/cancel")).status_code == 200
        never = await client.post(f"/api/v1/jobs/{ticket['job_id']}/retry")
        assert never.status_code == 409
        assert "never arrived" in never.json()["detail"]["message"]

        # The failed job: a new job with the same clip, queued; the old one is gone.
        retried = await client.post(f"/api/v1/jobs/{broken}/retry")
        assert retried.status_code == 202, retried.text
        new = retried.json()
        assert new["id"] != broken and new["status"] == "queued"
        assert new["filename"] == "broken.mp4" and new["attempts"] == 0
        assert new["size_bytes"] == listed[broken]["size_bytes"]
        assert new["sha256"] == listed[broken]["sha256"]
        assert (await client.get(f"/api/v1/jobs/{broken}")).status_code == 404
        assert (await client.post(f"/api/v1/jobs/{broken}/retry")).status_code == 404

        consumer = api.service.start_consumer(workers=1)
        try:
            again = await wait_until_ended(client, new["id"])
        finally:
            consumer.stop(5)
        assert again["status"] == "failed" and again["started_at"] is not None
        job = (await client.get(f"/api/v1/jobs/{new['id']}")).json()
        assert job["attempts"] == 1 and job["worker_id"]


# -- in a browser -------------------------------------------------------------------------------


@dataclass
class Studio:
    """A real server on loopback whose consumer the test starts and stops."""

    server: ApiServer
    service: JobService
    access: AccessService
    token: str
    consumer: Consumer | None = None

    @property
    def url(self) -> str:
        return str(self.server.url)

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.token}"}
        )

    def start_consumer(self) -> None:
        self.consumer = self.service.start_consumer(workers=1)

    def stop_consumer(self) -> None:
        if self.consumer is not None:
            self.consumer.stop(5)
            self.consumer = None


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Studio]:
    settings = make_settings(tmp_path / "data")
    service = JobService(settings)
    access = AccessService(settings)
    server = ApiServer(create_app(settings, service, access), "127.0.0.1", 0, access_log=False)
    server.start()
    running = Studio(server, service, access, access.create_token("jobs page"))
    try:
        yield running
    finally:
        running.stop_consumer()
        server.stop()
        service.close()


def _send(http: httpx.Client, name: str, data: bytes) -> str:
    response = http.post("/api/v1/analyze", files={"file": (name, data, "video/mp4")})
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def _job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    response = http.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def _row(job_id: str) -> str:
    return f"#jobs tbody tr[data-job-id='{job_id}']"


def _row_ids(page: Any) -> list[str]:
    ids: list[str] = page.evaluate(
        "Array.from(document.querySelectorAll('#jobs tbody tr')).map(r => r.dataset.jobId)"
    )
    return ids


def _new_ids(http: httpx.Client, known: set[str]) -> list[str]:
    return [job["id"] for job in http.get("/api/v1/jobs").json()["data"] if job["id"] not in known]


def test_the_jobs_page_lists_cancels_and_retries_real_jobs(
    studio: Studio,
    browser: Any,  # noqa: F811 (the fixture imported above)
    tiny_clip: Path,
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)

    # No token yet: the page asks for one and calls nothing.
    page.goto(f"{studio.url}/jobs")
    page.wait_for_selector("#token-form", state="visible")
    assert page.is_hidden("#jobs-section") and page.is_hidden("#error")
    assert "token create" in (page.text_content("#token-section") or "")
    assert api_calls == []

    # A wrong token: the API's sentence, and the form again.
    page.fill("#token", "not-a-real-token")
    page.click("#token-button")
    page.wait_for_selector("#error", state="visible")
    error = page.text_content("#error") or ""
    assert "refused the token" in error and "unknown or was revoked" in error, error
    assert page.is_visible("#token-form") and page.is_hidden("#jobs-section")
    assert page.evaluate("localStorage.getItem('dance-analysis.jobs-token')") is None

    # Three real jobs, none running yet (the consumer is stopped): a good clip, a broken
    # one and another good one, sent in that order.
    with studio.http() as http:
        good = _send(http, "good.mp4", _clip_bytes(tiny_clip))
        broken = _send(http, "broken.mp4", _clip_bytes(tiny_clip, broken=True))
        waiting = _send(http, "waiting.mp4", _clip_bytes(tiny_clip))

    page.fill("#token", f"  {studio.token} ")
    page.click("#token-button")
    page.wait_for_selector(_row(good))
    assert page.is_hidden("#error") and page.is_hidden("#token-section")
    assert page.evaluate("localStorage.getItem('dance-analysis.jobs-token')") == studio.token
    assert _row_ids(page) == [waiting, broken, good]  # newest first
    row = page.locator(_row(waiting))
    assert row.locator(".name").text_content() == "waiting.mp4"
    assert row.locator(".job-id").get_attribute("title") == waiting
    assert row.locator(".kind").text_content() == "analysis"
    assert row.locator(".state").text_content() == "queued"
    assert row.locator(".attempts").text_content() == "0"
    assert row.locator(".pct").text_content() == "0%"
    assert row.locator(".worker").text_content() == ""
    assert row.locator(".cancel-button").is_visible() and row.locator(".retry-button").is_hidden()

    # Cancel the queued one.
    row.locator(".cancel-button").click()
    page.wait_for_selector(f"{_row(waiting)}[data-status=canceled]")
    assert page.text_content("#notice") == "“waiting.mp4” was canceled."
    with studio.http() as http:
        assert _job(http, waiting)["status"] == "canceled"
    assert row.locator(".reason").text_content() == "canceled"
    assert row.locator(".message").text_content() == "The analysis was canceled."
    assert row.locator(".cancel-button").is_hidden() and row.locator(".retry-button").is_visible()

    # Run the other two: one finishes, the broken one fails with its reason.
    studio.start_consumer()
    page.wait_for_selector(f"{_row(good)}[data-status=finished]")
    page.wait_for_selector(f"{_row(broken)}[data-status=failed]")
    studio.stop_consumer()
    with studio.http() as http:
        finished, failed = _job(http, good), _job(http, broken)
    done = page.locator(_row(good))
    assert done.locator(".state").text_content() == "finished"
    assert done.locator(".pct").text_content() == "100%"
    assert done.locator(".attempts").text_content() == "1"
    assert done.locator(".worker").text_content() == finished["worker_id"]
    assert done.locator(".reason").text_content() == ""
    assert done.locator(".started").text_content() and done.locator(".ended").text_content()
    assert done.locator(".cancel-button").is_hidden() and done.locator(".retry-button").is_hidden()
    bad = page.locator(_row(broken))
    assert failed["reason"] == "corrupt_container" and failed["message"]
    assert bad.locator(".reason").text_content() == failed["reason"]
    assert bad.locator(".message").text_content() == failed["message"]
    assert bad.locator(".worker").text_content() == failed["worker_id"]
    assert bad.locator(".attempts").text_content() == "1"

    # Refreshes update the rows in place: the same elements, so no flicker, no jump.
    done.evaluate("row => { row.dataset.marked = 'yes'; }")
    stamp = page.text_content("#updated")
    _until(page, f"document.getElementById('updated').textContent !== {stamp!r}")
    assert page.get_attribute(_row(good), "data-marked") == "yes"

    # Filter by state.
    page.select_option("#state-filter", "failed")
    _until(page, "document.querySelectorAll('#jobs tbody tr').length === 1")
    assert _row_ids(page) == [broken]
    page.select_option("#state-filter", "")
    _until(page, "document.querySelectorAll('#jobs tbody tr').length === 3")

    # Retry the failed job: a new job takes its place and runs (and fails the same way).
    known = {good, broken, waiting}
    bad.locator(".retry-button").click()
    page.wait_for_selector(_row(broken), state="detached")
    with studio.http() as http:
        (again,) = _new_ids(http, known)
    page.wait_for_selector(f"{_row(again)}[data-status=queued]")
    assert "queued again as a new job" in (page.text_content("#notice") or "")
    assert _row_ids(page)[0] == again
    studio.start_consumer()
    page.wait_for_selector(f"{_row(again)}[data-status=failed]")
    studio.stop_consumer()
    assert page.locator(_row(again)).locator(".attempts").text_content() == "1"
    assert page.locator(_row(again)).locator(".reason").text_content() == "corrupt_container"

    # Retry the canceled one: it runs to the end this time.
    page.locator(_row(waiting)).locator(".retry-button").click()
    page.wait_for_selector(_row(waiting), state="detached")
    with studio.http() as http:
        (rerun,) = _new_ids(http, known | {again})
    studio.start_consumer()
    page.wait_for_selector(f"{_row(rerun)}[data-status=finished]")
    studio.stop_consumer()
    assert page.locator(_row(rerun)).locator(".name").text_content() == "waiting.mp4"

    # Revoke the token while the page is open: the next refresh asks for a new one.
    device = studio.access.verify(studio.token)
    assert device is not None
    studio.access.revoke(device.id)
    page.wait_for_selector("#token-section", state="visible")
    assert "unknown or was revoked" in (page.text_content("#error") or "")
    assert page.evaluate("localStorage.getItem('dance-analysis.jobs-token')") is None
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    context.close()


def test_a_canceled_job_in_the_middle_of_its_run_is_said_so(
    studio: Studio,
    browser: Any,  # noqa: F811 (the fixture imported above)
    tiny_clip: Path,
) -> None:
    """Cancel on a started job: the API flags it and its worker ends it; the page says so."""
    with studio.http() as http:
        job_id = _send(http, "long.mp4", _clip_bytes(tiny_clip))
        # Started by hand, as a worker's claim would: no worker runs it, so it stays started.
        from dance_analysis.jobs import transitions

        def claim(session: Any) -> None:
            record = transitions.locked_job(session, job_id)
            assert record is not None and transitions.claim(record, "studio-box:42:abcd", 60)

        studio.service.database.write(claim)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{studio.url}/jobs")
        page.fill("#token", studio.token)
        page.click("#token-button")
        row = page.locator(f"{_row(job_id)}[data-status=started]")
        row.wait_for()
        assert row.locator(".worker").text_content() == "studio-box:42:abcd"
        assert row.locator(".stage").text_content() == "fetch"
        row.locator(".cancel-button").click()
        page.wait_for_selector("#notice", state="visible")
        assert page.text_content("#notice") == (
            "Canceling “long.mp4”: its worker stops it within moments."
        )
        assert _job(http, job_id)["status"] == "started"  # flagged; the worker ends it
    page.close()


def test_show_more_pages_through_a_long_list(
    studio: Studio,
    browser: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    """Fifty rows at first; "Show more" adds the rest, and hides once none are left."""
    with studio.http() as http:
        made = [
            http.post("/api/v1/analyze/upload-url", params={"filename": f"clip{i:02d}.mp4"}).json()[
                "job_id"
            ]
            for i in range(53)
        ]
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{studio.url}/jobs")
    page.fill("#token", studio.token)
    page.click("#token-button")
    page.wait_for_selector("#more-button", state="visible")
    assert _row_ids(page) == made[::-1][:50]
    assert page.text_content("#shown") == "The newest 50 jobs."
    awaiting = page.locator(_row(made[-1]))
    assert awaiting.locator(".state").text_content() == "awaiting upload"
    assert awaiting.locator(".cancel-button").is_visible()
    page.click("#more-button")
    page.wait_for_selector("#more-button", state="hidden")
    assert _row_ids(page) == made[::-1]
    assert page.text_content("#shown") == "53 jobs."
    page.close()
