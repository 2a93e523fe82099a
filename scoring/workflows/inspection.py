"""The website inspection's use cases (網站檢查): record a poll of a body's website, judge every
polled site as of a day against the indicators (criteria/website-2019.yaml), and feed the 不合格
sites to the work plan's platform obligation as evidence through the one import workflow. Each
takes the acting `Actor` (the `collect` permission; a firm only the bodies it is assigned) and
audits under its name."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from scoring.collect.fetch import AddressRefused, CollectSettings, netloc
from scoring.errors import GongkaiError
from scoring.inspect import judge as judging
from scoring.inspect.indicators import CRITERIA, Inspection, load_inspection
from scoring.inspect.poll import PollSettings, poll_site
from scoring.intake.tables import COLUMNS, csv_bytes
from scoring.method import periods
from scoring.method.scheme import RatingRule, Scheme
from scoring.store import accounts
from scoring.store import inspect as stored
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.attachments import store_for
from scoring.store.audit import audit, now
from scoring.store.db import resolve_url
from scoring.store.models import Poll, PollPage
from scoring.workflows._base import _as, _refusals_audited, transaction
from scoring.workflows.collect import _check_body, _may_fetch, _naive
from scoring.workflows.cycle import _clock
from scoring.workflows.intake import import_file

# the inspection table's columns (gongkai inspect --format csv|json), one row per site × check
FINDING_COLUMNS = ["body", "site", "check", "name", "kind", "value", "measured", "threshold", "result", "deduction",
                   "score", "verdict", "polls", "captures", "settings"]
VERDICT_WORDS = {"qualified": "合格", "failed": "不合格", "insufficient": "观测不足"}


@dataclass(frozen=True)
class PollResult:
    id: int
    loaded: bool
    elapsed: float
    columns: int
    failed_columns: int


@_refusals_audited("inspect_poll")
def poll(db: str | None, *, actor: Actor, body: str, site: str, at: dt.datetime | None = None,
         scheme_id: str | None = None, allow_private: bool = False, settings: CollectSettings | None = None,
         poll_settings: PollSettings | None = None) -> PollResult:
    """One inspection observation: fetch the site's home page and its columns now, keep every page's
    WARC records, and store the poll as of `at` (default: now)."""
    settings = settings or CollectSettings()
    scheme, settings = _may_fetch(db, actor, body=body, scheme_id=scheme_id, allow_private=allow_private,
                                  settings=settings)
    started = now()
    at = _naive(at.astimezone(dt.UTC) if at.tzinfo else at.replace(tzinfo=ZoneInfo(scheme.scheme.timezone))) \
        if at is not None else _naive(_clock())
    hosts = {netloc(s) for s in scheme.body(body).sites}
    error = ""
    try:
        pages = poll_site(site, hosts, settings, poll_settings)
    except AddressRefused as e:
        if "cannot resolve" not in str(e):
            raise
        pages = []  # a name that does not resolve: the site did not open (a failed poll)
        error = str(e)
    store = store_for(resolve_url(db))
    for page in pages:
        for record in page.records:
            store.put(record.data)
    home = pages[0] if pages else None
    row = Poll(scheme_id=scheme.id, body=body, site=site, account="", at=at, started_at=started,
               loaded=bool(home and home.loaded), elapsed=home.elapsed if home else 0.0, timeout=settings.timeout,
               status=home.status if home else None, error=home.error if home else error)
    kept = [PollPage(poll_id=0, role=p.role, url=p.url, name=p.name[:200], status=p.status, loaded=p.loaded,
                     elapsed=p.elapsed, request_sha256=p.request, response_sha256=p.response,
                     items=json.dumps(p.items, ensure_ascii=False), error=p.error) for p in pages]
    loaded, elapsed = row.loaded, row.elapsed
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        row.account = who.name
        poll_id = stored.add_poll(session, row, kept)
        failed = sum(not p.loaded for p in pages[1:])
        audit(session, who=who.name, action="inspect_poll", scheme_id=scheme.id, sha256=pages[0].response if pages else "",
              detail=f"poll {poll_id}: {body} {site} at {at:%Y-%m-%d %H:%M} UTC: home "
                     f"{'loaded' if loaded else 'failed'} in {elapsed:.2f} s, {len(pages) - 1} columns, {failed} failed")
    return PollResult(poll_id, loaded, elapsed, len(pages) - 1 if pages else 0, failed)


@dataclass(frozen=True)
class SiteJudgement:
    body: str
    site: str
    services: bool
    judgement: judging.Judgement


def _local(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC).astimezone(tz).replace(tzinfo=None)


def _views(rows: list[tuple[Poll, list[PollPage]]], tz: ZoneInfo) -> list[judging.Poll]:
    out = []
    for p, pages in rows:
        out.append(judging.Poll(p.id or 0, _local(p.at, tz), p.loaded, p.elapsed, tuple(
            judging.Page(pg.id or 0, pg.role, pg.url, pg.name, pg.loaded, pg.response_sha256, tuple(
                judging.Item(u, t, dt.date.fromisoformat(d) if d else None, *rest) for u, t, d, *rest in json.loads(pg.items)))
            for pg in pages)))
    return out


def as_of_day(scheme: Scheme, as_of: dt.date | None) -> dt.date:
    """The inspection date: given, else today in the scheme's timezone (the cycle's clock)."""
    return as_of or _clock().astimezone(ZoneInfo(scheme.scheme.timezone)).date()


@_refusals_audited("inspect", only=accounts.PermissionDenied)
def inspect(db: str | None, *, actor: Actor, body: str | None = None, as_of: dt.date | None = None,
            scheme_id: str | None = None, criteria: Path = CRITERIA,
            overrides: Mapping[str, object] | None = None) -> tuple[Inspection, dt.date, list[SiteJudgement]]:
    """Judge every polled site (of one body, or all the actor may see) as of the end of `as_of`."""
    inspection = load_inspection(criteria, overrides)
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        if body is not None:
            _check_body(session, who, scheme, body)
        day = as_of_day(scheme, as_of)
        tz = ZoneInfo(scheme.scheme.timezone)
        until = _naive(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz))
        since = _naive(dt.datetime.combine(judging.earliest(inspection, day), dt.time(), tzinfo=tz))
        rows = stored.polls(session, scheme_id=scheme.id, bodies=[body] if body else None, since=since, until=until)
        visible = {b for b in {p.body for p, _ in rows}   # asked of the polled bodies only (a nation has 3,237)
                   if accounts.may_collect(session, actor=who, scheme=scheme, body=b)}
        by_site: dict[tuple[str, str], list[judging.Poll]] = {}
        for p, pages in rows:
            if p.body in visible:
                by_site.setdefault((p.body, p.site), []).extend(_views([(p, pages)], tz))
    without = set(inspection.setting("without_services")) if "without_services" in inspection.settings else set()
    out = [SiteJudgement(b, s, b not in without, judging.judge(inspection, views, day, services=b not in without))
           for (b, s), views in sorted(by_site.items())]
    return inspection, day, out


def findings_table(results: list[SiteJudgement]) -> pd.DataFrame:
    """One row per site × check: FINDING_COLUMNS (polls and captures as space-separated lists)."""
    rows = [{"body": r.body, "site": r.site, "check": f.check, "name": f.name, "kind": f.kind,
             "value": f.measured, "measured": f.shown,
             "threshold": f.threshold, "result": f.outcome, "deduction": f.deduction,
             "score": r.judgement.score, "verdict": r.judgement.verdict,
             "polls": " ".join(map(str, f.polls)), "captures": " ".join(f.captures), "settings": " ".join(f.settings)}
            for r in results for f in r.judgement.findings]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def verdicts_table(results: list[SiteJudgement]) -> pd.DataFrame:
    """One row per site: body, site, out_of, deductions, score, verdict, vetoes."""
    return pd.DataFrame([{"body": r.body, "site": r.site, "out_of": r.judgement.out_of,
                          "deductions": r.judgement.deductions, "score": r.judgement.score,
                          "verdict": r.judgement.verdict, "vetoes": " ".join(r.judgement.vetoes)} for r in results],
                        columns=["body", "site", "out_of", "deductions", "score", "verdict", "vetoes"])


# ---- a 不合格 site as evidence of the platform obligation (6.4) -------------------------------------

def _period(scheme: Scheme, obligation: str, day: dt.date) -> str:
    ob = next((o for o in scheme.obligations if o.id == obligation), None)
    if ob is None:
        raise GongkaiError(f"obligation {obligation!r} (the inspection's feeds) is not in scheme {scheme.id}")
    rule = next((r for r in ob.rules if isinstance(r, RatingRule)), None)
    if rule is None:
        raise GongkaiError(f"obligation {obligation} has no rating rule: an inspection cannot be its evidence")
    return periods._label(rule.frequency, day) if rule.frequency else ""


@_refusals_audited("inspect_evidence")
def to_evidence(db: str | None, *, actor: Actor, as_of: dt.date | None = None, body: str | None = None,
                scheme_id: str | None = None, criteria: Path = CRITERIA,
                overrides: Mapping[str, object] | None = None) -> tuple[list[SiteJudgement], repo.ImportResult]:
    """Import each 不合格 site (as of `as_of`) as a rating of the obligation the inspection feeds
    (6.4): value 0 for a veto, else the site's score; the WARC record behind its first veto (else its
    first deduction) as its file."""
    inspection, day, results = inspect(db, actor=actor, body=body, as_of=as_of, scheme_id=scheme_id,
                                       criteria=criteria, overrides=overrides)
    failed = [r for r in results if r.judgement.verdict == judging.FAILED]
    if not failed:
        raise GongkaiError(f"no site is 不合格 as of {day}: nothing to import")
    obligation = inspection.header.feeds.get("obligation", "")
    with transaction(db) as session:
        who = _as(session, actor, "collect")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        firm = accounts.account_firm(session, who)
    period = _period(scheme, obligation, day)
    rows = pd.DataFrame({c: "" for c in COLUMNS}, index=range(len(failed)))
    rows["body"] = [r.body for r in failed]
    rows["obligation"], rows["period"] = obligation, period
    rows["value"] = [0 if r.judgement.vetoes else r.judgement.score for r in failed]
    rows["url"] = [r.site for r in failed]
    rows["assessor"] = "" if firm else who.name
    rows["note"] = [f"网站检查 {day}: 不合格 ({'单项否决 ' + ', '.join(r.judgement.vetoes) if r.judgement.vetoes else f'{r.judgement.score:g} < {inspection.header.fail_below:g}'}) · "
                    f"polls {' '.join(map(str, sorted({p for f in r.judgement.findings for p in f.polls})[:20]))}"
                    for r in failed]
    captures = [next((f.captures[0] for kind in (judging.VETO, judging.DEDUCT) for f in r.judgement.findings
                      if f.result == kind and f.captures), "") for r in failed]
    rows["attachment"] = [f"captures/{c}.warc.gz" if c else "" for c in captures]
    store = store_for(resolve_url(db))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"inspection-{day}.csv", csv_bytes(rows))
        for sha in {c for c in captures if c}:
            z.writestr(f"captures/{sha}.warc.gz", store.get(sha), compress_type=zipfile.ZIP_STORED)
    result = import_file(db, actor=actor, name=f"inspection-{day}.zip", data=out.getvalue(), scheme_id=scheme.id)
    with transaction(db) as session:
        audit(session, who=_as(session, actor, "collect").name, action="inspect_evidence", scheme_id=scheme.id,
              detail=f"inspection as of {day}: {len(failed)} 不合格 sites as evidence of {obligation} {period} "
                     f"(batch {result.batch_id})")
    return failed, result


def report_section(db: str | None, *, actor: Actor, scheme_id: str, as_of: dt.date, lang: str):
    """The annual report's inspection section as of the report's date (None when no site was polled)."""
    from scoring.i18n import script
    from scoring.report.inspection import SiteVerdict, section

    with transaction(db) as session:   # no site polled (most assessments): nothing to judge, no scheme to read
        if not stored.polled(session, scheme_id=scheme_id):
            return None
    _, day, results = inspect(db, actor=actor, as_of=as_of, scheme_id=scheme_id)
    if not results:
        return None
    with transaction(db) as session:
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
    return section([SiteVerdict(r.body, script(scheme.body(r.body).name, lang), r.site, r.judgement) for r in results],
                   day, lang)
