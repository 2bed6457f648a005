"""Files under ``{data_dir}/storage``: the desktop's store, and the fallback everywhere.

Every write goes to a hidden temporary name in the target folder and is renamed into
place after an fsync, so a reader (or a crash) never sees half a file. Streams are
counted as they arrive and cut at the cap; a cut, failed or full-disk write leaves
nothing behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from dance_analysis.errors import ObjectMissing, OutputError, Reason, UploadTooLarge
from dance_analysis.storage.base import CHUNK_BYTES, Commit, ObjectInfo
from dance_analysis.storage.keys import UnsafeKeyError, validate_key, validate_prefix

_PARTIAL = ".partial-"


def _disk_full() -> OutputError:
    return OutputError(
        Reason.INSUFFICIENT_STORAGE, "The server's disk is full: free some space and try again."
    )


class LocalStorage:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    # --- paths ----------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        path = self.root / validate_key(key)
        # validate_key already rules out "..", but a symlink planted inside the root
        # could still point out of it: check the resolved path too.
        if not path.resolve().is_relative_to(self.root):
            raise UnsafeKeyError(f"storage key resolves outside the root: {key!r:.80}")
        return path

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def _temp_beside(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f"{_PARTIAL}{secrets.token_hex(6)}-{path.name}")

    @staticmethod
    def _commit(temp: Path, f: BinaryIO, path: Path) -> None:
        f.flush()
        os.fsync(f.fileno())
        os.replace(temp, path)

    # --- writing --------------------------------------------------------------------

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        del content_type  # the local store derives it from the name when serving
        target = self._path(key)
        temp = self._temp_beside(target)
        try:
            with path.open("rb") as src, temp.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK_BYTES)
                self._commit(temp, dst, target)
        except OSError as error:
            temp.unlink(missing_ok=True)
            if error.errno == errno.ENOSPC:
                raise _disk_full() from error
            raise
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def write_stream(
        self, key: str, chunks: Iterable[bytes], *, max_bytes: int, commit: Commit | None = None
    ) -> int:
        """Write ``chunks`` to ``key``; raise :class:`UploadTooLarge` past ``max_bytes``.

        With ``commit``, the finished file is renamed into place only through it, so
        the caller can check, under its own lock, that it may still replace ``key``.
        """
        target = self._path(key)
        temp = self._temp_beside(target)
        size = 0
        published = False

        def publish() -> None:
            nonlocal published
            if not published:  # the caller's transaction may run its body again
                os.replace(temp, target)
                published = True

        try:
            with temp.open("wb") as dst:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge(max_bytes)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            if commit is None:
                publish()
            else:
                commit(publish)
        except OSError as error:
            temp.unlink(missing_ok=True)
            if error.errno == errno.ENOSPC:
                raise _disk_full() from error
            raise
        except BaseException:  # too large, client gone, cancelled, refused: never leave a part
            temp.unlink(missing_ok=True)
            raise
        return size

    # --- reading --------------------------------------------------------------------

    def stat(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except FileNotFoundError:
            return None
        # Every write renames a new file into place, so a replaced object has a new inode.
        version = f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
        return ObjectInfo(key=key, size=st.st_size, sha256=None, version=version)

    def fetch(self, key: str, path: Path) -> None:
        source = self._path(key)
        temp = path.with_name(f"{_PARTIAL}{path.name}")
        try:
            shutil.copyfile(source, temp)
            os.replace(temp, path)
        except FileNotFoundError as error:
            temp.unlink(missing_ok=True)
            raise ObjectMissing(f"The stored file {key} is missing.") from error

    def open_range(self, key: str, start: int, end: int | None) -> Iterator[bytes]:
        # Opened here, not in the generator, so a missing file raises at the call.
        try:
            f = self._path(key).open("rb")
        except FileNotFoundError as error:
            raise ObjectMissing(f"The stored file {key} is missing.") from error
        return _read_range(f, start, end)

    # --- housekeeping ---------------------------------------------------------------

    def delete_prefix(self, prefix: str) -> int:
        folder = self.root / validate_prefix(prefix)
        if not folder.is_dir() or folder.is_symlink():
            return 0
        count = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith(_PARTIAL))
        shutil.rmtree(folder, ignore_errors=True)
        return count

    def presigned_put(self, key: str, content_type: str, expires_s: int) -> str | None:
        return None

    def presigned_get(self, key: str, expires_s: int, filename: str) -> str | None:
        return None

    def ping(self) -> bool:
        return self.root.is_dir() and os.access(self.root, os.W_OK)


def _read_range(f: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with f:
        f.seek(start)
        remaining = None if end is None else end - start + 1
        while remaining is None or remaining > 0:
            block = f.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
            if not block:
                return
            if remaining is not None:
                remaining -= len(block)
            yield block
