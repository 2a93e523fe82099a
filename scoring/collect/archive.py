"""WARC 1.1 records of every request and response of a crawl (warcio), one gzip member each so that
every record is stored — and can be checked — on its own, by its sha256, in the attachment store;
the crawl's CDXJ index over them; and the check that a stored record is still what was captured."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

# hop-by-hop framing the stored payload no longer has (httpx hands over the de-chunked body)
DROPPED = {"transfer-encoding"}


@dataclass(frozen=True)
class Record:
    """One WARC record as stored: its bytes (a gzip member), sha256, WARC-Record-ID and kind."""

    data: bytes
    sha256: str
    record_id: str
    type: str


def _warc_date(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write(url: str, kind: str, payload: bytes, http: StatusAndHeaders, headers: dict[str, str]) -> Record:
    out = io.BytesIO()  # in memory: BufferWARCWriter's spooled temporary file costs a tenth of a record
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    record = writer.create_warc_record(url, kind, payload=io.BytesIO(payload), length=len(payload),
                                       http_headers=http, warc_headers_dict=headers)
    writer.write_record(record)
    data = out.getvalue()
    return Record(data, hashlib.sha256(data).hexdigest(), record.rec_headers.get_header("WARC-Record-ID"), kind)


def request_record(url: str, headers: list[tuple[str, str]], at: dt.datetime, method: str = "GET") -> Record:
    """The WARC request record of a GET as sent."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    http = StatusAndHeaders(f"{method} {target} HTTP/1.1", headers, is_http_request=True)
    return _write(url, "request", b"", http, {"WARC-Date": _warc_date(at)})


def response_record(url: str, *, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
                    at: dt.datetime, concurrent_to: str, ip: str = "", truncated: str = "") -> Record:
    """The WARC response record of a response as received (body as sent on the wire, compressed
    if it was); `truncated` names why it stops short (WARC-Truncated: length, time)."""
    kept = [(k, v) for k, v in headers if k.lower() not in DROPPED]
    http = StatusAndHeaders(f"{status} {reason}".strip(), kept, protocol="HTTP/1.1")
    extra = {"WARC-Date": _warc_date(at), "WARC-Concurrent-To": concurrent_to}
    if ip:
        extra["WARC-IP-Address"] = ip
    if truncated:
        extra["WARC-Truncated"] = truncated
    return _write(url, "response", body, http, extra)


def surt(url: str) -> str:
    """The sort-friendly URL key of CDXJ: host labels reversed, then path and query (lower case)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    key = ",".join(reversed(host.split(".")))
    if parts.port and parts.port not in (80, 443):
        key += f":{parts.port}"
    return f"{key}){(parts.path or '/').lower()}" + (f"?{parts.query.lower()}" if parts.query else "")


def cdxj_line(url: str, at: dt.datetime, record: Record, *, status: int | None = None, mime: str = "") -> str:
    """One CDXJ line for a record: `SURT TIMESTAMP {json}`; `filename` is the record's sha256 in the store."""
    fields = {"url": url, "type": record.type, "record_id": record.record_id, "filename": record.sha256,
              "offset": 0, "length": len(record.data)}
    if status is not None:
        fields |= {"status": str(status), "mime": mime}
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"{surt(url)} {stamp} {json.dumps(fields, ensure_ascii=False, sort_keys=True)}"


def cdxj(lines: list[str]) -> bytes:
    """A CDXJ index (sorted, as CDXJ readers expect)."""
    return ("\n".join(sorted(lines)) + "\n").encode("utf-8") if lines else b""


def index_entries(data: bytes) -> list[dict]:
    """The entries of a CDXJ index: each line's JSON, with its `key` and `timestamp`."""
    out = []
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            key, stamp, fields = line.split(" ", 2)
            out.append(json.loads(fields) | {"key": key, "timestamp": stamp})
    return out


def check_record(data: bytes) -> str:
    """Why a stored WARC record is not sound ('' when it is): unreadable, or a block or payload
    digest that no longer matches its content."""
    try:
        records = 0
        for rec in ArchiveIterator(io.BytesIO(data), check_digests=True):
            rec.content_stream().read()
            records += 1
            checker = rec.digest_checker
            if not checker.passed and checker.passed is not None:
                return "its WARC digest no longer matches its content: " + "; ".join(str(p) for p in checker.problems)
        return "" if records == 1 else f"holds {records} WARC records, not one"
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as e:
        return f"not a readable WARC record: {e}"


def payload(data: bytes) -> tuple[str, bytes]:
    """(target URI, HTTP payload as sent) of a stored response record."""
    for rec in ArchiveIterator(io.BytesIO(data)):
        return rec.rec_headers.get_header("WARC-Target-URI"), rec.content_stream().read()
    raise ValueError("no WARC record")
