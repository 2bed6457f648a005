"""Students over HTTP (issue 12, point 3): one real ``python main.py serve`` on loopback.

A paired phone sends two lessons of Anna's (the three-step upload with the student in
the JSON body, and the legacy multipart upload with it as a form field); the studio's
own token sends a teacher's clip and names its student afterwards (``PUT
/analyze/{id}/student``); the phone compares its first lesson with the teacher's. Then
``/students``, ``/students/{name}/progress``, ``/jobs?student=`` and the phone's own
history ``/me/jobs`` are read, and the phone page lists that history in Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import Server, finished_sync, pair_phone, serving, upload_sync
from tests.api.test_phone_page import TIMEOUT_MS, _until, browser

__all__ = ["browser"]  # the Chromium fixture, shared with the phone page's tests


@dataclass
class School:
    server: Server
    phone_token: str
    first: str  # Anna's first lesson (compared), sent by the phone
    second: str  # Anna's second lesson, sent by the phone (multipart)
    teacher: str  # sent with the studio's token, named afterwards
    comparison: str

    def http(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.url, timeout=60,
            headers={"Authorization": f"Bearer {token or self.server.token}"},
        )  # fmt: skip


@pytest.fixture(scope="module")
def groove(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four seconds of the squats clip over a 124 BPM drum groove (half the suite's
    music_clip: four analyses of it are this module's setup)."""
    from tests.music.synth import groove_clip

    return groove_clip(tmp_path_factory.mktemp("groove"), seconds=4.0)


@pytest.fixture(scope="module")
def school(
    tmp_path_factory: pytest.TempPathFactory, groove: Path, tiny_clip: Path
) -> Iterator[School]:
    with serving(tmp_path_factory.mktemp("school") / "data") as server:
        phone_token = pair_phone(server, "Anna's phone")
        with (
            httpx.Client(
                base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {phone_token}"}
            ) as phone,
            httpx.Client(
                base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {server.token}"}
            ) as studio,
        ):
            first = upload_sync(
                phone, groove, "monday.mp4", student="Anna Lee", class_name="Juniors"
            )
            sent = phone.post(
                "/api/v1/analyze",
                files={"file": ("thursday.mp4", tiny_clip.read_bytes(), "video/mp4")},
                data={"student": "  anna   lee "},
            )
            assert sent.status_code == 202, sent.text
            second = sent.json()["job_id"]
            teacher = upload_sync(studio, groove, "teacher.mp4")
            for job_id in (first, second, teacher):
                finished_sync(phone, job_id)
            named = studio.put(
                f"/api/v1/analyze/{teacher}/student",
                json={"student": " Coach  Kim ", "class_name": "Staff"},
            )
            assert named.status_code == 200, named.text
            assert (named.json()["student"], named.json()["class_name"]) == ("Coach Kim", "Staff")
            asked = phone.post(
                "/api/v1/compare", json={"student_job_id": first, "reference_job_id": teacher}
            )
            assert asked.status_code == 202, asked.text
            comparison = asked.json()["job_id"]
            finished_sync(phone, comparison)
        yield School(server, phone_token, first, second, teacher, comparison)


def test_students_and_their_progress_over_http(school: School) -> None:
    with school.http() as http:
        students = http.get("/api/v1/students")
        assert students.status_code == 200, students.text
        assert students.json()["count"] == 2
        anna, kim = students.json()["data"]
        assert (anna["name"], anna["class_name"], anna["lessons"]) == ("anna lee", "Juniors", 2)
        assert (kim["name"], kim["lessons"]) == ("Coach Kim", 1)

        progress = http.get("/api/v1/students/Anna%20LEE/progress")
        assert progress.status_code == 200, progress.text
        lessons = progress.json()["lessons"]
        assert [lesson["job_id"] for lesson in lessons] == [school.first, school.second]
        first, second = lessons
        result = http.get(f"/api/v1/analyze/{school.comparison}/result").json()
        whole = httpx.get(result["downloads"]["result"], timeout=60).json()
        compared = whole["comparison"]  # beside the student's own timing, as they analysed it
        assert first["overall_score"] == pytest.approx(compared["overall"], abs=0.01)
        assert first["comparison_job_id"] == school.comparison
        assert second["overall_score"] is None
        assert first["timing_offset_ms"] == whole["timing"]["mean_offset_ms"]
        assert first["tempo_bpm"] == pytest.approx(124, abs=3)
        assert set(first["angles"]["left_knee"]) == {"min", "max", "range", "mean"}
        assert http.get("/api/v1/students/nobody/progress").json()["lessons"] == []

        listed = http.get("/api/v1/jobs", params={"student": "ANNA LEE"}).json()["data"]
        assert {job["id"] for job in listed} == {school.first, school.second, school.comparison}
        status = http.get(f"/api/v1/analyze/{school.second}/status").json()
        assert (status["student"], status["class_name"]) == ("anna lee", None)

        too_long = http.put(f"/api/v1/analyze/{school.second}/student", json={"student": "x" * 81})
        assert too_long.status_code == 422, too_long.text
        assert too_long.json()["detail"]["reason"] == "invalid_request"
        assert "at most 80" in too_long.json()["detail"]["message"]
        hidden = http.put(
            f"/api/v1/analyze/{school.second}/student", json={"student": "Anna\u200bLee"}
        )
        assert hidden.status_code == 422 and "invisible" in hidden.json()["detail"]["message"]
        refused = http.put(
            f"/api/v1/analyze/{school.comparison}/student", json={"student": "Someone"}
        )
        assert refused.status_code == 409, refused.text
        gone = http.put(
            "/api/v1/analyze/00000000-0000-4000-8000-000000000000/student", json={"student": "A"}
        )
        assert gone.status_code == 404
        bad_upload = http.post(
            "/api/v1/analyze/upload-url", json={"filename": "x.mp4", "student": "y" * 200}
        )
        assert bad_upload.status_code == 422
        assert bad_upload.json()["detail"]["reason"] == "invalid_request"
    with httpx.Client(base_url=school.server.url, timeout=30) as anonymous:
        for path in ("/api/v1/students", "/api/v1/students/a/progress", "/api/v1/me/jobs"):
            assert anonymous.get(path).status_code == 401, path


