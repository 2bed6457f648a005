"""The phones panel: the LAN address, a pairing QR code, paired devices, S3 status.

Every call to the services runs in the background (:class:`gui.tasks.Tasks`). A
one-second timer redraws the code's countdown and asks (in the background) whether
the code on screen is still open: once a phone has used it, a fresh code replaces
it and the device list is read again, so the phone shows up at once. Every few
seconds the device list is read anyway (a token made on the command line).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import segno
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.tasks import Tasks

_DEVICE_REFRESH_TICKS = 5


def pairing_link(api_url: str, code: str) -> str:
    """What the QR code holds: the server and the one-time code for ``POST /api/v1/pair``."""
    return f"{api_url.rstrip('/')}/?pair={quote(code)}"


def qr_pixmap(text: str, scale: int = 6) -> QPixmap:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


def s3_status_of(settings: Any, service: Any) -> Callable[[], tuple[str, bool | None]]:
    """A check (run in the background) of the configured S3 store: (text, healthy)."""

    def check() -> tuple[str, bool | None]:
        if not settings.s3_bucket:
            return "S3 sync: not configured (results stay on this computer)", None
        from dance_analysis.storage import create_sync_target

        target = create_sync_target(settings) if settings.s3_mode == "sync" else service.storage
        where = settings.s3_endpoint_url or "AWS"
        if target is None:
            return "S3 sync: not configured (results stay on this computer)", None
        try:
            healthy = bool(target.ping())
        except Exception as error:
            return f"S3 bucket “{settings.s3_bucket}” at {where} is unreachable: {error}", False
        if healthy:
            return (
                f"S3 ({settings.s3_mode}) bucket “{settings.s3_bucket}” at {where}: healthy",
                True,
            )
        return f"S3 bucket “{settings.s3_bucket}” at {where} is unreachable.", False

    return check


class PhonesPanel(QWidget):
    """Pair phones and manage them. ``storage_problem(str)`` when S3 is unreachable."""

    storage_problem = Signal(str)

    def __init__(
        self,
        access: Any,
        tasks: Tasks,
        api_url: str | None,
        s3_status: Callable[[], tuple[str, bool | None]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._access = access
        self._tasks = tasks
        self._api_url = api_url
        self._s3_status = s3_status
        self._code: Any = None
        self._ticks = 0
        self._checking = False  # a check of the code is on its way
        self.devices: list[Any] = []

        self.address_label = QLabel(
            f"Phones on this network open: <b>{api_url}</b>" if api_url
            else "The server is not running, so phones cannot connect."
        )  # fmt: skip
        self.address_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.qr_label = QLabel()
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_label.setMinimumSize(220, 220)
        self.code_label = QLabel("")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.new_code_button = QPushButton("New pairing code")
        self.new_code_button.clicked.connect(self.new_code)
        self.new_code_button.setEnabled(api_url is not None)
        pairing = QGroupBox("Pair a phone: scan this code with the phone's camera")
        pairing_layout = QVBoxLayout(pairing)
        pairing_layout.addWidget(self.address_label)
        pairing_layout.addWidget(self.qr_label)
        pairing_layout.addWidget(self.code_label)
        pairing_layout.addWidget(self.new_code_button)
        pairing_layout.addStretch(1)

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Device", "Paired", "Last used", ""])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        devices = QGroupBox("Paired devices")
        QVBoxLayout(devices).addWidget(self.table)

        self.s3_label = QLabel("S3 sync: checking…")
        self.s3_check_button = QPushButton("Check again")
        self.s3_check_button.clicked.connect(self.check_s3)
        storage = QGroupBox("Cloud storage (S3 / MinIO)")
        storage_layout = QHBoxLayout(storage)
        storage_layout.addWidget(self.s3_label, 1)
        storage_layout.addWidget(self.s3_check_button)

        right = QVBoxLayout()
        right.addWidget(devices, 1)
        right.addWidget(storage)
        layout = QHBoxLayout(self)
        layout.addWidget(pairing)
        layout.addLayout(right, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_timer_timeout)

    # --- public ---------------------------------------------------------------------

    def start(self) -> None:
        """First code, device list and S3 check; then the countdown timer."""
        if self._api_url is not None:
            self.new_code()
        self.refresh_devices()
        self.check_s3()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def new_code(self) -> None:
        self._tasks.run(self._access.new_pairing_code, self._on_code_created, self._on_error)

    def refresh_devices(self) -> None:
        self._tasks.run(self._access.list_devices, self._on_devices_listed, self._on_error)

    def revoke(self, device_id: str) -> None:
        def revoke_and_list() -> list[Any]:
            self._access.revoke(device_id)
            return list(self._access.list_devices())

        self._tasks.run(revoke_and_list, self._on_devices_listed, self._on_error)

    def check_s3(self) -> None:
        self._tasks.run(self._s3_status, self._on_s3_checked, self._on_error)

    @property
    def code(self) -> str | None:
        return None if self._code is None else str(self._code.code)

    # --- results --------------------------------------------------------------------

    def _on_code_created(self, code: Any) -> None:
        self._code = code
        assert self._api_url is not None
        link = pairing_link(self._api_url, code.code)
        self.qr_label.setPixmap(qr_pixmap(link))
        self.qr_label.setToolTip(link)
        self._show_countdown()

    def _show_countdown(self) -> None:
        if self._code is None:
            return
        expires = self._code.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.timezone.utc)
        left = (expires - dt.datetime.now(dt.timezone.utc)).total_seconds()
        if left <= 0:
            self._code = None
            self.new_code()
            return
        minutes, seconds = divmod(int(left), 60)
        self.code_label.setText(
            f"Or type the code <b>{self._code.code}</b> (valid {minutes}:{seconds:02d}, once)"
        )

    def _on_devices_listed(self, devices: list[Any]) -> None:
        self.devices = list(devices)
        self.table.setRowCount(len(self.devices))
        for row, device in enumerate(self.devices):
            self.table.setItem(row, 0, QTableWidgetItem(device.name))
            self.table.setItem(row, 1, QTableWidgetItem(_when(device.created_at)))
            self.table.setItem(row, 2, QTableWidgetItem(_when(device.last_used_at)))
            if device.revoked:
                self.table.removeCellWidget(row, 3)
                self.table.setItem(row, 3, QTableWidgetItem("revoked"))
            else:
                self.table.setItem(row, 3, QTableWidgetItem(""))
                button = QPushButton("Revoke")
                button.setObjectName(f"revoke-{device.id}")
                button.clicked.connect(lambda _=False, device_id=device.id: self.revoke(device_id))
                self.table.setCellWidget(row, 3, button)

    def _on_s3_checked(self, status: tuple[str, bool | None]) -> None:
        text, healthy = status
        self.s3_label.setText(text)
        color = {True: "#2e7d32", False: "#c62828", None: "#555555"}[healthy]
        self.s3_label.setStyleSheet(f"color: {color}")
        if healthy is False:
            self.storage_problem.emit(text)

    def _on_error(self, error: Exception) -> None:
        self.code_label.setText(f"Could not reach the device list: {error}")

    def _on_timer_timeout(self) -> None:
        self._show_countdown()
        self._ticks += 1
        if self._ticks % _DEVICE_REFRESH_TICKS == 0:
            self.refresh_devices()
        self._check_code()

    def _check_code(self) -> None:
        code = self._code
        if code is None or self._checking:
            return
        self._checking = True

        def check() -> tuple[Any, bool]:
            return code, bool(self._access.code_is_open(code.code))

        self._tasks.run(check, self._on_code_checked, self._on_check_failed)

    def _on_code_checked(self, checked: tuple[Any, bool]) -> None:
        self._checking = False
        code, is_open = checked
        if is_open or code is not self._code:
            return
        # A phone has just paired with it: a code works once, so show the next one.
        self._code = None
        self.code_label.setText("Code used. Making a new one…")
        self.new_code()
        self.refresh_devices()

    def _on_check_failed(self, error: Exception) -> None:
        self._checking = False
        self._on_error(error)


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
