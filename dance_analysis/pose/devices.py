"""Which accelerator this machine has: CUDA, ROCm, Apple MPS, or only the CPU.

Asked through torch, imported lazily (it takes a second or more) so start-up paths
such as ``--help`` never pay for it. A ROCm build of torch answers
``torch.cuda.is_available()`` too; ``torch.version.hip`` tells the two apart.

Detection runs in-process, on a background thread, once per process, and never starts
``sys.executable`` (in the desktop bundle that is the app itself, not Python). The answer
is also left in the environment (:data:`ENV_CACHE`), so processes spawned afterwards
(the analysis child, the frame decoder) read it instead of importing torch again. When
torch is not installed (the desktop bundle leaves it out), the answer is the CPU at once.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

KINDS = ("cuda", "rocm", "mps", "cpu")

#: A detected device, as JSON, inherited by the processes this one spawns.
ENV_CACHE = "DANCE_DETECTED_DEVICE"


@dataclass(frozen=True)
class Device:
    kind: str  # one of KINDS
    name: str  # human-readable, e.g. "NVIDIA H100" or "CPU"
    torch_version: str | None  # None when torch is not installed

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "torch_version": self.torch_version}


CPU_WITHOUT_TORCH = Device("cpu", "CPU", None)


def _torch_installed() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a broken or half-removed install
        return False


def _from_environment() -> Device | None:
    """The device a parent process detected, if it left one in the environment."""
    text = os.environ.get(ENV_CACHE)
    if not text:
        return None
    try:
        device = Device(**json.loads(text))
    except (ValueError, TypeError):
        log.warning("ignoring %s=%r: not a detected device", ENV_CACHE, text)
        return None
    return device if device.kind in KINDS else None


@functools.lru_cache(maxsize=1)
def detect_device() -> Device:
    """The best accelerator torch can see; the CPU when torch is absent or sees none."""
    inherited = _from_environment()
    if inherited is not None:
        return inherited
    device = _ask_torch()
    os.environ[ENV_CACHE] = json.dumps(asdict(device))  # for the processes spawned later
    return device


def _ask_torch() -> Device:
    if not _torch_installed():
        log.info("torch is not installed; assuming CPU only")
        return CPU_WITHOUT_TORCH
    try:
        import torch
    except ImportError:
        log.info("torch cannot be imported; assuming CPU only")
        return CPU_WITHOUT_TORCH
    version = str(torch.__version__)
    if torch.cuda.is_available():
        kind = "rocm" if getattr(torch.version, "hip", None) else "cuda"
        return Device(kind, torch.cuda.get_device_name(0), version)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Device("mps", "Apple GPU (Metal)", version)
    return Device("cpu", "CPU", version)


def may_have_accelerator() -> bool:
    """False only when this machine certainly has no GPU torch could use, decided in
    microseconds without importing torch: Linux without NVIDIA's or AMD's device nodes.
    Then ``auto`` starts the CPU backend at once instead of waiting for torch's answer."""
    if os.environ.get(ENV_CACHE):
        known = _from_environment()
        return known is None or known.kind != "cpu"
    if not _torch_installed():
        return False
    if sys.platform.startswith("linux"):
        return any(os.path.exists(node) for node in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd"))
    return True  # macOS (MPS) and Windows (CUDA): ask torch


def remember_device(text: object) -> None:
    """Keep a device a child process detected (its :data:`ENV_CACHE` JSON), so the
    processes this one spawns next do not import torch again."""
    if isinstance(text, str) and not os.environ.get(ENV_CACHE):
        os.environ[ENV_CACHE] = text
        if _from_environment() is None:  # not a device: forget it
            del os.environ[ENV_CACHE]


_lock = threading.Lock()
_thread: threading.Thread | None = None


def _detect_at_low_priority() -> None:
    if sys.platform.startswith("linux"):  # on Linux a thread has a priority of its own
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    try:
        detect_device()
    except Exception:  # torch can fail in odd ways (drivers); detect_device() says how
        log.warning("device detection failed on its thread", exc_info=True)


def detect_device_in_background() -> Callable[[], Device]:
    """Start :func:`detect_device` on a low-priority thread (once per process); call
    the result for the answer.

    Importing torch costs a second or more; on a thread it overlaps with the model's
    first frames. Already known (this process, a parent, or no torch installed): no
    thread at all.
    """
    global _thread
    if detect_device.cache_info().currsize or os.environ.get(ENV_CACHE) or not _torch_installed():
        return detect_device
    with _lock:
        if _thread is None:
            _thread = threading.Thread(
                target=_detect_at_low_priority, name="device-detection", daemon=True
            )
            _thread.start()
        thread = _thread

    def result() -> Device:
        thread.join()
        return detect_device()  # cached by the thread; detects here if the thread failed

    return result
