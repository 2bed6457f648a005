"""Settings a coach may change, stored where the platform expects (QSettings).

The stored values are overrides for :class:`dance_analysis.config.Settings`; the
composition root (``main.py``) applies them at start-up, below command-line
options. Changes take effect the next time the app starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

ORGANIZATION = "dance-analysis"
APPLICATION = "Dance Analysis"
# Settings fields the window edits, with their types (QSettings stores strings on Linux).
FIELDS: dict[str, type] = {
    "data_dir": str,
    "api_host": str,
    "api_port": int,
    "s3_endpoint_url": str,
    "s3_bucket": str,
    "s3_access_key": str,
    "s3_secret_key": str,
    "s3_mode": str,
    "use_mock_analysis": bool,
    "model_complexity": int,
    "filter_cutoff_hz": float,
    "overlay": bool,
}


def _qsettings(path: Path | None = None) -> QSettings:
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


def _typed(kind: type, value: Any) -> Any:
    if kind is bool:
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return kind(value)


def load_overrides(path: Path | None = None) -> dict[str, Any]:
    """Stored values for Settings fields; empty text means "not set"."""
    store = _qsettings(path)
    overrides: dict[str, Any] = {}
    for name, kind in FIELDS.items():
        value = store.value(name)
        if value is None or value == "":
            continue
        try:
            overrides[name] = _typed(kind, value)
        except (TypeError, ValueError):
            continue  # a hand-edited file with a bad value: the default wins
    return overrides


def save_overrides(values: dict[str, Any], path: Path | None = None) -> str:
    """Store the values; answers where they went (shown to the user)."""
    store = _qsettings(path)
    for name in FIELDS:
        if name in values:
            store.setValue(name, "" if values[name] is None else values[name])
    store.sync()
    return store.fileName()


class SettingsView(QWidget):
    """A form over :data:`FIELDS`, filled from the running settings."""

    saved = Signal(str)  # where

    def __init__(
        self, settings: Any, store_path: Path | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store_path = store_path
        self.data_dir = QLineEdit(str(settings.data_dir))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._on_browse_clicked)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(browse)
        self.api_host = QComboBox()
        self.api_host.setEditable(True)
        self.api_host.addItems(["0.0.0.0", "127.0.0.1"])
        self.api_host.setCurrentText(settings.api_host)
        self.api_host.setToolTip(
            "0.0.0.0: phones on the network can connect; 127.0.0.1: this computer only"
        )
        self.api_port = QSpinBox()
        self.api_port.setRange(0, 65535)
        self.api_port.setValue(settings.api_port)
        self.s3_endpoint_url = QLineEdit(settings.s3_endpoint_url or "")
        self.s3_endpoint_url.setPlaceholderText("e.g. http://nas.local:9000 (empty for AWS)")
        self.s3_bucket = QLineEdit(settings.s3_bucket or "")
        self.s3_bucket.setPlaceholderText("empty: no cloud storage")
        self.s3_access_key = QLineEdit(settings.s3_access_key or "")
        self.s3_secret_key = QLineEdit(settings.s3_secret_key or "")
        self.s3_secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.s3_mode = QComboBox()
        self.s3_mode.addItems(["sync", "primary"])
        self.s3_mode.setCurrentText(settings.s3_mode)
        self.use_mock_analysis = QCheckBox("Synthetic poses (for trying the app without the model)")
        self.use_mock_analysis.setChecked(settings.use_mock_analysis)
        self.model_complexity = QComboBox()
        self.model_complexity.addItems(["0 – lite (fast)", "1 – full", "2 – heavy (slow)"])
        self.model_complexity.setCurrentIndex(settings.model_complexity)
        self.filter_cutoff_hz = QDoubleSpinBox()
        self.filter_cutoff_hz.setRange(0.5, 30.0)
        self.filter_cutoff_hz.setSuffix(" Hz")
        self.filter_cutoff_hz.setValue(settings.filter_cutoff_hz)
        self.overlay = QCheckBox("Write an overlay video for phones")
        self.overlay.setChecked(settings.overlay)

        general = QGroupBox("Library and server")
        form = QFormLayout(general)
        form.addRow("Data folder", data_row)
        form.addRow("Listen on", self.api_host)
        form.addRow("Port", self.api_port)
        cloud = QGroupBox("S3 / MinIO")
        form = QFormLayout(cloud)
        form.addRow("Endpoint", self.s3_endpoint_url)
        form.addRow("Bucket", self.s3_bucket)
        form.addRow("Access key", self.s3_access_key)
        form.addRow("Secret key", self.s3_secret_key)
        form.addRow("Mode", self.s3_mode)
        analysis = QGroupBox("Analysis")
        form = QFormLayout(analysis)
        form.addRow("Model", self.model_complexity)
        form.addRow("Smoothing", self.filter_cutoff_hz)
        form.addRow("", self.overlay)
        form.addRow("", self.use_mock_analysis)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.status_label = QLabel("Changes apply the next time the app starts.")
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(general)
        layout.addWidget(cloud)
        layout.addWidget(analysis)
        layout.addStretch(1)
        layout.addLayout(footer)

    def values(self) -> dict[str, Any]:
        return {
            "data_dir": self.data_dir.text().strip(),
            "api_host": self.api_host.currentText().strip(),
            "api_port": self.api_port.value(),
            "s3_endpoint_url": self.s3_endpoint_url.text().strip(),
            "s3_bucket": self.s3_bucket.text().strip(),
            "s3_access_key": self.s3_access_key.text().strip(),
            "s3_secret_key": self.s3_secret_key.text(),
            "s3_mode": self.s3_mode.currentText(),
            "use_mock_analysis": self.use_mock_analysis.isChecked(),
            "model_complexity": self.model_complexity.currentIndex(),
            "filter_cutoff_hz": self.filter_cutoff_hz.value(),
            "overlay": self.overlay.isChecked(),
        }

    def save(self) -> None:
        where = save_overrides(self.values(), self._store_path)
        self.status_label.setText(f"Saved to {where}. Restart the app to use the new settings.")
        self.saved.emit(where)

    def _on_browse_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text())
        if folder:
            self.data_dir.setText(folder)
