"""One Settings class for the whole product, from environment variables and ``.env``.

Every setting is read from ``DANCE_<NAME>`` (e.g. ``DANCE_DATA_DIR``). A few names
that the original backend and common deployments already use are accepted as they
are: ``USE_MOCK_ANALYSIS``, ``REDIS_URL``, ``DATABASE_URL`` and ``CORS_ORIGINS``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "dance-analysis"
ENV_PREFIX = "DANCE_"
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "changethis", "secret"})


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)

    # Pose estimation
    # One of dance_analysis.pose.BACKENDS; checked when a clip is analysed, so a wrong
    # name fails with ``unknown_backend`` and the names there are. ``auto`` picks by device.
    pose_backend: str = Field(default="auto", max_length=40)
    use_mock_analysis: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "use_mock_analysis", "DANCE_USE_MOCK_ANALYSIS", "USE_MOCK_ANALYSIS"
        ),
        description="Synthetic poses instead of the model: the documented mock mode.",
    )
    model_complexity: Literal[0, 1, 2] = 1
    mock_people: int = Field(
        default=1,
        ge=1,
        le=2,
        description=(
            "The mock mode's scene: 1 dancer, or 2 (a small figure at the side from the start, "
            "the main dancer walking in at 0.4 s), to try everything that picks a dancer."
        ),
    )

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

    # Music: the dance style that constrains the tempo search (DANCE_STYLE); checked
    # when a clip is analysed, so a wrong name fails with ``unknown_style``.
    style: str = "auto"

    # --- The job service, storage and the HTTP API (docs/design/job-service.md) ---

    # Records and queue: SQLite and Huey-on-SQLite under data_dir unless URLs are given.
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("database_url", "DANCE_DATABASE_URL", "DATABASE_URL"),
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("redis_url", "DANCE_REDIS_URL", "REDIS_URL")
    )
    queue_name: str = Field(default="dance-analysis", pattern=r"^[A-Za-z0-9_-]{1,64}$")

    # S3 / MinIO: off unless a bucket is set.
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint used in presigned links handed to clients, when the one the "
        "server talks to (e.g. http://minio:9000) is not reachable from their network.",
    )
    s3_bucket: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str | None = None
    s3_mode: Literal["primary", "sync"] = "primary"
    s3_connect_timeout_s: float = Field(default=5.0, gt=0)
    s3_read_timeout_s: float = Field(default=30.0, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1)
    sync_interval_s: float = Field(default=5.0, gt=0)
    sync_max_backoff_s: float = Field(default=300.0, gt=0)

    # HTTP
    api_host: str = "0.0.0.0"
    api_port: int = Field(default=8000, ge=0, le=65535)
    public_base_url: str | None = None
    auth_disabled: bool = False  # DANCE_AUTH_DISABLED; the server warns loudly when True
    allowed_hosts: list[str] = Field(default_factory=list)
    cors_origins: list[str] = Field(default_factory=list)
    # The original backend's ``CORS_ORIGINS``: comma-separated (or a JSON list), "*" for
    # any origin; joined to ``cors_origins`` (DANCE_CORS_ORIGINS, a JSON list).
    seed_cors_origins: str | None = Field(
        default=None, validation_alias=AliasChoices("seed_cors_origins", "CORS_ORIGINS")
    )
    secret_key: str | None = None
    max_upload_bytes: int = Field(default=2 << 30, gt=0)
    upload_url_expiry_s: int = Field(default=900, gt=0)
    upload_reconcile_after_s: int = Field(
        default=3600,
        ge=0,
        description="How long after its link expired an upload that was never confirmed "
        "is reconciled (confirmed if the object is there and matches, else deleted).",
    )
    dedupe_window_s: int = Field(
        default=600,
        ge=0,
        description="A multipart upload of the same bytes and name within this window is "
        "a retry and answers with the first job.",
    )

    # Running jobs
    job_time_limit_s: float = Field(default=1800, gt=0)
    lease_s: float = Field(default=60, gt=0)
    heartbeat_s: float = Field(default=15, gt=0)
    sweep_interval_s: float = Field(default=30, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    consumer_workers: int = Field(default=1, ge=1)
    api_runs_jobs: bool = Field(
        default=True,
        description="Whether `serve` runs a queue consumer beside the API. False on an API "
        "that scales out: `main.py worker` processes (sharing DATABASE_URL and REDIS_URL) "
        "run every job, and the API only records and enqueues them. The desktop app "
        "always runs its jobs.",
    )
    pairing_code_ttl_s: int = Field(default=300, gt=0)

    @model_validator(mode="after")
    def _join_seed_cors_origins(self) -> Settings:
        if self.seed_cors_origins:
            text = self.seed_cors_origins.strip()
            if text.startswith("["):
                parsed = json.loads(text)
                if not isinstance(parsed, list):
                    raise ValueError("CORS_ORIGINS must be a comma-separated list of origins")
                extra = [str(origin).strip() for origin in parsed]
            else:
                extra = [origin.strip() for origin in text.split(",")]
            for origin in extra:
                if origin and origin not in self.cors_origins:
                    self.cors_origins.append(origin)
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        """A copied ``.env.example`` must not run with its sample secrets."""
        named = {"secret_key": self.secret_key}
        if self.s3_bucket:
            named |= {"s3_access_key": self.s3_access_key, "s3_secret_key": self.s3_secret_key}
        for name, value in named.items():
            if value is not None and value.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError(f"{name} is a placeholder ({value!r}): set a real secret")
        return self

    @property
    def effective_backend(self) -> str:
        return "mock" if self.use_mock_analysis else self.pose_backend
