"""Share report…: a signed, expiring link to a student's report, as a QR code and text.

The window asks the job service for the share (on :class:`gui.tasks.Tasks`, never on
the GUI thread) and opens :class:`ShareDialog` with it. The link points at this
computer's server (the address phones use, as the pairing code does), so the student's
phone opens it on the studio's network with no pairing and no token, until it expires.
Choosing another lifetime asks for a new link (``lifetime_changed``); links already
sent keep working until their own expiry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.phones import qr_pixmap

DAY_S = 86_400
LIFETIMES = (
    ("1 day", DAY_S),
    ("7 days", 7 * DAY_S),
    ("30 days", 30 * DAY_S),
    ("90 days", 90 * DAY_S),
)
DEFAULT_LIFETIME_S = 7 * DAY_S


def share_link(api_url: str, share: Any) -> str:
    """A share link: the report route with the share's expiry and signature. The GUI may
    not import the API, so it writes the link itself (``api.links.share_link``)."""
    query = urlencode({"expires": share.expires, "sig": share.signature})
    return f"{api_url.rstrip('/')}/r/{quote(share.id, safe='')}?{query}"


def expiry_text(expires_at: dt.datetime) -> str:
    return (
        f"Works until {expires_at.astimezone():%d %b %Y, %H:%M}, then the student needs a new link."
    )


class ShareDialog(QDialog):
    """The link's QR code, the link (with Copy), its expiry and how long new links last."""

    lifetime_changed = Signal(int)  # seconds: the window asks the service for a new link

    def __init__(self, name: str, api_url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Share report")
        self._api_url = api_url
        self.link = ""
        self.qr_label = QLabel()
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_label.setMinimumSize(240, 240)
        self.link_edit = QLineEdit()
        self.link_edit.setReadOnly(True)
        # Wide enough for a LAN address and the share's id (the signature may scroll):
        # at the QR code's width the field showed "http://192.0.2.2:37517/r/740c".
        sample = "http://192.168.100.100:65535/r/" + "0" * 32
        self.link_edit.setMinimumWidth(self.link_edit.fontMetrics().horizontalAdvance(sample) + 16)
        self.copy_button = QPushButton("Copy link")
        self.copy_button.clicked.connect(self.copy_link)
        self.expiry_label = QLabel("")
        self.expiry_label.setWordWrap(True)
        self.lifetime = QComboBox()
        for label, seconds in LIFETIMES:
            self.lifetime.addItem(label, seconds)
        self.lifetime.setCurrentIndex([s for _, s in LIFETIMES].index(DEFAULT_LIFETIME_S))
        self.lifetime.activated.connect(self._on_lifetime_activated)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link_edit, 1)
        link_row.addWidget(self.copy_button)
        lifetime_row = QHBoxLayout()
        lifetime_row.addWidget(QLabel("New links last"))
        lifetime_row.addWidget(self.lifetime)
        lifetime_row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        intro = QLabel(
            f"The student scans this code, or opens the link, to see the report of "
            f"“{name}”: no app and no pairing needed, on this studio's network."
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.qr_label)
        layout.addLayout(link_row)
        layout.addWidget(self.expiry_label)
        layout.addLayout(lifetime_row)
        layout.addWidget(buttons)

    def set_share(self, share: Any) -> None:
        self.link = share_link(self._api_url, share)
        self.link_edit.setText(self.link)
        self.link_edit.setCursorPosition(0)
        self.qr_label.setPixmap(qr_pixmap(self.link, scale=5))
        self.expiry_label.setText(expiry_text(share.expires_at))

    def copy_link(self) -> None:
        QApplication.clipboard().setText(self.link)
        self.copy_button.setText("Copied")

    def _on_lifetime_activated(self, index: int) -> None:
        self.copy_button.setText("Copy link")
        self.lifetime_changed.emit(int(self.lifetime.itemData(index)))
