"""The web collector's use cases (網站採集): crawl a body's website, list what it proposes, accept
proposals as evidence through the one import workflow, verify a crawl's archive. Each takes the
acting `Actor`, re-checks it (a firm: only bodies it is assigned) and audits under its name.

A crawl runs outside any transaction (it takes minutes; the database stays free for others): the
account is checked first, every WARC record goes to the attachment store as it is fetched, the capture
rows wait in a temporary file (a crawl's memory does not grow with its pages' text), and the crawl,
its captures and proposals are stored — and audited — together at the end.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from scoring.collect import archive, match
from scoring.collect.fetch import Capture as Fetched
from scoring.collect.fetch import CollectSettings, Crawler, netloc
from scoring.errors import EvidenceError, GongkaiError, RowProblem
from scoring.intake.tables import COLUMNS, csv_bytes
from scoring.store import accounts
from scoring.store import collect as stored
from scoring.store import repository as repo
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.attachments import AttachmentStore, store_for
from scoring.store.audit import audit, now
from scoring.store.db import resolve_url
from scoring.store.models import Capture, Crawl
from scoring.workflows._base import _as, _refusals_audited, transaction
from scoring.workflows.intake import ImportRefused, import_file


@dataclass(frozen=True)
class CrawlResult:
    id: int
    pages: int
    bytes: int
    errors: int
    proposals: int
    skipped: int


def _naive(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None)


def _check_body(session, who: Actor, scheme, body: str) -> None:
    if body not in {b.id for b in scheme.bodies}:
        raise GongkaiError(f"--body {body!r} is not a body of scheme {scheme.id}")
    if not accounts.may_collect(session, actor=who, scheme=scheme, body=body):
        raise PermissionDenied(f"user {who.name} ({who.role}) may not crawl body {body}: a firm crawls only the "
                               "bodies it is assigned (gongkai user assign)")


def _may_fetch(db: str | None, actor: Actor, *, body: str, scheme_id: str | None, allow_private: bool,
               settings: CollectSettings):
    """Check that the account may fetch the body's site (and private addresses, when asked for): the
    scheme, and the settings to fetch with."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        _check_body(session, who, scheme, body)
        if allow_private:
            who.require("collect_private")
            settings = settings.model_copy(update={"allow_private": True})
    return scheme, settings


def _capture_row(f: Fetched) -> Capture:
    page = f.page
    return Capture(
        crawl_id=0, url=f.url, depth=f.depth, fetched_at=_naive(f.fetched_at), status=f.status, mime=f.mime[:200],
        size=f.size, request_sha256=f.request.sha256 if f.request else "",
        response_sha256=f.response.sha256 if f.response else "", kind=page.kind if page else "",
        title=page.title[:2000] if page else "", text=page.text if page else "",
        published_at=page.published_at if page else None, has_time=bool(page and page.has_time),
        date_source=page.date_source if page else "", channel=(page.channel if page else "")[:200],
        referrer_channel=f.referrer_channel[:200], is_list=bool(page and page.is_list), redirect=f.redirect,
        error=f.error, note=f.note)


