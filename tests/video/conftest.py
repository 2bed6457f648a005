"""Clips for the video tests, built once per session from the shared footage."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media import SQUATS, make_clip, with_tone


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SQUATS.exists():
        pytest.fail(f"test footage {SQUATS} is missing; set DANCE_SHARED_DATA to shared/data")
    return tmp_path_factory.mktemp("video-media")


@pytest.fixture(scope="session")
def small_clip(media_dir: Path) -> Path:
    """2 s of the squats, 90x160, 5 fps: 10 frames, upright, no audio, moov at the end."""
    return make_clip(media_dir / "small.mp4")


@pytest.fixture(scope="session")
def small_clip_no_bframes(media_dir: Path) -> Path:
    """Like ``small_clip`` with decode order = presentation order (for retiming)."""
    return make_clip(media_dir / "small-nob.mp4", bframes=0)


@pytest.fixture(scope="session")
def tone_clip(media_dir: Path, small_clip: Path) -> Path:
    """``small_clip`` with a 440 Hz AAC tone muxed in."""
    return with_tone(small_clip, media_dir / "small-tone.mp4")
