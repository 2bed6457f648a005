"""S3 or MinIO behind the storage interface.

The bucket is private and created on first use when missing. Every call has bounded
connect and read timeouts and a bounded number of retries (botocore's "standard"
mode), so an unreachable S3 answers with an error in seconds instead of hanging a
worker or a request. Large files go up in parts (``upload_file``), each part checked
by S3 against a SHA-256 we send with it; the whole file's SHA-256 is stored as
object metadata so :meth:`S3Storage.stat` can report it without reading the object.

Links handed to clients are presigned with ``public_endpoint_url`` when set: the
endpoint the server talks to (``http://minio:9000``) is often not one a phone can reach.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dance_analysis.digests import sha256_of_file
from dance_analysis.errors import ObjectMissing, StorageUnavailable
from dance_analysis.storage.base import CHUNK_BYTES, Commit, ObjectInfo, content_type_for
from dance_analysis.storage.keys import safe_filename, validate_key, validate_prefix

_MULTIPART_THRESHOLD = 64 << 20
_MULTIPART_CHUNK = 16 << 20
_SHA256_META = "sha256"  # x-amz-meta-sha256


def _is_not_found(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return str(code) in ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


class S3Storage:
    kind = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        public_endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        max_attempts: int = 3,
        spool_dir: Path | None = None,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.bucket = bucket
        self._region = region or "us-east-1"
        self._spool_dir = spool_dir
        config = Config(
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            signature_version="s3v4",
            # MinIO and moto serve one host; path style needs no wildcard DNS.
            s3={"addressing_style": "path"},
        )
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=self._region,
        )
        self._client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)
        self._public_client: Any = (
            session.client("s3", endpoint_url=public_endpoint_url, config=config)
            if public_endpoint_url
            else self._client
        )
        self._transfer = TransferConfig(
            multipart_threshold=_MULTIPART_THRESHOLD,
            multipart_chunksize=_MULTIPART_CHUNK,
            max_concurrency=4,
        )
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    # --- the bucket -----------------------------------------------------------------

    def _create_bucket(self) -> None:
        """A private bucket in our region; one another process made a moment ago is ours."""
        from botocore.exceptions import ClientError

        # Outside us-east-1, S3 (and moto) want the region named again; there, naming it
        # is refused.
        where = (
            {}
            if self._region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self._region}}
        )
        try:
            self._client.create_bucket(Bucket=self.bucket, ACL="private", **where)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                raise

    def ensure_bucket(self) -> None:
        """Create the bucket (private) unless it exists. Called before the first write."""
        if self._bucket_ready:
            return
        from botocore.exceptions import ClientError

        with self._bucket_lock:
            if self._bucket_ready:
                return
            try:
                self._client.head_bucket(Bucket=self.bucket)
            except ClientError as error:
                if not _is_not_found(error):
                    raise
                self._create_bucket()
                # MinIO has no such API; its buckets are private by default.
                with contextlib.suppress(ClientError):
                    self._client.put_public_access_block(
                        Bucket=self.bucket,
                        PublicAccessBlockConfiguration={
                            "BlockPublicAcls": True, "IgnorePublicAcls": True,
                            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
                        },
                    )  # fmt: skip
            self._bucket_ready = True

    def ping(self) -> bool:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except Exception:
            return False
        return True

    # --- writing --------------------------------------------------------------------

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        self.put_file_verified(key, path, content_type, sha256_of_file(path))

    def put_file_verified(
        self, key: str, path: Path, content_type: str | None, sha256: str
    ) -> None:
        """Upload ``path`` (in parts when large), recording its SHA-256 as metadata."""
        validate_key(key)
        self.ensure_bucket()
        self._client.upload_file(
            str(path),
            self.bucket,
            key,
            ExtraArgs={
                "ContentType": content_type or content_type_for(key),
                "Metadata": {_SHA256_META: sha256},
                # S3 checks every part against its SHA-256: a corrupted transfer is refused.
                "ChecksumAlgorithm": "SHA256",
            },
            Config=self._transfer,
        )

    def write_stream(
        self, key: str, chunks: Iterable[bytes], *, max_bytes: int, commit: Commit | None = None
    ) -> int:
        """Spool ``chunks`` to a capped local temp file, then upload it in one go.

        S3 has no append, and a multipart upload per request would leave parts behind
        when a client vanishes; the spool file is deleted whatever happens. With
        ``commit``, the upload itself is the step handed to it.
        """
        from dance_analysis.storage.local import LocalStorage

        validate_key(key)
        spool_root = Path(tempfile.mkdtemp(prefix="s3-spool-", dir=self._spool_dir))
        try:
            spool = LocalStorage(spool_root)
            size = spool.write_stream(key, chunks, max_bytes=max_bytes)
            local = spool.local_path(key)
            assert local is not None
            if commit is None:
                self.put_file(key, local)
            else:
                commit(lambda: self.put_file(key, local))
            return size
        finally:
            shutil.rmtree(spool_root, ignore_errors=True)

    # --- reading --------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        validate_key(key)
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _is_not_found(error):
                return None
            raise
        sha = head.get("Metadata", {}).get(_SHA256_META)
        return ObjectInfo(key=key, size=int(head["ContentLength"]), sha256=sha)

    def fetch(self, key: str, path: Path) -> None:
        from botocore.exceptions import ClientError

        validate_key(key)
        temp = path.with_name(f".partial-{path.name}")
        try:
            self._client.download_file(self.bucket, key, str(temp), Config=self._transfer)
            os.replace(temp, path)
        except ClientError as error:
            if _is_not_found(error):
                raise ObjectMissing(f"The stored file {key} is missing.") from error
            raise
        finally:
            temp.unlink(missing_ok=True)

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        validate_key(key)
        byte_range = f"bytes={start}-{'' if end is None else end}"
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key, Range=byte_range)["Body"]
        except ClientError as error:
            if _is_not_found(error):
                raise ObjectMissing(f"The stored file {key} is missing.") from error
            raise
        return _stream_body(body)

    # --- housekeeping ---------------------------------------------------------------

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        deleted = 0
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
                )
                deleted += len(keys)
        self.abort_multipart_uploads(prefix)
        return deleted

    def abort_multipart_uploads(self, prefix: str) -> int:
        """Abort unfinished multipart uploads under ``prefix`` (their parts cost money)."""
        aborted = 0
        listing = self._client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        for upload in listing.get("Uploads", []):
            self._client.abort_multipart_upload(
                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
            aborted += 1
        return aborted

    def presigned_put(self, key: str, content_type: str, expires_s: int) -> str | None:
        validate_key(key)
        self.ensure_bucket()
        url: str = self._public_client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=expires_s,
        )
        return url

    def presigned_get(self, key: str, expires_s: int, filename: str) -> str | None:
        validate_key(key)
        url: str = self._public_client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(filename),
            },
            ExpiresIn=expires_s,
        )
        return url

    def local_path(self, key: str) -> Path | None:
        return None


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII-safe name: quotes, CR/LF and paths cannot get in."""
    safe = safe_filename(filename)
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(safe, safe='')}"


def _stream_body(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def wrap_unavailable(error: Exception) -> StorageUnavailable:
    """Connection-level failures of S3, as the error a client can act on."""
    return StorageUnavailable(f"File storage is unreachable ({type(error).__name__}).")
