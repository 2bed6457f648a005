"""One Settings class for the whole product, from environment variables and ``.env``.

Every setting is read from ``DANCE_<NAME>`` (e.g. ``DANCE_DATA_DIR``). A few names
that the original backend and common deployments already use are accepted as they
are: ``USE_MOCK_ANALYSIS``, ``REDIS_URL`` and ``DATABASE_URL``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "dance-analysis"
ENV_PREFIX = "DANCE_"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)

    # Pose estimation
    pose_backend: Literal["mediapipe", "mock"] = "mediapipe"
    use_mock_analysis: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "use_mock_analysis", "DANCE_USE_MOCK_ANALYSIS", "USE_MOCK_ANALYSIS"
        ),
        description="Synthetic poses instead of the model: the documented mock mode.",
    )
    model_complexity: Literal[0, 1, 2] = 1

    # What clips are accepted
    max_side_px: int = Field(default=4096, ge=16)
    max_duration_s: float = Field(default=20 * 60, gt=0)

    # Cleaning and measuring
    filter_cutoff_hz: float = Field(default=6.0, gt=0)
    max_gap_s: float = Field(default=0.25, ge=0)
    visibility_min: float = Field(default=0.5, ge=0, le=1)

    # Artifacts
    overlay: bool = True
    overlay_crf: int = Field(default=23, ge=0, le=51)
    overlay_preset: str = "veryfast"

    @property
    def effective_backend(self) -> str:
        return "mock" if self.use_mock_analysis else self.pose_backend
