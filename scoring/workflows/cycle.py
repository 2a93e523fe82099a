"""The assessment cycle: publish → appeal → decide → final → 通報 → 整改, on the working-day calendar and the cycle's clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import pandas as pd
from sqlmodel import Session, select

from scoring.errors import EvidenceError, GongkaiError
from scoring.intake.evidence import validate
from scoring.local_time import local_day
from scoring.method import LOST
from scoring.method import kinds as rule_kinds
from scoring.method.engine import Scorecard, score
from scoring.method.scheme import Scheme
from scoring.report.model import RANK_INTERVALS_NAME, rank_intervals
from scoring.store import cycle, kept
from scoring.store import repository as repo
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.attachments import store_for
from scoring.store.audit import audit
from scoring.store.cycle import Stage
from scoring.store.db import resolve_url
from scoring.workflows._base import _as, _refusals_audited, _signed_in, transaction
from scoring.workflows.intake import _visible

PROVISIONAL = "暂定"  # said of a cycle date computed on an estimated calendar (its year is not loaded)


FEEDBACK_DAYS = 5   # working days a preliminary result is open to appeals


RECTIFY_DAYS = 20   # working days a body has to rectify a problem of the final result


def _clock() -> dt.datetime:
    """Now, as an aware UTC instant — the one place the cycle reads the clock. `GONGKAI_CLOCK` (an ISO
    date or date-time; without an offset it is the scheme timezone's wall clock, Asia/Shanghai) sets
    it for tests and for rehearsing a cycle: the feedback window, the 整改 due date and the documents'
    dates follow it; the audit trail keeps the real time."""
    import os

    fixed = os.environ.get("GONGKAI_CLOCK", "").strip()
    if not fixed:
        return dt.datetime.now(dt.UTC)
    try:
        at = dt.datetime.fromisoformat(fixed)
    except ValueError:
        raise GongkaiError(f"GONGKAI_CLOCK={fixed!r} is not an ISO date or date-time "
                           "(2026-12-28, 2026-12-28T10:00 or 2026-12-28T10:00+08:00)") from None
    if at.tzinfo is None:
        from zoneinfo import ZoneInfo

        at = at.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return at.astimezone(dt.UTC)


def _today(scheme: Scheme, today: dt.date | None) -> dt.date:
    """The day it is on the scheme's calendar: in its timezone (Asia/Shanghai), not the server's."""
    from zoneinfo import ZoneInfo

    return today or _clock().astimezone(ZoneInfo(scheme.scheme.timezone)).date()


def _window_closed(scheme: Scheme, pub, today: dt.date | None) -> bool:
    """Whether a preliminary result's feedback window is over on the scheme's calendar."""
    return pub.closes_on is not None and _today(scheme, today) > pub.closes_on


def _working_days_after(scheme: Scheme, day: dt.date, n: int) -> tuple[dt.date, bool]:
    """The n-th working day after `day` on the scheme's calendar (as this database has it), and
    whether it is provisional (暫定): a year it reaches that nobody covers is estimated, never refused."""
    from scoring.method.compiled import compiled

    return compiled(scheme).calendar.cycle_date(day, n)


def _own_body(session: Session, who: Actor, body: str | None) -> str | None:
    """The body an actor acts for: a `body` account its own (asking for another is refused); others
    the body they name (None: all)."""
    if who.role != "body":
        return body
    own = cycle.body_of(session, user=who.name)
    if own is None:
        raise PermissionDenied(f"the body account {who.name} is not tied to a body yet (gongkai user body NAME ID)")
    if body is not None and body != own:
        raise PermissionDenied(f"user {who.name} acts only for its own body {own}, not {body}")
    return own


@dataclass(frozen=True)
class Published:
    """A published result: its publication id, stage, run, and the feedback window's last day."""

    id: int
    stage: str
    run_id: int
    as_of: dt.date
    published_at: dt.datetime
    closes_on: dt.date | None
    problems: int = 0
    provisional: bool = False  # its window's end (feedback, or 整改 due) is estimated: 暫定 until the year is loaded
    due_on: dt.date | None = None  # a final result's 整改 due date
    unkept: str = ""  # why the report's parts could not be kept with the run (the publication stands)


def _published(pub, problems: int = 0, due_on: dt.date | None = None) -> Published:
    return Published(pub.id, pub.stage, pub.run_id, pub.as_of, pub.published_at, pub.closes_on, problems,
                     bool(pub.provisional), due_on)


@_refusals_audited("publish")
def publish(db: str | None, *, actor: Actor, stage: str, scheme_id: str | None = None,
            as_of: dt.date | None = None, days: int = FEEDBACK_DAYS, rectify_days: int = RECTIFY_DAYS,
            today: dt.date | None = None) -> Published:
    """Publish the current run: `preliminary` opens a feedback window of `days` working days;
    `final` (refused while an appeal is undecided, and once a final exists) freezes it and opens a
    整改 problem for every point lost. The scheme and evidence are frozen with the run."""
    if stage not in tuple(Stage):
        raise GongkaiError(f"stage {stage!r} is not one of: preliminary, final")
    if days < 1:
        raise GongkaiError(f"--days {days}: a feedback window is at least 1 working day")
    kept.limit_bytes()   # a bad limit of the kept files is said now, not after the result is published
    with transaction(db) as session:
        who = _as(session, actor, "publish")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        earlier = cycle.publications(session, scheme_id=scheme.id)
        final = next((p for p in earlier if p.stage == Stage.FINAL), None)
        if final is not None:
            raise GongkaiError(f"the final result of {scheme.id} was published on "
                               f"{local_day(final.published_at, scheme.scheme.timezone)} "
                               f"(run {final.run_id}); it is frozen — later evidence makes new runs, not a new final")
        if stage == Stage.FINAL:
            if not earlier:
                raise GongkaiError("publish --preliminary first: bodies get a feedback window before the final result")
            undecided = cycle.appeals(session, scheme_id=scheme.id, open_only=True)
            if len(undecided):
                listed = ", ".join(f"{r.id} ({r.body} · {r.obligation} · {r.item})" for r in undecided.itertuples())
                raise GongkaiError(f"{len(undecided)} appeal(s) undecided: {listed}; decide them first "
                                   "(gongkai appeal decide N --accept|--reject --reason TEXT)")
        card, run_id = repo.score_and_record(session, scheme_id=scheme.id, as_of=as_of, who=who.name)
        evidence, digest = repo.evidence_state(session, scheme_id=scheme.id)
        day = _today(scheme, today)
        window = days if stage == Stage.PRELIMINARY else rectify_days
        end, provisional = _working_days_after(scheme, day, window)
        pub = cycle.publish(session, stage=stage, scheme=scheme, run_id=run_id, as_of=card.as_of,
                            evidence=evidence, who=who.name, closes_on=end if stage == Stage.PRELIMINARY else None,
                            opened_on=day, days=window, provisional=provisional)
        opened = cycle.open_problems(session, pub=pub, card=card, due_on=end) if stage == Stage.FINAL else 0
        mark = f" ({PROVISIONAL}: {end.year} is not loaded)" if provisional else ""
        audit(session, who=who.name, action=f"publish_{stage}", scheme_id=scheme.id, sha256=digest,
              detail=f"publication {pub.id}: run {run_id}, as of {card.as_of}"
                     + (f", feedback window to {end}{mark} ({days} working days)" if stage == Stage.PRELIMINARY else
                        f", frozen; {opened} 整改 problems due {end}{mark}"))
        published = _published(pub, opened, end if stage == Stage.FINAL else None)
        intervals_at = repo.derived_file(session, run_id=run_id, name=RANK_INTERVALS_NAME)
        from scoring.workflows.documents import keep_report_tables

        tables = keep_report_tables(session, card=card, run_id=run_id)
        if stage == Stage.FINAL:   # what its 整改通知书 are made of, kept with the run (documents.rectifying_kept)
            from scoring.workflows.documents import rectifying_kept

            rectifying_kept(session, pub, card)
    # the report's rank intervals and its tables that grow with the nation (with the CSVs of its parts
    # too long to print), functions of the run, worked out once: here, not per report. Work saved for
    # the reports, not part of the publication, which is committed: a failure here is said, not raised
    try:
        tables(repo.derived(intervals_at, lambda: rank_intervals(card)))
    except Exception as e:  # noqa: BLE001 — each report works them out again (and says what fails)
        published = replace(published, unkept=f"{type(e).__name__}: {e}")
    return published


@_refusals_audited("publications", only=PermissionDenied)
def publications(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> list[Published]:
    """The scheme's published results, newest first."""
    with transaction(db) as session:
        _as(session, actor, "own")
        # the id only: the dashboard asks on every rerun, and parsing a national scheme takes seconds
        sid = repo.resolve_scheme_id(session, scheme_id=scheme_id)
        return [_published(p) for p in cycle.publications(session, scheme_id=sid)]


@_refusals_audited("appeal_window", only=PermissionDenied)
def appeal_window_closed(db: str | None, *, actor: Actor, scheme_id: str | None = None,
                         today: dt.date | None = None) -> bool:
    """Whether appeals are refused now because the latest preliminary result's window is over —
    the same test `add_appeal` makes, on the scheme's calendar and timezone."""
    with transaction(db) as session:
        _as(session, actor, "own")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        pubs = cycle.publications(session, scheme_id=scheme.id)
        return bool(pubs) and pubs[0].stage == Stage.PRELIMINARY and _window_closed(scheme, pubs[0], today)


@dataclass(frozen=True)
class BodyResult:
    """What a body is shown of a published result: its score row, gaps and findings (with the score
    points each lost), its evidence records with their attachments."""

    publication: Published
    body: str
    scores: pd.DataFrame
    gaps: pd.DataFrame
    findings: pd.DataFrame
    evidence: pd.DataFrame


@_refusals_audited("result", only=PermissionDenied)
def body_result(db: str | None, *, actor: Actor, body: str | None = None,
                scheme_id: str | None = None) -> BodyResult:
    """The latest published result (final, else preliminary) for one body; a `body` account sees
    only its own."""
    from scoring.method.explain import explained

    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, body)
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        pubs = cycle.publications(session, scheme_id=scheme.id)
        if not pubs:
            raise GongkaiError("no result is published yet (gongkai publish --preliminary)")
        if body is None or body not in {b.id for b in scheme.bodies}:
            raise GongkaiError(f"no body {body!r} in {scheme.id}" if body else "give --body ID")
        card = cycle.published_card(pubs[0])
        ev = repo.evidence_with_provenance(session, scheme_id=scheme.id)
        ev = ev[ev["body"] == body][["id", "obligation", "period", "event", "step", "published_at", "url",
                                     "assessor", "note", "attachment", "captured_at", "rejected"]]
        return BodyResult(_published(pubs[0]), body, card.scores[card.scores["body"] == body],
                          card.gaps_of(body), explained(card, body), ev.reset_index(drop=True))


@_refusals_audited("appeal_add")
def add_appeal(db: str | None, *, actor: Actor, body: str, obligation: str, item: str, reason: str,
               published_at: dt.datetime | None = None, url: str = "", attachment: tuple[str, bytes] | None = None,
               scheme_id: str | None = None, today: dt.date | None = None) -> int:
    """A body appeals one finding of the preliminary result while its feedback window is open."""
    from scoring.intake.attachments import single

    with transaction(db) as session:
        who = _as(session, actor, "appeal")
        body = _own_body(session, who, body) or body
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        pubs = cycle.publications(session, scheme_id=scheme.id)
        if not pubs:
            raise GongkaiError("no preliminary result is published: nothing to appeal yet")
        pub = pubs[0]
        if pub.stage == Stage.FINAL:
            raise GongkaiError(f"the final result was published on {local_day(pub.published_at, scheme.scheme.timezone)}; "
                               "appeals are closed")
        if _window_closed(scheme, pub, today):
            raise GongkaiError(f"the feedback window of the preliminary result (publication {pub.id}) closed on "
                               f"{pub.closes_on}; appeals are no longer accepted")
        if not reason.strip():
            raise GongkaiError("an appeal needs a reason (--reason)")
        findings = cycle.published_card(pub).findings
        mine = findings[(findings["body"] == body) & (findings["obligation"] == obligation)]
        if mine.empty:
            raise GongkaiError(f"{body} has no finding on obligation {obligation!r} in the preliminary result")
        if item not in set(mine["item"]):
            raise GongkaiError(f"no item {item!r} of {body} · {obligation}; its items: " + ", ".join(mine["item"].astype(str)))
        card = cycle.published_card(pub)
        _appealable(card, body=body, obligation=obligation, item=item, published_at=published_at, url=url)
        sha, captured, attached = "", None, None
        if attachment is not None:
            from scoring.store.audit import now

            attached = single(attachment[0], attachment[1], now())
            sha, captured = attached.sha256, attached.captured_at
        _not_filed_yet(session, pub_id=pub.id, body=body, obligation=obligation, item=item,
                       published_at=published_at, url=url, sha=sha)
        if attached is not None:
            cycle.save_attachments(session, store=store_for(resolve_url(db)), files=[attached])
        appeal = cycle.add_appeal(session, publication_id=pub.id, body=body, obligation=obligation, item=item,
                                  reason=reason.strip(), published_at=published_at, url=url, attachment=sha,
                                  captured_at=captured, filed_by=who.name)
        audit(session, who=who.name, action="appeal_add", scheme_id=scheme.id, sha256=sha,
              detail=f"appeal {appeal.id}: {body} · {obligation} · {item}: {reason.strip()}")
        assert appeal.id is not None
        return appeal.id


def _appealable(card: Scorecard, *, body: str, obligation: str, item: str, published_at: dt.datetime | None,
                url: str) -> None:
    """Refuse, at filing, an appeal that cannot change a score: of a finding that lost nothing, or
    claiming a publication date no record could be (checked as an imported row would be, named by the
    option), one after the assessment date, or one no earlier than the late publication it disputes."""
    from scoring.method.explain import explained

    found = explained(card, body)
    row = found[(found["obligation"] == obligation) & (found["item"] == item)].iloc[0]
    if row["lost"] <= LOST:
        raise GongkaiError(f"{body} lost no points on {obligation} · {item} ({row['outcome']}): "
                           "an appeal cannot change its score")
    if published_at is None or rule_kinds.kind(row["kind"]).appeal == "value":
        return
    _appeal_evidence(card.scheme, _appeal_row(card, body=body, obligation=obligation, item=item,
                                              published_at=published_at, url=url, note="", assessor="申訴 appeal",
                                              event_at=_event_at(card.evidence, body, item)), "the appeal")
    if published_at.date() > card.as_of:
        raise GongkaiError(f"--published-at {published_at:%Y-%m-%d %H:%M}: after the assessment date {card.as_of}, "
                           "a publication still counts as missing, so the appeal cannot change the score")
    if row["outcome"] == "late" and pd.notna(row["published_at"]) and published_at >= row["published_at"]:
        raise GongkaiError(f"--published-at {published_at:%Y-%m-%d %H:%M}: no earlier than the publication already "
                           f"found ({row['published_at']:%Y-%m-%d %H:%M}, late): the appeal cannot change the score")


def _not_filed_yet(session: Session, *, pub_id: int | None, body: str, obligation: str, item: str,
                   published_at: dt.datetime | None, url: str, sha: str) -> None:
    """Refuse a second appeal making the same claim (finding, date, url, file) as an earlier one."""
    from scoring.store.models import Appeal

    a = Appeal
    same = session.exec(select(a).where(a.publication_id == pub_id, a.body == body, a.obligation == obligation,
                                        a.item == item, a.url == url, a.attachment == sha)).all()
    for earlier in same:
        if earlier.published_at == published_at:
            raise GongkaiError(f"appeal {earlier.id} ({earlier.status}) already makes this claim on {body} · "
                               f"{obligation} · {item}: an identical appeal cannot change the decision")


@_refusals_audited("appeals", only=PermissionDenied)
def appeals(db: str | None, *, actor: Actor, open_only: bool = False, scheme_id: str | None = None) -> pd.DataFrame:
    """Appeals, oldest first; a `body` account sees only its own body's."""
    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, None)
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        return cycle.appeals(session, scheme_id=scheme.id, body=body, open_only=open_only)


