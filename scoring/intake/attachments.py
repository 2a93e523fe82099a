"""Attachments named by evidence rows (附件, 取證留存): the files of an import bundle (.zip or folder),
checked by row — missing, too large, or not what the extension says (magic bytes) — before anything is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from scoring.errors import EvidenceError, RowProblem

MAX_ATTACHMENT_BYTES = int(os.environ.get("GONGKAI_MAX_ATTACHMENT_BYTES", str(25 * 1024 * 1024)))
MAX_TABLE_BYTES = 512 * 1024 * 1024
CHUNK = 1024 * 1024
TABLE_SUFFIXES = (".csv", ".xlsx", ".xls")

# extension → (kind, media type served for download). Saved pages and archives are served as
# octet-stream: they are evidence to download, never pages to render in the app's origin.
# the files an attachment may be: suffix → (its type in words, the MIME type it is served as)
FILE_TYPES: dict[str, tuple[str, str]] = {
    ".png": ("PNG", "image/png"),
    ".jpg": ("JPEG", "image/jpeg"),
    ".jpeg": ("JPEG", "image/jpeg"),
    ".pdf": ("PDF", "application/pdf"),
    ".html": ("HTML", "application/octet-stream"),
    ".htm": ("HTML", "application/octet-stream"),
    ".mhtml": ("MHTML", "application/octet-stream"),
    ".mht": ("MHTML", "application/octet-stream"),
    ".warc": ("WARC", "application/octet-stream"),
    ".warc.gz": ("WARC", "application/octet-stream"),
}


def suffix(name: str) -> str:
    lower = name.lower()
    return ".warc.gz" if lower.endswith(".warc.gz") else PurePosixPath(lower).suffix


def sniff(data: bytes) -> str | None:
    """The kind the bytes are (PNG, JPEG, PDF, HTML, MHTML, WARC), by their first bytes; None otherwise."""
    head = data[:4096]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"%PDF-"):
        return "PDF"
    if head.startswith(b"\x1f\x8b"):  # a gzipped WARC (.warc.gz): its first record says WARC/1.x
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:65536], 64)
        except zlib.error:
            return None
    if head.startswith(b"WARC/"):
        return "WARC"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"mime-version:" in text[:2048] and b"multipart/related" in text:
        return "MHTML"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<meta", b"<!--")) and b"<html" in text:
        return "HTML"
    return None


def media_type(name: str) -> str:
    return FILE_TYPES.get(suffix(name), ("", "application/octet-stream"))[1]


@dataclass(frozen=True)
class Attached:
    """One checked file: its bytes, sha256 and capture time (the file's time in the bundle)."""

    name: str
    data: bytes
    sha256: str
    captured_at: dt.datetime

    @property
    def size(self) -> int:
        return len(self.data)


class Files(Protocol):
    """Where the files a table names are: a .zip bundle or a folder."""

    def size(self, name: str) -> int | None: ...  # None: not there
    def read(self, name: str) -> bytes: ...
    def captured_at(self, name: str) -> dt.datetime: ...


class BadEntry(Exception):
    """A bundle entry that cannot be read as its header describes it (the reason, for a row problem)."""


class ZipFiles:
    def __init__(self, archive: zipfile.ZipFile):
        self.zip = archive
        self.entries = {i.filename: i for i in archive.infolist() if not i.is_dir()}

    def size(self, name: str) -> int | None:
        info = self.entries.get(name)
        return None if info is None else info.file_size

    def read(self, name: str, limit: int = MAX_ATTACHMENT_BYTES) -> bytes:
        """The entry's bytes, read a chunk at a time with a running count: never more than its declared
        size or `limit` (a header saying 1,000 bytes over 1 GB of deflate stops at 1,000 bytes, and the
        CRC then tells the lie). A lying, corrupt, encrypted or unsupported entry raises `BadEntry`."""
        info = self.entries[name]
        bound = min(info.file_size, limit)
        out = bytearray()
        try:
            with self.zip.open(info) as entry:
                while chunk := entry.read(CHUNK):
                    out += chunk
                    if len(out) > bound:
                        raise BadEntry(f"holds more than its header's {info.file_size} bytes"
                                       if len(out) > info.file_size else
                                       f"too large: more than the limit of {limit} bytes")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
            raise BadEntry(f"unreadable in the .zip: its content does not match its header ({e}); "
                           "the bundle is damaged or altered — send it again") from None
        except (NotImplementedError, RuntimeError) as e:  # compression method or encryption
            raise BadEntry(f"unreadable in the .zip: {e}") from None
        if len(out) != info.file_size:
            raise BadEntry(f"holds {len(out)} bytes but its header says {info.file_size}")
        return bytes(out)

    def captured_at(self, name: str) -> dt.datetime:
        return dt.datetime(*self.entries[name].date_time)


class FolderFiles:
    def __init__(self, folder: Path, timezone: str = "Asia/Shanghai"):
        self.folder = folder.resolve()
        self.tz = ZoneInfo(timezone)

    def _path(self, name: str) -> Path | None:
        path = (self.folder / name).resolve()
        return path if path.is_relative_to(self.folder) and path.is_file() else None

    def size(self, name: str) -> int | None:
        path = self._path(name)
        return None if path is None else path.stat().st_size

    def read(self, name: str) -> bytes:
        path = self._path(name)
        assert path is not None
        return path.read_bytes()

    def captured_at(self, name: str) -> dt.datetime:
        path = self._path(name)
        assert path is not None
        return dt.datetime.fromtimestamp(path.stat().st_mtime, self.tz).replace(tzinfo=None, microsecond=0)


def open_bundle(data: bytes, source: str) -> tuple[str, bytes, ZipFiles]:
    """A .zip import: (the table's name, its bytes, the other files). The zip holds exactly one
    CSV/XLSX table (at any depth); attachments are named by their path inside the zip."""
    def fail(value: str, reason: str) -> EvidenceError:
        return EvidenceError(source, [RowProblem(1, "file", value, reason)])

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise fail(source, "not a readable .zip file") from None
    files = ZipFiles(archive)
    tables = [n for n in files.entries if n.lower().endswith(TABLE_SUFFIXES) and "__MACOSX" not in n]
    if len(tables) != 1:
        raise fail(", ".join(tables) or source,
                   f"a .zip import holds exactly one CSV/XLSX table and the files it names; found {len(tables)} tables")
    size = files.size(tables[0]) or 0
    if size > MAX_TABLE_BYTES:
        raise fail(tables[0], f"{size} bytes, larger than the limit of {MAX_TABLE_BYTES} bytes")
    try:
        table = files.read(tables[0], MAX_TABLE_BYTES)
    except BadEntry as e:
        raise fail(tables[0], str(e)) from None
    return PurePosixPath(tables[0]).name, table, files


def _problem(name: str, files: Files | None) -> tuple[str | None, Attached | None]:
    """(the reason a named file is refused, or the checked file)."""
    kind = FILE_TYPES.get(suffix(name))
    if files is None:
        return "the row names an attachment but the import has none: send a .zip with the files, or give --attachments DIR", None
    if PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts or "\\" in name:
        return "not a plain file name inside the bundle (no absolute paths, no ..)", None
    if kind is None:
        return "not an attachment type: " + ", ".join(sorted({k for k, _ in FILE_TYPES.values()})) + \
            " (" + " ".join(FILE_TYPES) + ")", None
    size = files.size(name)
    if size is None:
        return "missing: no such file in the bundle", None
    if size > MAX_ATTACHMENT_BYTES:
        return f"too large: {size} bytes, the limit is {MAX_ATTACHMENT_BYTES} bytes", None
    try:
        data = files.read(name)
    except BadEntry as e:
        return str(e), None
    found = sniff(data)
    if found != kind[0]:
        return f"not a {kind[0]} file: its content is {found or 'none of PNG, JPEG, PDF, HTML, MHTML, WARC'}", None
    return None, Attached(name, data, hashlib.sha256(data).hexdigest(), files.captured_at(name))


def check_attachments(table: pd.DataFrame, files: Files | None) -> tuple[dict[int, Attached], list[RowProblem]]:
    """The attachment of every row that names one (by row number), and the problems of the others.
    Each distinct file is read and checked once."""
    named = table.loc[table["attachment"] != "", ["row", "attachment"]]
    checked = {name: _problem(name, files) for name in named["attachment"].unique()}
    found: dict[int, Attached] = {}
    problems = []
    for row, name in named.itertuples(index=False):
        reason, attached = checked[name]
        if attached is None:
            problems.append(RowProblem(int(row), "attachment", name, str(reason)))
        else:
            found[int(row)] = attached
    return found, problems


def single(name: str, data: bytes, captured_at: dt.datetime) -> Attached:
    """One file sent on its own (an appeal's or a rectification's evidence; `name` without folders),
    checked the same way."""
    class One:
        def size(self, n: str) -> int | None:
            return len(data) if n == name else None

        def read(self, n: str) -> bytes:
            return data

        def captured_at(self, n: str) -> dt.datetime:
            return captured_at

    reason, attached = _problem(name, One())
    if attached is None:
        raise EvidenceError(name, [RowProblem(1, "attachment", name, str(reason))])
    return attached


def each(found: dict[int, Attached]) -> Iterator[Attached]:
    """Each distinct file once (rows may share one)."""
    yield from {a.sha256: a for a in found.values()}.values()


def validate_attached(table: pd.DataFrame, scheme, source: str,
                      files: Files | None) -> tuple[pd.DataFrame, list[Attached]]:
    """`validate` plus the attachment checks, every problem of both reported together. Returns the
    evidence with `attachment` (sha256) and `captured_at` per row, and each distinct file once."""
    from scoring.intake.evidence import validate

    found, problems = check_attachments(table, files)
    try:
        ev = validate(table, scheme, source)
    except EvidenceError as e:
        raise EvidenceError(source, (e.problems + problems).by_row() if problems else e.problems) from None
    if problems:
        raise EvidenceError(source, problems)
    sha = ev["row"].map({r: a.sha256 for r, a in found.items()}).astype(object)
    ev["attachment"] = sha.where(sha.notna(), "").astype(str)
    ev["captured_at"] = pd.to_datetime(ev["row"].map({r: a.captured_at for r, a in found.items()})).astype("datetime64[ns]")
    return ev, list(each(found))
