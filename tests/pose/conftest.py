"""Pose fixtures: device detection with nothing cached."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from dance_analysis.pose import devices
from dance_analysis.pose.devices import ENV_CACHE, detect_device


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No answer cached in this process or its environment (both restored afterwards)."""
    saved = os.environ.pop(ENV_CACHE, None)
    detect_device.cache_clear()
    monkeypatch.setattr(devices, "_thread", None)
    yield
    os.environ.pop(ENV_CACHE, None)
    if saved is not None:
        os.environ[ENV_CACHE] = saved
    detect_device.cache_clear()