@dataclass(frozen=True)
class Decision:
    """A decided appeal: the evidence batch its file became (if any) and the body's points on the
    appealed obligation on the current evidence at the preliminary result's date, before and after."""

    appeal_id: int
    status: str
    batch: int | None
    body: str
    obligation: str
    points: float
    before: float
    after: float

    @property
    def summary(self) -> str:
        """`appeal 1 accepted; its file is evidence batch 2; qingdao · 6.7 now earns 3 of 3 points (was 0)`."""
        text = f"appeal {self.appeal_id} {self.status}"
        if self.batch:
            text += f"; its file is evidence batch {self.batch}"
        where = f"{self.body} · {self.obligation}"
        if abs(self.after - self.before) > 1e-9:
            return text + f"; {where} now earns {self.after:g} of {self.points:g} points (was {self.before:g})"
        why = "" if self.status != "accepted" or self.batch else (
            ": no evidence record was made (no file, or a rating or share: the firm re-rates)")
        return text + f"; the score is unchanged: {where} earns {self.after:g} of {self.points:g} points{why}"


def _earned(session: Session, scheme: Scheme, as_of: dt.date, body: str, obligation: str) -> tuple[float, float]:
    """(earned, points) of a body on an obligation from its current evidence, at `as_of` (a body's earned
    points depend on its own evidence alone)."""
    ev = repo.load_evidence(session, scheme_id=scheme.id)
    card = score(scheme, ev[(ev["body"] == body).to_numpy()].reset_index(drop=True), as_of)
    row = card.obligations[(card.obligations["body"] == body) & (card.obligations["obligation"] == obligation)]
    return (float(row["earned"].iloc[0]), float(row["points"].iloc[0])) if len(row) else (0.0, 0.0)


