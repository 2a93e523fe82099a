"""Content-addressed attachment storage: the bytes of every attachment once, under its sha256.

`AttachmentStore` is the interface (put, get, has; and for a file too large to hold at once — a
crawl's WARC — new_file, written piece by piece, and read, a byte range of it); `LocalStore` keeps
files in a directory (`GONGKAI_ATTACHMENTS`, default: `attachments/` beside the SQLite file, or
data/local/attachments). An S3-compatible bucket is another implementation of the same methods (a
multipart upload, a ranged GET).

Files are written before the database transaction commits: a committed record never names a missing
file; a rolled-back import may leave an unreferenced file, which is harmless (the same bytes, if
imported later, are the same file).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import Protocol

from scoring.errors import GongkaiError


class NewFile(Protocol):
    def write(self, data: bytes) -> int: ...      # appends; the offset the data starts at
    def finish(self) -> str: ...                  # stores the file; its sha256
    def discard(self) -> None: ...


class AttachmentStore(Protocol):
    def put(self, data: bytes) -> str: ...        # the sha256; storing the same bytes twice stores them once
    def get(self, sha256: str) -> bytes: ...      # the whole file, checked against its sha256
    def has(self, sha256: str) -> bool: ...
    def new_file(self) -> NewFile: ...
    def read(self, sha256: str, offset: int = 0, length: int | None = None) -> bytes: ...  # a range (to the end
    # without a length), unchecked: whoever reads it knows the digest of what it holds


class LocalStore:
    """Files under root/ab/cd/<sha256> (written to a temporary name, then renamed: never half a file)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._folders: set[Path] = set()  # made (or found) already: a crawl puts thousands of records

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise GongkaiError(f"{sha256!r} is not a sha256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(sha)
        if path.exists():
            return sha
        # a name of this process and thread alone (a stale one of a dead process is overwritten)
        tmp = path.parent / f".{sha}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            if path.parent not in self._folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(path.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                rest = memoryview(data)
                while rest:
                    rest = rest[os.write(fd, rest):]
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            self._folders.discard(path.parent)
            raise GongkaiError(f"cannot store an attachment under {self.root}: {e.strerror}") from None
        return sha

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except OSError:
            raise GongkaiError(f"attachment {sha256[:12]}… is not in the store {self.root}") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise GongkaiError(f"attachment {sha256[:12]}… in {self.root} was altered: its bytes no longer match")
        return data

    def has(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def new_file(self) -> LocalNewFile:
        return LocalNewFile(self)

    def read(self, sha256: str, offset: int = 0, length: int | None = None) -> bytes:
        try:
            with self._path(sha256).open("rb") as f:
                f.seek(offset)
                data = f.read(-1 if length is None else length)
        except OSError:
            raise GongkaiError(f"attachment {sha256[:12]}… is not in the store {self.root}") from None
        if length is not None and len(data) != length:
            raise GongkaiError(f"attachment {sha256[:12]}… in {self.root} ends before byte {offset + length:,}: "
                               "it was cut short")
        return data

    def _settle(self, tmp: Path, sha256: str) -> None:
        """A finished temporary file put in its place (or dropped: the same bytes are there already)."""
        path = self._path(sha256)
        try:
            if path.exists():
                tmp.unlink()
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise GongkaiError(f"cannot store an attachment under {self.root}: {e.strerror}") from None


class LocalNewFile:
    """A file of a LocalStore written piece by piece under a temporary name in the store's folder (its
    sha256 computed as it grows), renamed to its sha256 when finished; never half a file."""

    def __init__(self, store: LocalStore):
        self.store, self.size, self.digest = store, 0, hashlib.sha256()
        store.root.mkdir(parents=True, exist_ok=True)
        self.tmp = store.root / f".new.{os.getpid()}.{threading.get_ident()}.{id(self)}.tmp"
        try:
            self.file = self.tmp.open("wb", buffering=1 << 20)  # noqa: SIM115 — closed by finish or discard
        except OSError as e:
            raise GongkaiError(f"cannot store an attachment under {store.root}: {e.strerror}") from None

    def write(self, data: bytes) -> int:
        offset = self.size
        try:
            self.file.write(data)
        except OSError as e:
            self.discard()
            raise GongkaiError(f"cannot store an attachment under {self.store.root}: {e.strerror}") from None
        self.digest.update(data)
        self.size += len(data)
        return offset

    def finish(self) -> str:
        try:
            self.file.close()
        except OSError as e:
            self.discard()
            raise GongkaiError(f"cannot store an attachment under {self.store.root}: {e.strerror}") from None
        sha = self.digest.hexdigest()
        self.store._settle(self.tmp, sha)
        return sha

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)


def store_for(url: str) -> AttachmentStore:
    """The store of a database: GONGKAI_ATTACHMENTS, else beside its SQLite file, else data/local/attachments."""
    configured = os.environ.get("GONGKAI_ATTACHMENTS")
    if configured:
        return LocalStore(Path(configured))
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return LocalStore(Path(url.removeprefix("sqlite:///")).parent / "attachments")
    return LocalStore(Path("data/local/attachments"))
