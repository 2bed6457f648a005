"""Where files live: local folders or S3/MinIO, behind one interface.

``create_storage(settings)`` picks the primary store: S3 when a bucket is set and
``s3_mode`` is ``primary`` (a studio), else files under ``{data_dir}/storage``.
``create_sync_target(settings)`` gives the S3 copy a desktop mirrors results to
when ``s3_mode`` is ``sync``. Nothing here connects to anything until first used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dance_analysis.config import Settings
from dance_analysis.storage.base import ObjectInfo, Storage, content_type_for
from dance_analysis.storage.keys import result_key, safe_filename, upload_key, validate_key
from dance_analysis.storage.local import LocalStorage

if TYPE_CHECKING:
    from dance_analysis.storage.s3 import S3Storage

__all__ = [
    "LocalStorage",
    "ObjectInfo",
    "Storage",
    "content_type_for",
    "create_storage",
    "create_sync_target",
    "result_key",
    "s3_storage",
    "safe_filename",
    "upload_key",
    "validate_key",
]


def s3_storage(settings: Settings) -> S3Storage:
    """The bucket the settings name (``s3_bucket`` must be set); connects on first use."""
    from dance_analysis.storage.s3 import S3Storage

    assert settings.s3_bucket
    return S3Storage(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        public_endpoint_url=settings.s3_public_endpoint_url,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
        region=settings.s3_region,
        connect_timeout_s=settings.s3_connect_timeout_s,
        read_timeout_s=settings.s3_read_timeout_s,
        max_attempts=settings.s3_max_attempts,
        spool_dir=spool_dir(settings),
    )


def spool_dir(settings: Settings) -> Path:
    path = Path(settings.data_dir) / "spool"
    path.mkdir(parents=True, exist_ok=True)
    return path


def create_storage(settings: Settings) -> Storage:
    if settings.s3_bucket and settings.s3_mode == "primary":
        return s3_storage(settings)
    return LocalStorage(Path(settings.data_dir) / "storage")


def create_sync_target(settings: Settings) -> Storage | None:
    """The S3 store a desktop copies results to, or None when there is none."""
    if settings.s3_bucket and settings.s3_mode == "sync":
        return s3_storage(settings)
    return None
