"""Which accelerator this machine has: CUDA, ROCm, Apple MPS, or only the CPU.

Asked through torch, imported lazily (it takes a second or more) so start-up paths
such as ``--help`` never pay for it. A ROCm build of torch answers
``torch.cuda.is_available()`` too; ``torch.version.hip`` tells the two apart.
"""

from __future__ import annotations

import functools
import logging
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
