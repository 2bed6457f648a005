"""The squats clip as the teacher, shared by the comparison tests (read once)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.compare import clips


@pytest.fixture(scope="session")
def squats() -> dict[str, Any]:
    return clips.squats()
