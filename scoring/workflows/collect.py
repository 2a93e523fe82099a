"""The web collector's use cases (網站採集): crawl a body's website, list what it proposes, accept
proposals as evidence through the one import workflow, verify a crawl's archive. Each takes the
acting `Actor`, re-checks it (a firm: only bodies it is assigned) and audits under its name.

A crawl runs outside any transaction (it takes minutes; the database stays free for others): the
account is checked first, every WARC record is appended to the crawl's WARC file as it is fetched
(stored in the attachment store, under its sha256, when the crawl ends), the capture rows wait in a
temporary file (a crawl's memory does not grow with its pages' text), and the crawl,
its captures and proposals are stored — and audited — together at the end. With screenshots, each
proposed page is then rendered once more in a headless browser and its PNG kept beside the
capture's WARC record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import pickle
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from scoring.collect import archive, match, shots
from scoring.collect.fetch import Capture as Fetched
from scoring.collect.fetch import CollectSettings, Crawler, netloc
from scoring.errors import EvidenceError, GongkaiError, RowProblem
from scoring.intake.attachments import MAX_ATTACHMENT_BYTES
from scoring.intake.tables import COLUMNS, csv_bytes
from scoring.store import accounts
from scoring.store import collect as stored
from scoring.store import repository as repo
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.attachments import AttachmentStore, NewFile, store_for
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
    screenshots: int = 0
    screenshot_errors: int = 0


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


@dataclass
class Gathered:
    """What a crawl gathered, by either engine: the capture rows in order (the queued engine's; the
    local crawl's wait in its CaptureSpool), their CDXJ lines, the hosts it kept to, and (the queued
    engine) how many URLs each worker handled."""

    rows: list[Capture]
    lines: list[str]
    hosts: set[str]
    workers: dict[str, int] | None = None


ENGINES = ("local", "redis")


@_refusals_audited("collect_crawl")
def crawl(db: str | None, *, actor: Actor, body: str, site: str, scheme_id: str | None = None,
          max_pages: int = 500, rate: float = 1.0, allow_private: bool = False, screenshots: bool = False,
          settings: CollectSettings | None = None, engine: str | None = None,
          progress: Callable[[str], None] | None = None) -> CrawlResult:
    """Crawl one body's website, archive every request and response, and propose evidence rows:
    in this process (engine `local`), or through the workers' queue (`redis`, collect_engine.py);
    with `screenshots`, a full-page PNG of every proposed page, kept with its capture."""
    settings = settings or CollectSettings()
    engine = engine or settings.engine
    if engine not in ENGINES:
        raise GongkaiError(f"--engine {engine!r}: one of {', '.join(ENGINES)}")
    if max_pages < 1:
        raise GongkaiError(f"--max-pages {max_pages}: at least 1")
    if not rate >= 0:   # NaN too
        raise GongkaiError(f"--rate {rate:g}: requests per second, 0 (no limit) or more")
    scheme, settings = _may_fetch(db, actor, body=body, scheme_id=scheme_id, allow_private=allow_private,
                                  settings=settings)
    browser = _browser() if screenshots else ""
    started = now()
    hosts = {netloc(s) for s in scheme.body(body).sites}
    store = store_for(resolve_url(db))
    with CaptureSpool() as spool:  # every WARC record written (or the crawl fails) before anything is stored
        if engine == "redis":
            from scoring.workflows import collect_engine

            got = collect_engine.gather(site=site, hosts=hosts, max_pages=max_pages, rate=rate, settings=settings,
                                        store=store, progress=progress)
            crawler = None
            for row in got.rows:  # the workers' rows came back through Redis
                spool.add(row)
            got.rows.clear()
        else:
            crawler = Crawler(site, hosts, settings=settings, max_pages=max_pages, rate=rate)
            got = _gather(crawler, store, progress, spool)
        index = archive.cdxj(got.lines)
        with transaction(db) as session:
            who = _as(session, actor, "collect")
            done = Crawl(scheme_id=scheme.id, body=body, site=site, account=who.name, started_at=started,
                         ended_at=now(), pages=spool.pages, bytes=spool.bytes, errors=spool.errors,
                         index_sha256=store.put(index) if index else "",
                         settings=json.dumps({"max_pages": max_pages, "rate": rate, "user_agent": settings.user_agent,
                                              "max_bytes": settings.max_bytes, "max_depth": settings.max_depth,
                                              "timeout": settings.timeout, "hosts": sorted(got.hosts),
                                              "screenshots": screenshots}
                                             | ({"engine": engine, "queue": settings.queue, "workers": got.workers}
                                                if got.workers is not None else {}),
                                             ensure_ascii=False))
            crawl_id = stored.add_crawl(session, done, [])
            page_rows = []
            for batch in spool.batches():
                stored.add_captures(session, crawl_id=crawl_id, captures=batch)
                page_rows += _page_rows(batch)
            proposed = match.propose(scheme, body, pd.DataFrame(page_rows, columns=match.PAGE_COLUMNS))
            stored.add_proposals(session, crawl_id=crawl_id, rows=proposed)
            audit(session, who=who.name, action="collect_crawl", scheme_id=scheme.id, sha256=done.index_sha256,
                  detail=f"crawl {crawl_id}: {body} {site}: {done.pages} pages, {done.bytes} bytes, "
                         f"{done.errors} errors, {len(proposed)} proposals")
            result = CrawlResult(crawl_id, done.pages, done.bytes, done.errors, len(proposed), spool.skipped)
            chosen = set(proposed["capture_id"].astype(int))
            pages = {p["capture_id"]: (p["url"], p["kind"]) for p in page_rows if p["capture_id"] in chosen}
    if not browser:
        return result
    refused: list[str] = []
    if crawler is None:   # the workers crawled: the pages' addresses are checked again here, for the browser
        crawler = Crawler(site, got.hosts, settings=settings, max_pages=max_pages, rate=rate)
        for url, _ in pages.values():
            crawler.refusal(url)
        crawler.close()
    try:
        shots = _screenshots(browser, crawler, pages, store, rate=rate, progress=progress, refused=refused)
    except GongkaiError as e:  # the browser did not start: the crawl is kept, each page says why it has no picture
        shots = {i: ("", _naive(dt.datetime.now(dt.UTC)), str(e)) for i, (_, kind) in pages.items() if kind != "pdf"}
    with transaction(db) as session:
        stored.set_screenshots(session, shots=shots)
        taken, failed = sum(bool(s) for s, _, _ in shots.values()), sum(bool(e) for _, _, e in shots.values())
        audit(session, who=_as(session, actor, "collect").name, action="collect_screenshots", scheme_id=scheme.id,
              detail=f"crawl {crawl_id}: {taken} screenshots, {failed} pages not rendered, "
                     f"{len(refused)} requests of the pages refused (another host, a refused address, or robots.txt)")
    return dataclasses.replace(result, screenshots=taken, screenshot_errors=failed)


def _browser() -> str:
    """The browser screenshots are taken with (checked before a crawl starts, not after it)."""
    from importlib.util import find_spec

    from scoring.report.images import INSTALL_HINT, chromium

    if find_spec("playwright") is None:
        raise GongkaiError(f"--screenshots needs Playwright, which is not installed: {shots.INSTALL}")
    try:
        return chromium()
    except GongkaiError:
        raise GongkaiError(f"--screenshots needs a chromium browser, none found: {INSTALL_HINT} "
                           "(or set GONGKAI_CHROMIUM)") from None


def _screenshots(browser: str, crawler: Crawler, pages: dict[int, tuple[str, str]], store: AttachmentStore, *,
                 rate: float, progress: Callable[[str], None] | None,
                 refused: list[str]) -> dict[int, tuple[str, dt.datetime, str]]:
    """Capture id → (the PNG's sha256 in the store, when it was taken, or why there is none) for each
    proposed page. A PNG over the attachment size cap is not kept: an import would refuse it."""
    out: dict[int, tuple[str, dt.datetime, str]] = {}
    with shots.Screenshots(browser, crawler.refusal, crawler.addresses(), crawler.settings.user_agent,
                           timeout=15.0, rate=rate, blocked=refused) as camera:
        for capture_id, (url, kind) in sorted(pages.items()):
            if kind == "pdf":
                continue  # the PDF is its own picture: its WARC record stays the evidence's file
            shot = camera.take(url)
            error = shot.error or (f"screenshot of {len(shot.png):,} bytes, over the attachment cap of "
                                   f"{MAX_ATTACHMENT_BYTES:,} (GONGKAI_MAX_ATTACHMENT_BYTES): not kept"
                                   if len(shot.png) > MAX_ATTACHMENT_BYTES else "")
            out[capture_id] = ("" if error else store.put(shot.png), _naive(shot.at), error)
            if progress:
                progress(url)
    return out


def _gather(crawler: Crawler, store: AttachmentStore, progress: Callable[[str], None] | None,
            spool: CaptureSpool) -> Gathered:
    """The single-process crawl: the crawler's captures archived as they come, their rows into `spool`."""
    with Archiver(store) as keep:
        for f in crawler.run():
            keep(f)
            spool.add(_capture_row(f))
            if progress:
                progress(f.url)
    return Gathered([], keep.lines, crawler.hosts)


def cdxj_lines(f: Fetched) -> list[str]:
    """The CDXJ lines of a capture's WARC records (request, response), each kept as a file of its own."""
    return [archive.cdxj_line(f.url, f.fetched_at, archive.alone(record), status=f.status if record is f.response else None,
                              mime=f.mime if record is f.response else "")
            for record in (f.request, f.response) if record is not None]


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
    """Appends each capture's WARC records (a gzip member each) to the crawl's one WARC file in the
    attachment store, as they come, and keeps the CDXJ line placing each (file, offset, length, the
    record's sha256); leaving it without an error stores the file, with one, drops it. In the crawl's
    own thread: a writer thread beside it (one file per record, then) made the crawl wait for the
    interpreter lock after each request it sent — docs/performance.md, the collector."""

    def __init__(self, store: AttachmentStore):
        self.store, self.lines = store, list[str]()
        self.file: NewFile | None = None
        self.kept: list[tuple] = []  # per record: url, time, status and media type (a response's), type, id, sha256, offset, length
        self.warc = ""  # the WARC file's sha256, once stored

    def __enter__(self) -> Archiver:
        return self

    def __call__(self, f: Fetched) -> None:
        for record in (f.request, f.response):
            if record is not None:
                if self.file is None:
                    self.file = self.store.new_file()
                offset = self.file.write(record.data)
                described = (f.status, f.mime) if record is f.response else (None, "")
                self.kept.append((f.url, f.fetched_at, *described, record.type, record.record_id, record.sha256,
                                  offset, len(record.data)))

    def __exit__(self, exc_type, *exc) -> None:
        if self.file is None:
            return
        if exc_type is not None:
            self.file.discard()
            return
        self.warc = self.file.finish()
        self.lines = [archive.cdxj_line(url, at, archive.Placed(kind, record_id, sha, self.warc, offset, length),
                                        status=status, mime=mime)
                      for url, at, status, mime, kind, record_id, sha, offset, length in self.kept]
        self.kept.clear()


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
class Reviewed:
    """What a reviewer sees of one proposal: the page's screenshot (PNG bytes, never its archived HTML
    rendered), the text and date extracted, and the WARC response record as a file to download."""

    id: int
    url: str
    title: str
    published_at: str
    date_source: str
    text: str
    screenshot: bytes
    screenshot_error: str
    warc: bytes


@_refusals_audited("collect_proposals", only=PermissionDenied)
def review(db: str | None, *, actor: Actor, crawl_id: int, proposal_id: int) -> Reviewed:
    """One proposal of a crawl with its screenshot, extracted text and date, and WARC record."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        _visible_crawls(session, who, crawl_id)
        table = stored.proposals(session, crawl_ids=[crawl_id])
        row = table[table["id"] == proposal_id]
        if row.empty:
            raise GongkaiError(f"crawl {crawl_id} has no proposal {proposal_id}")
        sha = str(row["capture"].iloc[0])
        page = next(c for c in stored.captures(session, crawl_id=crawl_id) if c.response_sha256 == sha)
        shot, shot_error, text, source = page.screenshot_sha256, page.screenshot_error, page.text, page.date_source
        index_sha = stored.get_crawl(session, crawl_id=crawl_id).index_sha256
    store = store_for(resolve_url(db))
    return Reviewed(proposal_id, str(row["url"].iloc[0]), str(row["title"].iloc[0]), str(row["published_at"].iloc[0]),
                    source, text, store.get(shot) if shot else b"", shot_error, _records(store, index_sha, [sha])[sha])


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
        crawled = stored.get_crawl(session, crawl_id=crawl_id)
        scheme_id, index_sha = crawled.scheme_id, crawled.index_sha256
        table = stored.proposals(session, crawl_ids=[crawl_id])
        kept = stored.captures(session, crawl_id=crawl_id)
        captured = {c.response_sha256: c.screenshot_at if c.screenshot_sha256 and c.screenshot_at else c.fetched_at
                   for c in kept}  # when each row's file was captured
        screenshots = {c.response_sha256: c.screenshot_sha256 for c in kept if c.screenshot_sha256}
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
    records = _records(store, index_sha, [s for s in table["capture"].unique() if s not in screenshots])
    files = {s: (screenshots[s], store.get(screenshots[s])) if s in screenshots else (s, records[s])
             for s in table["capture"].unique()}
    bundle = _bundle(crawl_id, table, files, captured, scheme.scheme.timezone, "" if firm else who.name)
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


def _bundle(crawl_id: int, table: pd.DataFrame, files: dict[str, tuple[str, bytes]], fetched: dict[str, dt.datetime],
            timezone: str, assessor: str) -> bytes:
    """An import bundle: the rows as a CSV, and each row's file: the page's screenshot (a row holds one
    file, and a screenshot is what a reader of the evidence looks at) under screenshots/, else its WARC
    response record under captures/. `files`: the capture (WARC response sha256) → (sha256, bytes) of
    the file kept for it. The note names the WARC record in full either way."""
    tz = ZoneInfo(timezone)
    rows = pd.DataFrame({c: "" for c in COLUMNS}, index=range(len(table)))
    for c in ("body", "obligation", "period", "published_at", "url"):
        rows[c] = table[c].astype(str).to_numpy()
    rows["assessor"] = assessor
    rows["note"] = [f"採集 crawl {crawl_id} · proposal {i} · capture {s}" for i, s in zip(table["id"], table["capture"], strict=True)]
    names = {s: f"captures/{s}.warc.gz" if kept == s else f"screenshots/{kept}.png" for s, (kept, _) in files.items()}
    rows["attachment"] = [names[s] for s in table["capture"]]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"crawl-{crawl_id}.csv", csv_bytes(rows))
        for sha, (_, data) in files.items():
            at = fetched.get(sha, now()).replace(tzinfo=dt.UTC).astimezone(tz)
            info = zipfile.ZipInfo(names[sha], date_time=at.timetuple()[:6])
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
        records = [{"record_sha256": s, "url": c.url, "type": t} for c in stored.captures(session, crawl_id=crawl_id)
                   for s, t in ((c.request_sha256, "request"), (c.response_sha256, "response")) if s]
    store = store_for(resolve_url(db))
    problems: list[str] = []
    try:
        entries = archive.index_entries(store.get(index_sha)) if index_sha else []
    except GongkaiError as e:
        problems.append(f"the CDXJ index {index_sha[:12]}…: {e}")
        entries = _placed_despite(store, index_sha, records)
    altered: set[str] = set()
    for entry in entries:
        sha = archive.record_sha256(entry)
        try:
            fault = archive.check_record(_record(store, entry))
        except GongkaiError as e:
            fault = str(e)
        if fault:
            problems.append(f"{entry['type']} record of {entry['url']} ({sha[:12]}…): {fault}")
            altered.add(entry.get("filename", ""))
    # the crawl's WARC file as a whole: bytes added after its last record (or between records) change
    # no record, but the file is no longer the one stored under its sha256
    for name in sorted({e["filename"] for e in entries if "offset" in e} - altered):
        if not _file_unchanged(store, name):
            problems.append(f"the crawl's WARC file {name[:12]}…: bytes outside its records were added or changed")
    with transaction(db) as session:
        audit(session, who=_as(session, actor, "collect").name, action="collect_verify", scheme_id=scheme_id,
              detail=f"crawl {crawl_id}: {len(entries)} records, {len(problems)} changed")
    return len(entries), problems


def _file_unchanged(store: AttachmentStore, sha256: str, part: int = 8 << 20) -> bool:
    """Whether a stored file still hashes to its name, read a part at a time (a crawl's WARC file)."""
    digest, at = hashlib.sha256(), 0
    try:
        while True:
            try:
                chunk = store.read(sha256, at, part)
            except GongkaiError:   # fewer than `part` bytes are left: the rest, to the end
                digest.update(store.read(sha256, at))
                break
            digest.update(chunk)
            at += len(chunk)
    except GongkaiError:   # not in the store at all
        return False
    return digest.hexdigest() == sha256


def _records(store: AttachmentStore, index_sha: str, shas: list[str]) -> dict[str, bytes]:
    """The bytes of a crawl's WARC records (by their sha256), from where its CDXJ index places them."""
    placed = {archive.record_sha256(e): e for e in archive.index_entries(store.get(index_sha))} if shas else {}
    return {sha: _record(store, placed.get(sha, {"record_sha256": sha})) for sha in shas}


def _record(store: AttachmentStore, entry: dict) -> bytes:
    """A WARC record's bytes: where its CDXJ entry places it (the crawl's WARC file), checked against
    its sha256; an entry without a place, a record stored as a file of its own."""
    sha = archive.record_sha256(entry)
    if "offset" not in entry:
        return store.get(sha)
    data = store.read(entry["filename"], int(entry["offset"]), int(entry["length"]))
    if hashlib.sha256(data).hexdigest() != sha:
        raise GongkaiError(f"its bytes (file {entry['filename'][:12]}…, from byte {int(entry['offset']):,}) no "
                           "longer match its sha256: altered")
    return data


def _placed_despite(store: AttachmentStore, index_sha: str, records: list[dict]) -> list[dict]:
    """A crawl's records (from its capture rows) when its CDXJ index was altered: each where a line of
    the index that still reads places it, else as a file of its own."""
    try:
        lines = archive.index_entries(store.read(index_sha), readable_only=True)
    except GongkaiError:
        lines = []
    placed = {e["record_sha256"]: e for e in lines if {"record_sha256", "filename", "offset", "length"} <= e.keys()}
    return [placed.get(r["record_sha256"], {}) | r for r in records]


def crawls(db: str | None, *, actor: Actor) -> pd.DataFrame:
    """The stored crawls the actor may see: id, body, site, account, start, end, pages, bytes, errors."""
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        visible = set(_visible_crawls(session, who, None))
        return pd.DataFrame([{k: getattr(c, k) for k in ("id", "body", "site", "account", "started_at", "ended_at",
                                                          "pages", "bytes", "errors")}
                             for c in stored.crawls(session) if c.id in visible],
                            columns=["id", "body", "site", "account", "started_at", "ended_at", "pages", "bytes", "errors"])
