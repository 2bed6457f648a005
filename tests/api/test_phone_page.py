"""The phone page (``GET /``): what a phone opens when it scans the pairing QR code.

One real ``python main.py serve`` (mock pose mode) and a real browser (Debian's
chromium driven by Playwright): pair with the code serve printed, upload a clip via
upload-url → PUT → confirm, follow the status, then play the overlay and list the
feedback. Plus: the page is public and locked down (CSP, no-store, no inline script),
a reused code shows the API's sentence, and a revoked token asks to pair again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.routes import phone
from api.security import PUBLIC_PAGES, PUBLIC_ROUTES
from tests.api.conftest import Api, Server, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PAIRING_CODE = re.compile(r"pairing code:\s+(\S+)")
TIMEOUT_MS = 45_000


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
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "install chromium: apt-get install -y chromium (bootstrap.py test)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


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
    assert page.is_visible("#pair-section") and page.evaluate(
        "localStorage.getItem('dance-analysis.token')"
    ) is None
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