@_refusals_audited("appeal_decide")
def decide_appeal(db: str | None, *, actor: Actor, appeal_id: int, accept: bool, reason: str,
                  published_at: dt.datetime | None = None) -> Decision:
    """Accept or reject an appeal with a reason (復核). An accepted appeal with a file becomes an
    evidence record (its batch names the appeal). Says what the decision did to the body's points on
    the obligation — an acceptance that changes nothing says so. A rejected one stays on file with the reason."""
    from scoring.store.models import Appeal

    with transaction(db) as session:
        who = _as(session, actor, "decide")
        appeal = session.get(Appeal, appeal_id)
        if appeal is None:
            raise GongkaiError(f"no appeal {appeal_id}")
        cycle.check_decision(appeal, reason=reason)  # refused before any work
        pub = cycle.publication(session, publication_id=appeal.publication_id)
        scheme = repo.get_scheme(session, scheme_id=pub.scheme_id)
        before, points = _earned(session, scheme, pub.as_of, appeal.body, appeal.obligation)
        batch = None
        if accept and appeal.attachment:
            batch = _appeal_record(session, appeal, published_at or appeal.published_at, who)
        after = _earned(session, scheme, pub.as_of, appeal.body, appeal.obligation)[0] if batch else before
        from scoring.store.audit import now

        cycle.decide_appeal(appeal, accept=accept, reason=reason, who=who, batch=batch, at=now())
        decision = Decision(appeal_id, appeal.status, batch, appeal.body, appeal.obligation, points, before, after)
        audit(session, who=who.name, action="appeal_" + appeal.status, scheme_id=pub.scheme_id, sha256=appeal.attachment,
              detail=f"appeal {appeal_id} ({appeal.body} · {appeal.obligation} · {appeal.item}): {reason.strip()}"
                     + (f"; its evidence is now a record (batch {batch})" if batch else "")
                     + f"; {appeal.obligation} earns {after:g} of {points:g} (was {before:g})")
        return decision


