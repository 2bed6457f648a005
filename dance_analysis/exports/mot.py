"""MOT export (issue 12). To be written."""

from __future__ import annotations

from pathlib import Path

from dance_analysis.exports import Motion


def write_mot(motion: Motion, path: Path) -> None:
    raise NotImplementedError
