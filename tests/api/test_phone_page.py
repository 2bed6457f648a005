"""The phone page (``GET /``): what a phone opens when it scans the pairing QR code.

One real ``python main.py serve`` (mock pose mode) and a real browser (Debian's
chromium driven by Playwright): pair with the code serve printed, upload a clip via
upload-url → PUT → confirm, follow the status, then play the overlay and list the
feedback. Plus: the page is public and locked down (CSP, no-store, no inline script),
a reused code shows the API's sentence, and a revoked token asks to pair again.

Comparing (issue 9, point 9): one server for the module with a teacher's and a
student's clip analysed once; the phone picks the teacher at upload or compares a clip
from its history, and shows the score, the count sheet (checked against the desktop's
wording) and the ghost; a compare the server refuses shows its sentence.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.routes import phone
from api.security import PUBLIC_PAGES, PUBLIC_ROUTES
from tests.api.conftest import (
    PAIRING_CODE,
    Api,
    Server,
    finished_sync,
    pair_phone,
    serving,
    upload_sync,
)
from tests.browser import chromium

TIMEOUT_MS = 120_000  # a hang guard: generous, the suite runs on a busy 2-core machine


def test_the_pairing_link_is_what_the_page_answers() -> None:
    # What the QR code holds (the desktop's Phones panel and `serve` alike): the root
    # with ?pair=CODE. The GUI may not import the API, so it writes the link itself.
    from gui.phones import pairing_link

    expected = "http://192.168.1.5:8000/?pair=AB%20CD"
    assert pairing_link("http://192.168.1.5:8000", "AB CD") == expected
    assert phone.pairing_link("http://192.168.1.5:8000/", "AB CD") == expected
    assert ("GET", "/") in PUBLIC_PAGES and not PUBLIC_PAGES & PUBLIC_ROUTES


@pytest.mark.anyio
async def test_the_page_is_public_and_locked_down(api: Api) -> None:
    page = await api.anonymous.get("/", params={"pair": "SOMECODE"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp  # nothing outside the server
    html = page.text
    assert 'accept="video/*"' in html and 'id="overlay"' in html and "playsinline" in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert api.token not in html and "SOMECODE" not in html
    for asset, kind in (("phone.js", "javascript"), ("phone.css", "text/css")):
        got = await api.anonymous.get(f"/static/{asset}")
        assert got.status_code == 200 and kind in got.headers["content-type"], asset
        assert got.headers["cache-control"] == "no-store"
    assert (await api.anonymous.get("/static/../api/app.py")).status_code == 404


def test_with_s3_the_policy_allows_the_bucket_endpoint(tmp_path: Path) -> None:
    from tests.settings import make_settings

    settings = make_settings(
        tmp_path, s3_bucket="b", s3_endpoint_url="http://minio.lan:9000/", s3_access_key="k",
        s3_secret_key="s",
    )  # fmt: skip
    csp = phone.content_security_policy(settings)
    assert "connect-src 'self' http://minio.lan:9000;" in csp
    assert "media-src 'self' http://minio.lan:9000;" in csp
    assert "default-src 'self';" in csp


# -- a real server and a real browser -------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    with serving(tmp_path / "data") as server:
        yield server, server.proc.wait_for(PAIRING_CODE)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _until(page: Any, expression: str) -> None:
    """Wait until ``expression`` is true in the page.

    Evaluated from outside (the DevTools protocol), not by ``wait_for_function``,
    whose in-page polling evaluates a string: the page's CSP forbids that (no
    'unsafe-eval'), and rightly so.
    """
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(50)


def _pair(page: Any, url: str, code: str, name: str) -> None:
    page.goto(f"{url}/?pair={code}")
    page.wait_for_selector("#pair-form", state="visible")
    assert page.input_value("#device-name") == "Phone"
    page.fill("#device-name", name)
    page.click("#pair-button")


def test_a_phone_pairs_uploads_and_gets_the_result(
    served: tuple[Server, str], browser: Any, tiny_clip: Path
) -> None:
    server, code = served
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # Pair with the code serve printed; the code leaves the address bar.
    _pair(page, server.url, code, "Test phone")
    page.wait_for_selector("#upload-section", state="visible")
    assert "pair=" not in page.url
    token = page.evaluate("localStorage.getItem('dance-analysis.token')")
    assert token
    with httpx.Client(base_url=server.url, timeout=30) as http:
        # The studio's own (`token create`) token sees the phone; the phone's cannot list.
        devices = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {server.token}"})
        assert devices.status_code == 200
        assert "Test phone" in [device["name"] for device in devices.json()["data"]]
        mine = http.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
        assert mine.status_code == 403

    # Upload: upload-url → PUT (XHR) → confirm → status polling → result.
    page.set_input_files("#clip", str(tiny_clip))
    page.click("#upload-button")
    page.wait_for_selector("#result-section", state="visible")
    _until(
        page,
        "document.querySelectorAll('#feedback li').length > 0"
        " || !document.getElementById('no-feedback').hidden",
    )
    assert page.is_hidden("#error"), page.text_content("#error")
    assert page.text_content("#upload-state") == "Done."
    # A clip without sound: the page says so instead of a tempo.
    assert page.text_content("#music") == "No music to count: the clip has no sound."

    src = page.get_attribute("#overlay", "src")
    assert src and src.startswith(f"{server.url}/api/v1/jobs/"), src
    with httpx.Client(timeout=30) as bare:  # the signed link alone lets it load
        overlay = bare.get(src)
        assert overlay.status_code == 200 and overlay.content[4:8] == b"ftyp"
    _until(
        page,
        "(() => { const v = document.getElementById('overlay');"
        " return v.readyState > 0 || v.error !== null; })()",
    )
    media_error = page.evaluate("document.getElementById('overlay').error?.code ?? null")
    assert media_error is None, media_error  # the overlay really decodes in the browser

    items = page.locator("#feedback li")
    assert items.count() > 0, page.content()
    first = items.first
    assert re.fullmatch(r"\d+:\d\d", first.locator(".time").text_content() or "")
    assert (first.locator(".message").text_content() or "").strip()
    seek_to = int(first.get_attribute("data-time-ms") or 0) / 1000
    first.click()
    _until(page, f"Math.abs(document.getElementById('overlay').currentTime - {seek_to}) < 0.5")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems

    # After a reload the phone still lists the clip it sent, and opens its result again.
    page.reload()
    page.wait_for_selector("#history li[data-status=finished]")
    entries = page.locator("#history li")
    assert entries.count() == 1
    assert entries.first.locator(".name").text_content() == tiny_clip.name
    assert entries.first.locator(".state").text_content() == "Ready"
    assert page.is_hidden("#result-section")
    entries.first.click()
    page.wait_for_selector("#result-section", state="visible")
    page.wait_for_selector("#feedback li")
    reopened = page.get_attribute("#overlay", "src")
    assert reopened and reopened.startswith(f"{server.url}/api/v1/jobs/"), reopened

    # A revoked token: the next call (here, refreshing the list of clips) answers 401;
    # the page forgets the token and asks to pair again.
    page.evaluate("localStorage.setItem('dance-analysis.token', 'not-a-real-token')")
    page.reload()
    page.wait_for_selector("#pair-section", state="visible")
    assert "no longer paired" in (page.text_content("#error") or "")
    assert page.evaluate("localStorage.getItem('dance-analysis.token')") is None
    context.close()

    # The same code again, on a fresh phone: the API's own sentence is shown.
    other = browser.new_context()
    again = other.new_page()
    again.set_default_timeout(TIMEOUT_MS)
    _pair(again, server.url, code, "Second phone")
    again.wait_for_selector("#error", state="visible")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        refused = http.post("/api/v1/pair", json={"code": code, "device_name": "x"})
    assert refused.status_code == 403, refused.text
    assert again.text_content("#error") == refused.json()["detail"]["message"]
    assert again.evaluate("localStorage.getItem('dance-analysis.token')") is None
    assert again.is_hidden("#upload-section")
    other.close()


def test_a_phone_pairs_with_a_typed_code(served: tuple[Server, str], browser: Any) -> None:
    """No camera for the QR code: the phone opens the server's address and types the code."""
    server, code = served
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(server.url)
    page.wait_for_selector("#pair-form", state="visible")
    assert page.input_value("#pair-code") == ""
    page.click("#pair-button")  # an empty code is refused by the form, nothing is sent
    assert (
        page.is_visible("#pair-section")
        and page.evaluate("localStorage.getItem('dance-analysis.token')") is None
    )
    page.fill("#pair-code", f" {code.lower()} ")  # as a person types it
    page.fill("#device-name", "Typed phone")
    page.click("#pair-button")
    page.wait_for_selector("#upload-section", state="visible")
    assert page.is_hidden("#history-section")  # nothing sent yet
    token = page.evaluate("localStorage.getItem('dance-analysis.token')")
    with httpx.Client(base_url=server.url, timeout=30) as http:
        mine = http.get("/api/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    page.close()


def test_the_phone_shows_the_tempo_and_sends_the_style(
    served: tuple[Server, str], browser: Any, music_clip: Path
) -> None:
    """A clip over a 124 BPM groove, sent with the style picked on the form."""
    server, code = served
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    _pair(page, server.url, code, "Music phone")
    page.wait_for_selector("#upload-section", state="visible")
    assert page.input_value("#style") == "auto"  # the default
    page.select_option("#style", "cha-cha")
    page.set_input_files("#clip", str(music_clip))
    page.click("#upload-button")
    page.wait_for_selector("#music", state="visible")
    assert page.is_hidden("#error"), page.text_content("#error")
    # The line sits above the feedback: "124 BPM · 4/4 · cha-cha".
    assert page.text_content("#music") == "124 BPM · 4/4 · cha-cha"
    assert page.evaluate(
        "document.getElementById('music').compareDocumentPosition("
        "document.getElementById('feedback')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    # Each feedback item says the count it falls on, as result.json does.
    page.wait_for_selector("#feedback li .count")
    labels = page.locator("#feedback li .count").all_text_contents()
    assert labels and all(re.fullmatch(r"count [1-8] of phrase \d+", label) for label in labels)
    page.close()


def test_the_style_menu_offers_every_style() -> None:
    from dance_analysis.music.styles import DEFAULT_STYLE, STYLE_NAMES

    html = (phone.STATIC / "phone.html").read_text()
    menu = html[html.index('<select id="style"') : html.index("</select>")]
    assert re.findall(r'<option value="([^"]+)"', menu) == list(STYLE_NAMES)
    assert f'value="{DEFAULT_STYLE}" selected' in menu


# -- comparing with a teacher's clip (issue 9, point 9) --------------------------------

PARTS = ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")


@dataclass
class Studio:
    """One server for the module, a phone's token, and a teacher's and a student's
    clips analysed through the API (shared: analyses are the slow part)."""

    server: Server
    token: str
    teacher_id: str
    student_id: str

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.url, timeout=60,
            headers={"Authorization": f"Bearer {self.token}"},
        )  # fmt: skip


def _analysed(http: httpx.Client, clip: Path, filename: str) -> str:
    job_id = upload_sync(http, clip, filename)
    finished_sync(http, job_id, TIMEOUT_MS / 1000)
    return job_id


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, music_clip: Path) -> Iterator[Studio]:
    with serving(tmp_path_factory.mktemp("studio") / "data") as server:
        token = pair_phone(server, "Compare phone")
        with httpx.Client(
            base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            teacher = _analysed(http, music_clip, "teacher.mp4")
            student = _analysed(http, music_clip, "student.mp4")
        yield Studio(server, token, teacher, student)


def _phone(browser: Any, studio: Studio, history: list[dict[str, Any]] | None = None) -> Any:
    """A 390x844 phone already paired (its token in local storage), with ``history``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{studio.server.url}/static/phone.css")  # same origin, no script runs
    page.evaluate(
        "([token, history]) => { localStorage.setItem('dance-analysis.token', token);"
        " localStorage.setItem('dance-analysis.history', JSON.stringify(history)); }",
        [studio.token, history or []],
    )
    page.goto(studio.server.url)
    page.wait_for_selector("#upload-section", state="visible")
    return page


def _comparison_of(studio: Studio, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The comparison job's /result body and its result.json's ``comparison``."""
    with studio.http() as http:
        body = http.get(f"/api/v1/analyze/{job_id}/result").json()
        result = httpx.get(body["downloads"]["result"], timeout=60).json()
    return body, result


def _score(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _color(value: float | None) -> str:
    if value is None:
        return "score-none"
    shown = round(value)
    return "score-good" if shown >= 80 else "score-fair" if shown >= 60 else "score-poor"


def _check_sheet(page: Any, comparison: dict[str, Any]) -> None:
    """The page shows ``comparison`` as the desktop words and colours it."""
    from gui.compare_view import segment_title, summary_text, timing_text

    assert page.text_content(".overall") == f"{comparison['overall']:.0f} / 100"
    summary = summary_text(comparison)
    assert page.text_content("#summary") == summary[summary.index(" · ") + 3 :]
    rows = page.locator("#sheet tbody tr")
    segments = comparison["segments"]
    assert segments and rows.count() == len(segments)
    headers = page.locator("#sheet thead th").all_text_contents()
    assert headers[2:] == ["Head", "Torso", "L arm", "R arm", "L leg", "R leg"]
    for k, segment in enumerate(segments):
        row = rows.nth(k)
        assert row.locator(".label").text_content() == segment_title(segment["label"])
        assert row.locator(".timing").text_content() == timing_text(segment["timing_ms"])
        score = row.locator("td.score")
        assert score.text_content() == _score(segment["score"])
        assert _color(segment["score"]) in (score.get_attribute("class") or "")
        cells = row.locator("td.part")
        assert cells.count() == 6
        for j, part in enumerate(PARTS):
            cell = cells.nth(j)
            value = segment["parts"][part]
            assert cell.get_attribute("data-part") == part
            assert cell.text_content() == _score(value)
            classes = (cell.get_attribute("class") or "").split()
            assert _color(value) in classes
            assert ("worst" in classes) == (part == segment["worst_part"]), (part, segment)


def _video_ready(page: Any, selector: str) -> None:
    _until(
        page,
        f"(() => {{ const v = document.querySelector('{selector}');"
        " return v.readyState > 0 || v.error !== null; })()",
    )
    error = page.evaluate(f"document.querySelector('{selector}').error?.code ?? null")
    assert error is None, (selector, error)


def test_a_phone_uploads_with_the_teacher_picked_and_sees_the_comparison(
    studio: Studio, browser: Any, music_clip: Path, tmp_path: Path
) -> None:
    page = _phone(browser, studio)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # The menu lists the finished analyses, newest first, by name and date.
    assert page.input_value("#teacher") == ""
    page.wait_for_selector(f"#teacher option[value='{studio.student_id}']", state="attached")
    options = page.locator("#teacher option")
    assert options.first.text_content() == "No comparison"
    values = [options.nth(k).get_attribute("value") for k in range(options.count())]
    assert values[0] == "" and values.index(studio.student_id) < values.index(studio.teacher_id)
    teacher = options.nth(values.index(studio.teacher_id)).text_content() or ""
    assert re.fullmatch(r"teacher\.mp4 · .+", teacher), teacher

    student_clip = tmp_path / "me.mp4"
    student_clip.write_bytes(music_clip.read_bytes())
    page.select_option("#teacher", studio.teacher_id)
    page.set_input_files("#clip", str(student_clip))
    page.click("#upload-button")
    page.wait_for_selector("#comparison", state="visible")
    page.wait_for_selector("#sheet tbody tr")
    assert page.is_hidden("#error"), page.text_content("#error")
    assert page.text_content("#upload-state") == "Done."

    # The analysis sent with the teacher, then its comparison, both remembered.
    history = page.evaluate("JSON.parse(localStorage.getItem('dance-analysis.history'))")
    assert [entry["filename"] for entry in history] == ["me.mp4 vs teacher.mp4", "me.mp4"]
    comparison_id = history[0]["job_id"]
    with studio.http() as http:
        student = http.get(f"/api/v1/analyze/{history[1]['job_id']}/status").json()
    assert student["reference_job_id"] == studio.teacher_id
    assert student["comparison_job_id"] == comparison_id
    body, result = _comparison_of(studio, comparison_id)
    comparison = result["comparison"]
    assert comparison["reference"]["job_id"] == studio.teacher_id
    _check_sheet(page, comparison)
    assert page.text_content("#result-title") == "me.mp4 vs teacher.mp4"

    # The ghost plays (not an overlay); practice.mp4 in a second player when there is one.
    src = page.get_attribute("#overlay", "src") or ""
    assert f"/{comparison_id}/artifacts/ghost?" in src, src
    _video_ready(page, "#overlay")
    if "practice" in body["downloads"]:
        assert page.is_visible("#practice-box")
        assert "/artifacts/practice?" in (page.get_attribute("#practice", "src") or "")
        assert page.text_content("#practice-box h3") == (
            "Practice: your weakest counts, side by side at half speed"
        )
        _video_ready(page, "#practice")
    else:
        assert page.is_hidden("#practice-box")

    # The comparison's own feedback is listed, none of the analysis's, in its rank order.
    ranked = sorted(
        (item for item in result["feedback"] if item["topic"] == "comparison"),
        key=lambda item: item["rank"],
    )
    said = [item["message"] for item in ranked]
    assert page.locator("#feedback li .message").all_text_contents() == said

    # A tap on a row seeks the video to the segment's start, and marks the row.
    last = len(comparison["segments"]) - 1
    start_s = comparison["segments"][last]["start_ms"] / 1000
    assert start_s > 0
    page.locator("#sheet tbody tr").nth(last).click()
    _until(page, f"Math.abs(document.getElementById('overlay').currentTime - {start_s}) < 0.3")
    _until(page, f"document.querySelector('#sheet tbody tr:nth-child({last + 1}).current')")
    assert page.locator("#sheet tr.current").count() == 1

    # It fits a 390 px phone: only the table scrolls sideways, never the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems

    # After a reload the comparison is in "Your clips" and opens again.
    page.reload()
    item = page.locator(f"#history li[data-job-id='{comparison_id}']")
    item.and_(page.locator("[data-status=finished]")).wait_for()
    assert item.get_attribute("data-kind") == "comparison"
    assert item.locator(".compare-toggle").count() == 0  # a comparison is not compared again
    item.click()
    page.wait_for_selector("#sheet tbody tr")
    assert page.text_content(".overall") == f"{comparison['overall']:.0f} / 100"
    page.context.close()


def _student_s_compare_form(browser: Any, studio: Studio, teacher_id: str) -> tuple[Any, Any]:
    """A phone whose history holds the student's clip, with its Compare form opened once
    the teacher menu lists ``teacher_id``: (page, the clip's history item)."""
    page = _phone(
        browser, studio, [{"job_id": studio.student_id, "filename": "student.mp4", "sent_ms": 1}]
    )
    item = page.locator(f"#history li[data-job-id='{studio.student_id}'][data-status=finished]")
    item.wait_for()
    page.wait_for_selector(f"#teacher option[value='{teacher_id}']", state="attached")
    item.locator(".compare-toggle").click()
    return page, item


def test_a_clip_in_the_history_is_compared_with_a_teacher(studio: Studio, browser: Any) -> None:
    page, item = _student_s_compare_form(browser, studio, studio.teacher_id)
    menu = item.locator(".compare-form select:not([aria-busy])")  # the list read again
    menu.wait_for()
    values = [o.get_attribute("value") for o in menu.locator("option").all()]
    assert values[0] == "" and studio.teacher_id in values
    assert studio.student_id not in values  # not the clip itself
    assert page.is_hidden("#result-section")  # opening the form does not open the clip

    item.locator(".compare-button").click()  # nothing chosen yet: said, nothing sent
    page.wait_for_selector("#error", state="visible")
    assert page.text_content("#error") == "Choose the teacher's clip to compare with."

    menu.select_option(studio.teacher_id)
    item.locator(".compare-button").click()
    page.wait_for_selector("#sheet tbody tr")
    assert page.is_hidden("#error"), page.text_content("#error")
    history = page.evaluate("JSON.parse(localStorage.getItem('dance-analysis.history'))")
    assert history[0]["filename"] == "student.mp4 vs teacher.mp4"
    assert history[0]["kind"] == "comparison"
    with studio.http() as http:
        made = http.get(f"/api/v1/analyze/{history[0]['job_id']}/status").json()
    assert made["kind"] == "comparison" and made["student_job_id"] == studio.student_id
    assert made["reference_job_id"] == studio.teacher_id
    _, result = _comparison_of(studio, history[0]["job_id"])
    _check_sheet(page, result["comparison"])
    page.wait_for_selector(
        f"#history li[data-job-id='{history[0]['job_id']}'][data-status=finished]"
    )
    page.context.close()


def test_a_compare_the_server_refuses_shows_its_sentence(
    studio: Studio, browser: Any, tiny_clip: Path
) -> None:
    """The teacher's clip is deleted on the desktop while the phone's menu still lists it."""
    with studio.http() as http:
        gone = _analysed(http, tiny_clip, "gone.mp4")
    page, item = _student_s_compare_form(browser, studio, gone)
    item.locator(".compare-form select:not([aria-busy])").select_option(gone)
    with studio.http() as http:
        assert http.delete(f"/api/v1/analyze/{gone}").status_code == 200
        refused = http.post(
            "/api/v1/compare", json={"student_job_id": studio.student_id, "reference_job_id": gone}
        )
    assert refused.status_code == 404, refused.text
    item.locator(".compare-button").click()
    page.wait_for_selector("#error", state="visible")
    assert page.text_content("#error") == refused.json()["detail"]["message"]
    assert page.is_hidden("#comparison")
    history = page.evaluate("JSON.parse(localStorage.getItem('dance-analysis.history'))")
    assert [entry["job_id"] for entry in history] == [studio.student_id]  # nothing made
    page.context.close()
