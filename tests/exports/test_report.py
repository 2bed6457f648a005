"""The student's report (report.html, issue 12): one page a phone opens offline.

A clip with a drum groove is analysed once in the documented mock pose mode (the real
pipeline, the mock's poses), which writes report.html from the finished overlay. Opened
in a real browser (Debian's chromium, driven by Playwright) at a phone's size: it loads
nothing from anywhere, shows decoded key frames, the five angle plots with their beat
lines and every feedback item, and its screenshot is not blank. Then the same result
compared with itself (no model) and with a coach's marks, drawn without a video: the
count sheet has a row per segment, the marks are on the picture and every text is
escaped.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dance_analysis.analysis.feedback import format_time
from dance_analysis.comparing import compare_results
from dance_analysis.exports import Motion
from dance_analysis.exports.report import MAX_KEY_FRAMES, write_report
from dance_analysis.marks import parse_marks
from dance_analysis.pipeline import PipelineOptions, analyze_clip
from dance_analysis.render import MARK_COLOUR
from tests.browser import chromium

PHONE = {"width": 390, "height": 844}
MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """An 8 s clip of the squats over a 124 BPM groove, analysed (mock poses)."""
    import json

    from tests.music.synth import groove_clip

    folder = tmp_path_factory.mktemp("report")
    clip = groove_clip(folder, seconds=8.0, size=(180, 320))
    out = folder / "out"
    outcome = analyze_clip(clip, out, PipelineOptions(backend="mock"))
    assert "report" in outcome.artifacts
    return out, json.loads((out / "result.json").read_text())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_the_report_opens_offline_on_a_phone_with_pictures_plots_and_feedback(
    analysed: tuple[Path, dict[str, Any]], browser: Any, tmp_path: Path
) -> None:
    out, result = analysed
    report = out / "report.html"
    assert result["artifacts"]["report"] == "report.html"
    assert 0 < report.stat().st_size < MAX_BYTES
    assert result["music"]["present"] and result["feedback"]

    page = browser.new_page(viewport=PHONE)
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(report.as_uri())
    assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    shown = page.evaluate(
        """() => ({
            pictures: [...document.querySelectorAll('figure.key img')].map(i => i.naturalWidth),
            plots: document.querySelectorAll('svg.plot').length,
            beats: document.querySelectorAll('svg.plot line.beat, svg.plot line.bar').length,
            feedback: document.querySelectorAll('ul.feedback li').length,
            times: [...document.querySelectorAll('ul.feedback li .time')].map(t => t.textContent),
            title: document.querySelector('h1').textContent,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
        })"""
    )
    assert shown["title"] == "groove.mp4"
    assert 1 <= len(shown["pictures"]) <= MAX_KEY_FRAMES
    assert all(width > 0 for width in shown["pictures"])  # every JPEG decoded
    assert shown["plots"] == 5 and shown["beats"] >= 5 * 10  # ~16 beats in 8 s, per plot
    assert shown["feedback"] == len(result["feedback"])
    # Each item's time as its message writes times ("0:06.6", was "0:06" beside "at 0:06.6").
    assert sorted(shown["times"]) == sorted(format_time(i["time_ms"]) for i in result["feedback"])
    assert shown["overflow"] <= 0  # nothing wider than the phone
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()

    import cv2

    image = cv2.imread(str(shot))
    assert image.shape[1] == PHONE["width"] and image.shape[0] > 2 * PHONE["height"]
    assert float(image.std()) > 20  # pictures, plots and text, not a blank page

    # On a computer the key moments sit two to a row: one to a row, each portrait
    # picture was taller than the screen (the page ran to 8,000 px). Nothing overflows
    # the narrowest phone either.
    for viewport, columns in (
        ({"width": 1280, "height": 900}, 2),
        ({"width": 320, "height": 640}, 1),
    ):
        page = browser.new_page(viewport=viewport)
        page.goto(report.as_uri())
        laid = page.evaluate(
            """() => ({
                lefts: new Set([...document.querySelectorAll('figure.key')]
                    .map(f => Math.round(f.getBoundingClientRect().left))).size,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
            })"""
        )
        page.close()
        assert laid == {"lefts": min(columns, len(shown["pictures"])), "overflow": 0}, viewport


def test_the_comparison_count_sheet_and_the_coachs_marks(
    analysed: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    _, result = analysed
    compared = compare_results(result, result)
    motion = Motion.from_result(compared)
    mark_ms = float(motion.t_ms[len(motion.t_ms) // 2])
    marks = parse_marks(
        [
            {"kind": "line", "t_ms": mark_ms, "points": [[0.1, 0.5], [0.9, 0.5]]},
            {
                "kind": "note",
                "t_ms": mark_ms,
                "points": [[0.2, 0.2]],
                "text": "<b>knees</b> & toes",
            },
        ]
    )
    report = tmp_path / "report.html"
    write_report(motion, report, marks=marks)  # no video: the skeleton on a plain ground
    html = report.read_text()

    segments = compared["comparison"]["segments"]
    assert segments and "<h3>Count sheet</h3>" in html
    sheet = html.split('<table class="grid sheet">', 1)[1].split("</table>", 1)[0]
    assert sheet.count("<tr") == 1 + 1 + len(segments)  # the heading, the whole clip, each
    assert all(segment["label"] in sheet for segment in segments)
    assert "&lt;b&gt;knees&lt;/b&gt; &amp; toes" in html and "<b>knees</b>" not in html

    figures = re.findall(r'<figure class="key">(.*?)</figure>', html, re.S)
    marked = next(figure for figure in figures if "knees" in figure)
    jpeg = base64.b64decode(re.search(r"base64,([^\"]+)", marked).group(1))  # type: ignore[union-attr]
    import cv2

    picture = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )
    height, width = picture.shape[:2]
    row = picture[height // 2, int(0.3 * width) : int(0.7 * width)].astype(int)
    # The line mark across the middle: the coach's yellow (JPEG blurs it a little).
    assert np.abs(row - MARK_COLOUR).max(axis=1).mean() < 60
    assert len(figures) <= MAX_KEY_FRAMES