def _appeal_row(card: Scorecard, *, body: str, obligation: str, item: str, published_at: dt.datetime,
                url: str, note: str, assessor: str, event_at: str) -> dict[str, str]:
    """The evidence row an appeal's claim stands for (a dated item of a kind whose appeal is a publication)."""
    from scoring.intake.tables import COLUMNS

    findings = card.findings
    kind = findings[(findings["body"] == body) & (findings["obligation"] == obligation)
                    & (findings["item"] == item)]["kind"].iloc[0]
    row = dict.fromkeys(COLUMNS, "") | {"body": body, "obligation": obligation,
                                        "published_at": published_at.isoformat(sep=" "), "url": url,
                                        "assessor": assessor, "note": note[:500]}
    columns = rule_kinds.kind(kind).item_columns  # what the item label stands for, as the kind declares
    row.update(zip(columns, item.split("/", len(columns) - 1) if columns else (), strict=True))
    if "event" in columns:
        row["event_at"] = event_at
    return row


def _event_at(evidence: pd.DataFrame, body: str, item: str) -> str:
    """The time of the event a response item (`E1/release`) belongs to, as its evidence gives it ("" if none)."""
    if "/" not in item:
        return ""
    same = evidence[(evidence["body"] == body) & (evidence["event"] == item.split("/", 1)[0])]
    return str(same["event_at"].iloc[0]) if len(same) else ""


