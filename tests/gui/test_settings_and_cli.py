"""Settings stored by the window reach the composition root; ``python main.py`` means gui."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

import main
from gui.settings_view import SettingsView, load_overrides
from tests.settings import make_settings


def test_saved_settings_are_applied_below_command_line_options(qtbot: Any, tmp_path: Path) -> None:
    store = tmp_path / "settings.ini"
    view = SettingsView(make_settings(tmp_path / "data"), store)
    qtbot.addWidget(view)
    view.data_dir.setText(str(tmp_path / "studio"))
    view.api_port.setValue(8123)
    view.s3_bucket.setText("clips")
    view.s3_access_key.setText("studio-user")
    view.s3_secret_key.setText("studio-password-1")
    view.model_complexity.setCurrentIndex(2)
    view.use_mock_analysis.setChecked(True)
    with qtbot.waitSignal(view.saved):
        view.save_button.click()
    assert "Restart" in view.status_label.text()

    stored = load_overrides(store)
    assert stored["api_port"] == 8123 and stored["model_complexity"] == 2
    assert stored["use_mock_analysis"] is True and stored["s3_bucket"] == "clips"
    assert "s3_endpoint_url" not in stored  # left empty: not set

    args = argparse.Namespace(data_dir=None, host=None, port=9001)
    settings = main._settings(args, stored)
    assert settings.data_dir == tmp_path / "studio"
    assert settings.api_port == 9001  # the command line wins
    assert settings.model_complexity == 2 and settings.s3_bucket == "clips"


def test_no_arguments_starts_the_desktop_app(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(main, "_gui", lambda args: seen.append(args) or 0)
    assert main.main([]) == 0
    assert seen and seen[0].command == "gui" and seen[0].port is None
    assert main.main(["gui", "--data-dir", "/tmp/x", "--port", "8001"]) == 0
    assert seen[1].data_dir == Path("/tmp/x") and seen[1].port == 8001


def test_options_without_a_command_are_the_desktop_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python main.py --data-dir D --port P`` is ``python main.py gui --data-dir D --port P``."""
    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(main, "_gui", lambda args: seen.append(args) or 0)
    assert main.main(["--data-dir", "/tmp/x", "--port", "8001"]) == 0
    assert main.main(["-v", "--port", "8002", "--open", "a.mp4"]) == 0
    assert seen[0].command == "gui" and seen[0].data_dir == Path("/tmp/x")
    assert seen[0].port == 8001
    assert seen[1].verbose and seen[1].port == 8002 and seen[1].open == [Path("a.mp4")]
    with pytest.raises(SystemExit):  # a word that is no command is still an error
        main.main(["analyse", "clip.mp4"])
