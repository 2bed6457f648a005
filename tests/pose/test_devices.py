"""Device detection: in-process, once, never through ``sys.executable``; inherited by children."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from dance_analysis.pose import devices
from dance_analysis.pose.devices import (
    ENV_CACHE,
    Device,
    detect_device,
    detect_device_in_background,
    remember_device,
)

ROOT = Path(__file__).resolve().parents[2]


def _child_report(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    device = detect_device()
    queue.put((asdict(device), "torch" in sys.modules))


def test_background_detection_never_starts_sys_executable(
    fresh: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In the desktop bundle ``sys.executable`` is the app: detection must not run it.

    Here it is a real program that notes each start, then runs Python."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()  # a helper multiprocessing starts from sys.executable
    started = tmp_path / "started"
    app = tmp_path / "frozen-app"
    app.write_text(f'#!/bin/sh\necho "$@" >> {started}\nexec {sys.executable} "$@"\n')
    app.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(app))
    answer = detect_device_in_background()
    device = answer()
    assert not started.exists(), f"detection started the app: {started.read_text()}"
    import torch

    assert device.torch_version == torch.__version__
    if torch.cuda.is_available():
        assert device.kind == ("rocm" if torch.version.hip else "cuda")
    else:
        assert device.kind in ("mps", "cpu")
    assert answer() == device
    assert detect_device_in_background() is detect_device  # known now: no second thread


def test_spawned_children_inherit_the_answer_and_skip_torch(fresh: None) -> None:
    detected = detect_device_in_background()()
    assert json.loads(os.environ[ENV_CACHE]) == asdict(detected)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_child_report, args=(queue,))
    child.start()
    reported, imported_torch = queue.get(timeout=120)
    child.join(60)
    assert Device(**reported) == detected
    assert not imported_torch, "the child asked torch again instead of inheriting the answer"


def test_without_torch_the_answer_is_the_cpu_at_once(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desktop bundle leaves torch out: no thread, no error, the CPU."""
    monkeypatch.setitem(sys.modules, "torch", None)  # as if it were not installed
    answer = detect_device_in_background()
    assert answer is detect_device and devices._thread is None
    assert answer() == Device("cpu", "CPU", None)


def test_a_device_reported_by_a_child_is_kept_for_the_next(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    remember_device("not json")
    assert ENV_CACHE not in os.environ
    remember_device(json.dumps({"kind": "cuda", "name": "Some GPU", "torch_version": "2.0"}))
    assert detect_device() == Device("cuda", "Some GPU", "2.0")
    remember_device(json.dumps({"kind": "cpu", "name": "CPU", "torch_version": None}))
    assert detect_device().kind == "cuda"  # the first answer stays


def test_importing_the_module_does_not_import_torch() -> None:
    code = (
        "import sys; import dance_analysis.pose.devices; "
        "assert 'torch' not in sys.modules, 'torch imported at start-up'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