def test_a_phone_reads_its_own_history(school: School) -> None:
    with school.http(school.phone_token) as phone:
        mine = phone.get("/api/v1/me/jobs")
        assert mine.status_code == 200, mine.text
        jobs = mine.json()["data"]
        assert [job["job_id"] for job in jobs] == [school.comparison, school.second, school.first]
        comparison, _, first = jobs
        assert comparison["kind"] == "comparison" and comparison["overall_score"] is not None
        assert (first["student"], first["class_name"]) == ("Anna Lee", "Juniors")
        assert all(job["links"] == [] for job in jobs)  # share links: none sent yet
        assert {"overlay", "result"} <= set(first["downloads"])
        assert "ghost" in comparison["downloads"]
    with httpx.Client(timeout=60) as bare:  # the links work without the phone's token
        overlay = bare.get(first["downloads"]["overlay"])
        assert overlay.status_code == 200 and overlay.content[4:8] == b"ftyp"
    with school.http() as studio:  # the studio's token sent only the teacher's clip
        assert [job["job_id"] for job in studio.get("/api/v1/me/jobs").json()["data"]] == [
            school.teacher
        ]

    # The coach shares the second lesson's report: the phone's history lists the link,
    # and it opens the report with no token at all.
    with school.http() as studio:
        shared = studio.post(f"/api/v1/analyze/{school.second}/share", json={})
        assert shared.status_code == 201, shared.text
    with school.http(school.phone_token) as phone:
        by_id = {job["job_id"]: job for job in phone.get("/api/v1/me/jobs").json()["data"]}
    assert [link["url"] for link in by_id[school.second]["links"]] == [shared.json()["url"]]
    assert by_id[school.first]["links"] == []
    with httpx.Client(timeout=60) as bare:
        report = bare.get(by_id[school.second]["links"][0]["url"])
        assert report.status_code == 200 and report.text.lstrip().startswith("<!DOCTYPE html>")


def test_the_phone_page_lists_my_lessons(school: School, browser: Any, tiny_clip: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{school.server.url}/static/phone.css")  # same origin, no script runs
    page.evaluate("t => localStorage.setItem('dance-analysis.token', t)", school.phone_token)
    page.goto(school.server.url)
    page.wait_for_selector("#lessons-section", state="visible")
    items = page.locator("#lessons > li")
    assert items.count() == 3
    ids = [items.nth(i).get_attribute("data-job-id") for i in range(3)]
    assert ids == [school.comparison, school.second, school.first]
    compared = items.nth(0)
    assert (compared.locator(".state").text_content() or "").startswith("Score ")
    assert (compared.locator(".name").text_content() or "").startswith("Compared: ")
    first = items.nth(2)
    assert "Anna Lee (Juniors)" in (first.locator(".when").text_content() or "")
    assert first.locator(".state").text_content() == "Ready"
    video = first.locator("a.video-link").get_attribute("href")
    assert video and video.startswith(f"{school.server.url}/api/v1/jobs/{school.first}/")
    assert first.locator(".sent-links").count() == 0  # nothing shared with this phone yet
    first.locator("button.watch").click()
    page.wait_for_selector("#result-section", state="visible")
    _until(page, "(document.getElementById('overlay').src || '').includes('/api/v1/jobs/')")

    # An upload with the student typed in: named on the job, listed first when done.
    page.fill("#student", "  Anna Lee ")
    page.fill("#class-name", "Juniors")
    page.set_input_files("#clip", str(tiny_clip))
    page.click("#upload-button")
    _until(page, "document.querySelectorAll('#lessons > li').length === 4")
    newest = page.locator("#lessons > li").first
    job_id = newest.get_attribute("data-job-id")
    _until(page, "document.querySelector('#lessons > li').dataset.status === 'finished'")
    assert page.is_hidden("#error"), page.text_content("#error")
    with school.http() as studio:
        job = studio.get(f"/api/v1/jobs/{job_id}").json()
    assert (job["student"], job["class_name"], job["filename"]) == (
        "Anna Lee", "Juniors", tiny_clip.name,
    )  # fmt: skip

    # A link the coach sent says until when it opens, in the phone's own time and to the
    # minute (an hour's link said only the day: "until 03 Dec 2026").
    with school.http() as studio:
        shared = studio.post(f"/api/v1/analyze/{school.first}/share", json={"expires_in_s": 3600})
    page.reload()
    # The phone keeps the student and class it last sent, for the next clip.
    _until(page, "document.getElementById('student').value === 'Anna Lee'")
    assert page.input_value("#class-name") == "Juniors"
    link = page.locator(f"#lessons > li[data-job-id='{school.first}'] a.sent-link")
    link.wait_for()
    until = page.evaluate(
        """at => new Date(at).toLocaleString([],
            {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"})""",
        shared.json()["expires_at"],
    )
    assert link.text_content() == f"Report from your coach (until {until})"
    assert link.get_attribute("href") == shared.json()["url"]
    context.close()