APPEAL_OPTIONS = {"published_at": "--published-at", "url": "--url"}  # an appeal row's columns as the options that gave them


def _appeal_evidence(scheme: Scheme, row: dict[str, str], source: str) -> pd.DataFrame:
    """An appeal's row validated like any imported row; a problem is named by the option that gave the
    value (`--published-at 1800-01-01: …`), never as a row of a file the user never sent."""
    from scoring.intake.tables import COLUMNS

    table = pd.DataFrame([row]).astype(str)
    table.insert(0, "row", [2])
    table.attrs["columns"] = list(COLUMNS)
    try:
        return validate(table, scheme, source)
    except EvidenceError as e:
        raise GongkaiError(f"{source}: " + "; ".join(f"{APPEAL_OPTIONS.get(p.column, p.column)} {p.value}: {p.reason}"
                                                      for p in e.problems)) from None


def _appeal_record(session: Session, appeal, published_at: dt.datetime | None, who: Actor) -> int | None:
    """The evidence row an accepted appeal's file stands for, validated like any imported row."""
    pub = cycle.publication(session, publication_id=appeal.publication_id)
    scheme = repo.get_scheme(session, scheme_id=pub.scheme_id)
    card = cycle.published_card(pub)
    findings = card.findings
    kind = findings[(findings["body"] == appeal.body) & (findings["obligation"] == appeal.obligation)
                    & (findings["item"] == appeal.item)]["kind"].iloc[0]
    if rule_kinds.kind(kind).appeal == "value":
        return None  # a value is the firm's or the evaluator's to give: nothing to record from a file
    if published_at is None:
        raise GongkaiError(f"accepting appeal {appeal.id} makes its file an evidence record: give the date "
                           "the file shows it was published (--published-at)")
    event_at = _event_at(repo.load_evidence(session, scheme_id=scheme.id), appeal.body, appeal.item)
    row = _appeal_row(card, body=appeal.body, obligation=appeal.obligation, item=appeal.item,
                      published_at=published_at, url=appeal.url, note=appeal.reason,
                      assessor=f"申訴 appeal {appeal.id}", event_at=event_at)
    source = f"appeal {appeal.id}"
    ev = _appeal_evidence(scheme, row, source)
    ev = ev.assign(attachment=appeal.attachment, captured_at=pd.Timestamp(appeal.captured_at))
    result = repo.import_evidence(session, scheme=scheme, evidence=ev, file_name=source, sha256=appeal.attachment,
                                  firm="", who=who.name)
    return result.batch_id


