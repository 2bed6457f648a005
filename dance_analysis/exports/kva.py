"""Kinovea KVA export (issue 12). To be written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dance_analysis.exports import Motion
from dance_analysis.marks import Mark


def write_kva(motion: Motion, path: Path, marks: Sequence[Mark]) -> None:
    raise NotImplementedError
