from tests.jobs.services import s3_endpoint

__all__ = ["s3_endpoint"]