def _final(session: Session, scheme_id: str | None):
    scheme = repo.get_scheme(session, scheme_id=scheme_id)
    final = next((p for p in cycle.publications(session, scheme_id=scheme.id) if p.stage == Stage.FINAL), None)
    if final is None:
        raise GongkaiError(f"no final result of {scheme.id} yet (gongkai publish --final)")
    return scheme, final


@_refusals_audited("problems", only=PermissionDenied)
def problems(db: str | None, *, actor: Actor, open_only: bool = False, body: str | None = None,
             scheme_id: str | None = None) -> pd.DataFrame:
    """The 整改 problems of the final result; a `body` account sees only its own."""
    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, body)
        _, final = _final(session, scheme_id)
        assert final.id is not None
        frame = cycle.problems(session, publication_id=final.id, body=body)
        return frame[frame["status"] == "open"] if open_only else frame


@_refusals_audited("rectify")
def set_problem(db: str | None, *, actor: Actor, problem_id: int, status: str, note: str = "",
                attachment: tuple[str, bytes] | None = None) -> None:
    """Move a 整改 problem: a body marks its own `rectified` (with a note or a file as evidence); an
    evaluator marks it `verified` (after rectified) or back to `open`. Only an evaluator or admin moves
    a problem out of `verified`. Notes are a history: each is added as a line `date user → status:
    note`, never overwriting an earlier one (the audit trail keeps every change too). The frozen final
    run is untouched."""
    from scoring.intake.attachments import single
    from scoring.store.audit import now
    from scoring.store.models import Problem

    with transaction(db) as session:
        who = _as(session, actor, "track")
        problem = session.get(Problem, problem_id)
        if problem is None or (who.role == "body" and problem.body != _own_body(session, who, None)):
            raise GongkaiError(f"no 整改 problem {problem_id}" + (" of your body" if who.role == "body" else ""))
        at = now()
        # checked before the file is stored: a refused move stores nothing
        cycle.check_problem_move(problem, to=status, who=who, evidence=bool(note.strip() or attachment))
        sha = None
        if attachment is not None:
            attached = single(attachment[0], attachment[1], at)
            cycle.save_attachments(session, store=store_for(resolve_url(db)), files=[attached])
            sha = attached.sha256
        old = cycle.move_problem(problem, to=status, who=who, note=note, attachment=sha, at=at)
        pub = cycle.publication(session, publication_id=problem.publication_id)
        audit(session, who=who.name, action="rectify_" + status, scheme_id=pub.scheme_id, sha256=problem.attachment,
              detail=f"problem {problem_id} ({problem.body} · {problem.obligation}): {old} → {status}"
                     + (f": {note.strip()}" if note.strip() else ""))