@_refusals_audited("collect_crawl")
def crawl(db: str | None, *, actor: Actor, body: str, site: str, scheme_id: str | None = None,
          max_pages: int = 500, rate: float = 1.0, allow_private: bool = False,
          settings: CollectSettings | None = None, progress: Callable[[str], None] | None = None) -> CrawlResult:
    """Crawl one body's website, archive every request and response, and propose evidence rows."""
    settings = settings or CollectSettings()
    if max_pages < 1:
        raise GongkaiError(f"--max-pages {max_pages}: at least 1")
    if rate < 0:
        raise GongkaiError(f"--rate {rate:g}: requests per second, 0 (no limit) or more")
    scheme, settings = _may_fetch(db, actor, body=body, scheme_id=scheme_id, allow_private=allow_private,
                                  settings=settings)
    started = now()
    hosts = {netloc(s) for s in scheme.body(body).sites}
    crawler = Crawler(site, hosts, settings=settings, max_pages=max_pages, rate=rate)
    store = store_for(resolve_url(db))
    with CaptureSpool() as spool:  # every WARC record written (or the crawl fails) before anything is stored
        with Archiver(store) as keep:
            for f in crawler.run():
                keep(f)
                spool.add(_capture_row(f))
                if progress:
                    progress(f.url)
        index = archive.cdxj(keep.lines)
        with transaction(db) as session:
            who = _as(session, actor, "collect")
            done = Crawl(scheme_id=scheme.id, body=body, site=site, account=who.name, started_at=started,
                         ended_at=now(), pages=spool.pages, bytes=spool.bytes, errors=spool.errors,
                         index_sha256=store.put(index) if index else "",
                         settings=json.dumps({"max_pages": max_pages, "rate": rate, "user_agent": settings.user_agent,
                                              "max_bytes": settings.max_bytes, "max_depth": settings.max_depth,
                                              "timeout": settings.timeout, "hosts": sorted(crawler.hosts)},
                                             ensure_ascii=False))
            crawl_id = stored.add_crawl(session, done, [])
            pages = []
            for batch in spool.batches():
                stored.add_captures(session, crawl_id=crawl_id, captures=batch)
                pages += _page_rows(batch)
            proposed = match.propose(scheme, body, pd.DataFrame(pages, columns=match.PAGE_COLUMNS))
            stored.add_proposals(session, crawl_id=crawl_id, rows=proposed)
            audit(session, who=who.name, action="collect_crawl", scheme_id=scheme.id, sha256=done.index_sha256,
                  detail=f"crawl {crawl_id}: {body} {site}: {done.pages} pages, {done.bytes} bytes, "
                         f"{done.errors} errors, {len(proposed)} proposals")
            return CrawlResult(crawl_id, done.pages, done.bytes, done.errors, len(proposed), spool.skipped)


SPOOL_BATCH = 500  # capture rows stored (and held) at a time


class CaptureSpool:
    """A crawl's capture rows in a temporary file until the crawl is stored, and their tallies: a
    crawl keeps up to 100,000 characters of text a page, so its memory would grow with its pages.
    Read back in batches, in the order they came, inside the crawl's one storing transaction."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="gongkai-crawl-")  # noqa: SIM115 — closed on leaving
        self.count = 0
        self.pages = self.bytes = self.errors = self.skipped = 0

    def __enter__(self) -> CaptureSpool:
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()

    def add(self, row: Capture) -> None:
        pickle.dump(row.model_dump(), self.file, protocol=pickle.HIGHEST_PROTOCOL)  # our own file, read back by us
        self.count += 1
        self.pages += row.response_sha256 != ""
        self.bytes += row.size
        self.errors += row.error != ""
        self.skipped += row.note.startswith("robots.txt")

    def batches(self) -> Iterator[list[Capture]]:
        self.file.seek(0)
        for start in range(0, self.count, SPOOL_BATCH):
            yield [Capture(**pickle.load(self.file)) for _ in range(min(SPOOL_BATCH, self.count - start))]


class Archiver:
    """Puts each capture's WARC records in the attachment store and keeps their CDXJ lines, on a
    writer thread (file writes, hashing and the lines overlap the next request: the crawl's thread
    mostly waits for the network). Leaving it waits for every write and raises the first failure."""

    def __init__(self, store: AttachmentStore):
        self.store, self.lines = store, list[str]()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-store")
        self.pending: list[Future] = []
        self.batch: list[Fetched] = []  # handed over 16 at a time: waking the thread costs more than a record

    def __enter__(self) -> Archiver:
        return self

    def __call__(self, f: Fetched) -> None:
        if f.request is not None or f.response is not None:
            self.batch.append(f)
        if len(self.batch) >= 16:
            self._hand_over()
        if len(self.pending) > 16:
            self._settle()

    def _hand_over(self) -> None:
        if self.batch:
            self.pending.append(self.pool.submit(self._keep, self.batch))
            self.batch = []

    def _keep(self, batch: list[Fetched]) -> None:
        for f in batch:
            for record in (f.request, f.response):
                if record is not None:
                    self.store.put(record.data)
                    response = record is f.response
                    self.lines.append(archive.cdxj_line(f.url, f.fetched_at, record,
                                                        status=f.status if response else None,
                                                        mime=f.mime if response else ""))

    def _settle(self) -> None:
        done, self.pending = self.pending, []
        for future in done:
            future.result()

    def __exit__(self, *exc) -> None:
        try:
            self._hand_over()
            self._settle()
        finally:
            self.pool.shutdown(wait=True)


def _page_rows(rows: list[Capture]) -> list[dict]:
    """The captured pages (stored: they have their ids) in match.PAGE_COLUMNS form, without their text."""
    return [{"capture_id": r.id, "url": r.url, "title": r.title, "channel": r.channel,
             "referrer_channel": r.referrer_channel, "published_at": r.published_at,
             "has_time": r.has_time, "date_source": r.date_source, "kind": r.kind,
             "is_list": r.is_list, "capture": r.response_sha256}
            for r in rows if r.response_sha256 and not r.error and r.status == 200]


def _visible_crawls(session, who: Actor, crawl_id: int | None) -> list[int]:
    """The crawls the actor may see: a firm's own (and only of bodies it is still assigned)."""
    found = [stored.get_crawl(session, crawl_id=crawl_id)] if crawl_id is not None else stored.crawls(session)
    if who.role == "firm":
        allowed = [c for c in found if c.account == who.name and accounts.may_collect(
            session, actor=who, scheme=repo.get_scheme(session, scheme_id=c.scheme_id), body=c.body)]
        if crawl_id is not None and not allowed:
            raise PermissionDenied(f"no crawl {crawl_id}")  # the same answer as for a crawl that does not exist
        found = allowed
    return [c.id for c in found if c.id is not None]


