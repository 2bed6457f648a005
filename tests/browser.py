"""A real browser for tests: Debian's chromium, driven by Playwright.

The phone page and the student's report are checked in the browser a phone would
open them in, not in a simulation. One launcher, so the fixtures that need a browser
(each in its own scope) start the same chromium with the same flags.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless chromium (Playwright's sync ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "install chromium: apt-get install -y chromium (bootstrap.py test)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