def problems_by_city(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> pd.DataFrame:
    """Per city (its own problems and its counties'), and per department: open, rectified, verified."""
    frame = problems(db, actor=actor, scheme_id=scheme_id)
    with transaction(db) as session:
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
    bodies = {b.id: b for b in scheme.bodies}
    names = {b.id: b.name for b in scheme.bodies}
    unit = frame["body"].map(lambda b: bodies[b].parent if bodies[b].kind == "county" and bodies[b].parent else b)
    counts = pd.crosstab(unit.map(names), frame["status"]).reindex(columns=list(cycle.STATUSES), fill_value=0)
    counts = counts.rename_axis(index="unit", columns=None).reset_index()
    return counts.sort_values(["open", "unit"], ascending=[False, True], ignore_index=True)


def body_files(db: str | None, *, actor: Actor, body: str, scheme_id: str | None = None) -> pd.DataFrame:
    """A body's evidence records with a preserved file (for showing each finding's files), for readers."""
    with transaction(db) as session:
        _as(session, actor, "read")
        # the id only (the gaps page asks on every rerun): no need to parse the scheme
        return cycle.body_files(session, scheme_id=repo.resolve_scheme_id(session, scheme_id=scheme_id), body=body)


@_refusals_audited("attachment", only=PermissionDenied)
def attachment(db: str | None, *, actor: Actor, sha256: str) -> tuple[str, str, bytes]:
    """(file name, the media type to serve it as, bytes) of a preserved file the actor may see:
    readers any; a body the files of its own evidence, appeals and problems; a firm those of the
    evidence it may browse. Saved pages and archives are served as octet-stream downloads."""
    from scoring.intake.attachments import media_type
    from scoring.store.models import Appeal, Problem

    with transaction(db) as session:
        who = _as(session, actor, _signed_in(actor))
        record = cycle.attachment_record(session, sha256=sha256)
        allowed = record is not None and who.may("read")
        if record is not None and not allowed:
            refs = cycle.attachment_refs(session, sha256=sha256)
            if who.role == "body":
                own = _own_body(session, who, None)
                bodies = [a.body for a in session.exec(select(Appeal).where(Appeal.attachment == sha256))]
                bodies += [p.body for p in session.exec(select(Problem).where(Problem.attachment == sha256))]
                allowed = any(b == own for _, b, _ in refs) or own in bodies
            else:
                for scheme_id in {s for s, _, _ in refs}:
                    frame = _visible(session, who, repo.evidence_with_provenance(session, scheme_id=scheme_id),
                                     repo.get_scheme(session, scheme_id=scheme_id))
                    allowed = allowed or bool((frame["attachment"] == sha256).any())
        if record is None or not allowed:  # the same answer either way: a file's existence is not told
            raise PermissionDenied(f"no attachment {sha256[:12]}…")
        return record.name, media_type(record.name), store_for(resolve_url(db)).get(sha256)