@_refusals_audited("collect_proposals", only=PermissionDenied)
def proposals(db: str | None, *, actor: Actor, crawl_id: int | None = None) -> pd.DataFrame:
    """Proposed evidence rows (id, crawl, the contract's columns, status), of one crawl or all."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        return stored.proposals(session, crawl_ids=_visible_crawls(session, who, crawl_id))


@dataclass(frozen=True)
class Accepted:
    crawl_id: int
    ids: list[int]
    result: repo.ImportResult


@_refusals_audited("collect_accept")
def accept(db: str | None, *, actor: Actor, crawl_id: int, min_confidence: float | None = None,
           ids: list[int] | None = None) -> Accepted:
    """Accept a crawl's proposals (those named, or at or above a confidence) as evidence: one import,
    through the import workflow (same checks, all or nothing), as a bundle of the rows and the WARC
    response record each was read from, with the accepting account as assessor."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        _visible_crawls(session, who, crawl_id)
        scheme_id = stored.get_crawl(session, crawl_id=crawl_id).scheme_id
        table = stored.proposals(session, crawl_ids=[crawl_id])
        fetched = {c.response_sha256: c.fetched_at for c in stored.captures(session, crawl_id=crawl_id)}
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        firm = accounts.account_firm(session, who)
    if ids:
        unknown = sorted(set(ids) - set(table["id"]))
        if unknown:
            raise GongkaiError(f"crawl {crawl_id} has no proposal {', '.join(map(str, unknown))}")
        table = table[table["id"].isin(ids)]
    if min_confidence is not None:
        table = table[table["confidence"] >= min_confidence]
    table = table[table["status"] == "proposed"]
    if table.empty:
        raise GongkaiError(f"crawl {crawl_id}: no proposal left to accept with these choices")
    store = store_for(resolve_url(db))
    bundle = _bundle(crawl_id, table, {s: store.get(s) for s in table["capture"].unique()}, fetched,
                     scheme.scheme.timezone, "" if firm else who.name)
    try:
        result = import_file(db, actor=actor, name=f"crawl-{crawl_id}.zip", data=bundle, scheme_id=scheme_id)
    except ImportRefused as e:
        by_row = dict(zip(range(2, len(table) + 2), table["id"], strict=True))
        raise EvidenceError(f"crawl {crawl_id}", [RowProblem(p.row, p.column, p.value,
                                                             f"{p.reason} (proposal {by_row.get(p.row, '?')})")
                                                  for p in e.problems]) from None
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        chosen = [int(i) for i in table["id"]]
        stored.mark_accepted(session, ids=chosen, batch_id=result.batch_id, who=who.name)
        audit(session, who=who.name, action="collect_accept", scheme_id=scheme_id,
              detail=f"crawl {crawl_id}: proposals {', '.join(map(str, chosen))} accepted as evidence "
                     f"(batch {result.batch_id}: {result.new} new, {result.replaced} replaced, {result.unchanged} unchanged)")
    return Accepted(crawl_id, chosen, result)


