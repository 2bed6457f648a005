"""Which accelerator this machine has: CUDA, ROCm, Apple MPS, or only the CPU.

Asked through torch, imported lazily (it takes a second or more) so start-up paths
such as ``--help`` never pay for it. A ROCm build of torch answers
``torch.cuda.is_available()`` too; ``torch.version.hip`` tells the two apart.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

KINDS = ("cuda", "rocm", "mps", "cpu")


@dataclass(frozen=True)
class Device:
    kind: str  # one of KINDS
    name: str  # human-readable, e.g. "NVIDIA H100" or "CPU"
    torch_version: str | None  # None when torch is not installed

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "name": self.name, "torch_version": self.torch_version}


@functools.lru_cache(maxsize=1)
def detect_device() -> Device:
    """The best accelerator torch can see; the CPU when torch is absent or sees none."""
    try:
        import torch
    except ImportError:
        log.info("torch is not installed; assuming CPU only")
        return Device("cpu", "CPU", None)
    version = str(torch.__version__)
    if torch.cuda.is_available():
        kind = "rocm" if getattr(torch.version, "hip", None) else "cuda"
        return Device(kind, torch.cuda.get_device_name(0), version)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return Device("mps", "Apple GPU (Metal)", version)
    return Device("cpu", "CPU", version)


def detect_device_in_background() -> Callable[[], Device]:
    """Start :func:`detect_device` in a low-priority child process; call the result.

    Importing torch costs about a second of CPU. Done in a child at a lower priority,
    it overlaps with the model's first frames instead of delaying them (and never
    holds this process's GIL). Falls back to detecting in-process if the child fails.
    """
    if detect_device.cache_info().currsize:
        return detect_device
    script = (
        "import json, dataclasses\n"
        "from dance_analysis.pose.devices import detect_device\n"
        "print(json.dumps(dataclasses.asdict(detect_device())))\n"
    )
    nice = (lambda: os.nice(10)) if hasattr(os, "nice") else None
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            preexec_fn=nice,
        )
    except OSError:
        return detect_device

    def result() -> Device:
        try:
            out, _ = child.communicate(timeout=120)
            return Device(**json.loads(out))
        except (subprocess.TimeoutExpired, ValueError, TypeError) as error:
            child.kill()
            log.warning("device detection in a child failed (%s); detecting here", error)
            return detect_device()

    return result
