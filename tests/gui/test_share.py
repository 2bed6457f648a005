"""Share report… in the desktop app (issue 12): a finished clip's report as a link and a
QR code the student opens with no pairing, through the window's real server.

The window runs over a real job service in the documented mock mode; the link the
dialog shows is fetched without a token from the server the window started.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtWidgets import QApplication

from api.links import share_link as api_share_link
from gui.share import LIFETIMES, share_link
from tests.media import make_clip


def _lasts(share: Any) -> int:
    """A share's lifetime in seconds (its expiry is cut to the second, its start is not)."""
    return math.ceil((share.expires_at - share.created_at).total_seconds())


def test_share_report_shows_a_link_that_opens_without_a_token(
    qtbot: Any, open_desktop: Any, tmp_path: Path
) -> None:
    desktop = open_desktop()
    window = desktop.window
    window.import_files([make_clip(tmp_path / "solo.mp4")])
    qtbot.waitUntil(lambda: len(window.library.views) == 1, timeout=10_000)
    (job_id,) = window.library.views
    qtbot.waitUntil(
        lambda: "report" in (window.library.views[job_id].artifacts or {}), timeout=60_000
    )
    window.library.select_job(job_id)
    assert window.library.share_action.isEnabled() and window.library.share_button.isEnabled()

    window.library.share_button.click()  # the button and the right-click action are one
    qtbot.waitUntil(lambda: window.share_dialog is not None and window.share_dialog.isVisible())
    dialog = window.share_dialog
    (share,) = desktop.service.shares(job_id)
    assert dialog.link == share_link(window._api_url, share)
    assert dialog.link == api_share_link(window._api_url, share)  # the server's own link
    assert dialog.link_edit.text() == dialog.link
    address = dialog.link.split("?")[0]  # readable whole: the host and the share's id
    assert dialog.link_edit.width() > dialog.link_edit.fontMetrics().horizontalAdvance(address)
    assert not dialog.qr_label.pixmap().isNull()
    assert str(share.expires_at.astimezone().year) in dialog.expiry_label.text()
    assert _lasts(share) == 7 * 86_400

    dialog.copy_button.click()
    assert QApplication.clipboard().text() == dialog.link

    opened = httpx.get(dialog.link, timeout=30)  # no token: the link's signature
    assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/html")
    assert "solo.mp4" in opened.text

    # Another lifetime: a new link; the first keeps working until its own expiry.
    first = dialog.link
    dialog.lifetime.setCurrentIndex(3)
    dialog.lifetime.activated.emit(3)
    qtbot.waitUntil(lambda: dialog.link != first, timeout=10_000)
    newest = desktop.service.shares(job_id)[0]
    assert dialog.link == share_link(window._api_url, newest)
    assert _lasts(newest) == LIFETIMES[3][1]
    assert httpx.get(first, timeout=30).status_code == 200
    assert "service.create_share" in [call.name for call in desktop.calls]
    dialog.close()