def _bundle(crawl_id: int, table: pd.DataFrame, records: dict[str, bytes], fetched: dict[str, dt.datetime],
            timezone: str, assessor: str) -> bytes:
    """An import bundle: the rows as a CSV, and each WARC response record under captures/."""
    tz = ZoneInfo(timezone)
    rows = pd.DataFrame({c: "" for c in COLUMNS}, index=range(len(table)))
    for c in ("body", "obligation", "period", "published_at", "url"):
        rows[c] = table[c].astype(str).to_numpy()
    rows["assessor"] = assessor
    rows["note"] = [f"採集 crawl {crawl_id} · proposal {i} · capture {s[:16]}" for i, s in zip(table["id"], table["capture"], strict=True)]
    rows["attachment"] = [f"captures/{s}.warc.gz" for s in table["capture"]]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"crawl-{crawl_id}.csv", csv_bytes(rows))
        for sha, data in records.items():
            at = fetched.get(sha, now()).replace(tzinfo=dt.UTC).astimezone(tz)
            info = zipfile.ZipInfo(f"captures/{sha}.warc.gz", date_time=at.timetuple()[:6])
            z.writestr(info, data, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


@_refusals_audited("collect_verify", only=PermissionDenied)
def verify(db: str | None, *, actor: Actor, crawl_id: int) -> tuple[int, list[str]]:
    """Recompute the digest of every WARC record of a crawl (as its CDXJ index names them, and the
    index itself): (records checked, one line per record that changed)."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        _visible_crawls(session, who, crawl_id)
        rec = stored.get_crawl(session, crawl_id=crawl_id)
        scheme_id, index_sha = rec.scheme_id, rec.index_sha256
        records = [{"filename": s, "url": c.url, "type": t} for c in stored.captures(session, crawl_id=crawl_id)
                   for s, t in ((c.request_sha256, "request"), (c.response_sha256, "response")) if s]
    store = store_for(resolve_url(db))
    problems: list[str] = []
    try:
        entries = archive.index_entries(store.get(index_sha)) if index_sha else []
    except GongkaiError as e:
        problems.append(f"the CDXJ index {index_sha[:12]}…: {e}")
        entries = records
    for entry in entries:
        sha = entry["filename"]
        try:
            fault = archive.check_record(store.get(sha))
        except GongkaiError as e:
            fault = str(e)
        if fault:
            problems.append(f"{entry['type']} record of {entry['url']} ({sha[:12]}…): {fault}")
    with transaction(db) as session:
        audit(session, who=_as(session, actor, "collect").name, action="collect_verify", scheme_id=scheme_id,
              detail=f"crawl {crawl_id}: {len(entries)} records, {len(problems)} changed")
    return len(entries), problems


def crawls(db: str | None, *, actor: Actor) -> pd.DataFrame:
    """The stored crawls the actor may see: id, body, site, account, start, end, pages, bytes, errors."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        visible = set(_visible_crawls(session, who, None))
        return pd.DataFrame([{k: getattr(c, k) for k in ("id", "body", "site", "account", "started_at", "ended_at",
                                                          "pages", "bytes", "errors")}
                             for c in stored.crawls(session) if c.id in visible],
                            columns=["id", "body", "site", "account", "started_at", "ended_at", "pages", "bytes", "errors"])
