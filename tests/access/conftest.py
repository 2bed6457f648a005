"""Fixtures for these tests: the real services (see tests/jobs/services.py)."""

from tests.jobs.services import postgres_url, redis_url, s3_endpoint, tiny_clip

__all__ = ["postgres_url", "redis_url", "s3_endpoint", "tiny_clip"]
