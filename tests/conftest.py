"""Fixtures shared by every test folder: where the real footage lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI clones the repository with shared/ beside it; DANCE_SHARED_DATA overrides.
SHARED_DATA = Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        # Not a skip: without the footage the suite proves nothing, so say so loudly.
        pytest.fail(
            f"test footage {path} is missing; set DANCE_SHARED_DATA to the shared/data folder"
        )
    return path


@pytest.fixture(scope="session")
def squats_clip() -> Path:
    """720x1280 portrait, 5 fps, 65 frames, H.264, no audio."""
    return shared_file("pose_squats.mp4")


@pytest.fixture(scope="session")
def squats_reference() -> Path:
    """BlazePose full reference: 65 frames x 33 x [x_px, y_px, z]."""
    return shared_file("pose_squats.full.json")
