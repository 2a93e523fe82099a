"""Storing the assessment cycle: attachment records, body accounts, publications (preliminary and
final, with the scheme and evidence they rest on), appeals and 整改 problems. Keyword-only functions
over an explicit session, like repository.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from enum import StrEnum

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from scoring.errors import GongkaiError
from scoring.intake.attachments import FILE_TYPES, Attached, suffix
from scoring.intake.schemes import parse_scheme_cached
from scoring.local_time import local_day
from scoring.method import LOST
from scoring.method.compiled import with_calendar
from scoring.method.engine import Scorecard, score
from scoring.method.scheme import Scheme
from scoring.store import calendar
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.attachments import AttachmentStore
from scoring.store.audit import now
from scoring.store.models import Appeal, Attachment, Problem, Publication, ScoringRun
from scoring.store.repository import reproduce


class Stage(StrEnum):
    """A published result's stage: the preliminary result opens the feedback window (appeals); the
    final result is frozen and opens 整改. A scheme's results go preliminary → final, once each."""

    PRELIMINARY = "preliminary"
    FINAL = "final"


class AppealStatus(StrEnum):
    """An appeal is filed open and decided once: accepted or rejected, with a reason."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProblemStatus(StrEnum):
    """A 整改 problem: open → rectified (by its body, with evidence) → verified (by an evaluator), or
    back to open (an evaluator reopens)."""

    OPEN = "open"
    RECTIFIED = "rectified"
    VERIFIED = "verified"


def save_attachments(session: Session, *, store: AttachmentStore, files: list[Attached]) -> int:
    """Put each file in the store and record it (once per sha256). Returns how many were new."""
    new = 0
    for f in files:
        store.put(f.data)
        if session.get(Attachment, f.sha256) is None:
            session.add(Attachment(sha256=f.sha256, size=f.size, kind=FILE_TYPES[suffix(f.name)][0], name=f.name,
                                   stored_at=now()))
            new += 1
    session.flush()
    return new


def attachment_record(session: Session, *, sha256: str) -> Attachment | None:
    return session.get(Attachment, sha256)


def attachment_files(session: Session, *, sha256s: list[str]) -> pd.DataFrame:
    """The stored file name and size of each preserved file named (attachment, file, size)."""
    a = Attachment.__table__.c  # type: ignore[attr-defined]
    wanted = sorted(set(sha256s) - {""})
    rows = session.execute(select(a.sha256, a.name, a.size).where(a.sha256.in_(wanted))).all() if wanted else []
    return pd.DataFrame(rows, columns=["attachment", "file", "size"])


def body_files(session: Session, *, scheme_id: str, body: str) -> pd.DataFrame:
    """A body's evidence records that carry a preserved file (one indexed query, not every record):
    body, obligation, period, event, step, published_at, attachment, rejected."""
    from scoring.store.models import Evidence

    e = Evidence.__table__.c  # type: ignore[attr-defined]
    cols = ["body", "obligation", "period", "event", "step", "published_at", "attachment", "rejected"]
    rows = session.execute(select(*(e[c] for c in cols)).where(e.scheme_id == scheme_id, e.body == body,
                                                               e.attachment != "")).all()
    return pd.DataFrame(rows, columns=cols)


def attachment_refs(session: Session, *, sha256: str) -> list[tuple[str, str, str]]:
    """(scheme, body, obligation) of every evidence record (current or earlier) naming the file."""
    from scoring.store.models import Evidence, EvidenceHistory

    e, h = Evidence.__table__.c, EvidenceHistory.__table__.c  # type: ignore[attr-defined]
    current = session.execute(select(e.scheme_id, e.body, e.obligation).where(e.attachment == sha256)).all()
    earlier = session.execute(select(e.scheme_id, e.body, e.obligation).join(
        EvidenceHistory.__table__, h.evidence_id == e.id).where(h.attachment == sha256)).all()  # type: ignore[attr-defined]
    return [tuple(r) for r in [*current, *earlier]]


# ---- body accounts -----------------------------------------------------------------------------

def tie_body(session: Session, *, user: str, body: str) -> None:
    from scoring.store.models import BodyAccount, BodyRecord, User

    account = session.get(User, user)
    if account is None or account.role != "body":
        raise GongkaiError(f"{user!r} is not a body account (add it with --role body)")
    known = session.execute(select(BodyRecord.__table__.c.id).where(  # type: ignore[attr-defined]
        BodyRecord.__table__.c.id == body)).first()  # type: ignore[attr-defined]
    if known is None:
        raise GongkaiError(f"no body {body!r} in any stored scheme")
    tie = session.get(BodyAccount, user)
    if tie is None:
        session.add(BodyAccount(user=user, body=body))
    else:
        tie.body = body


def body_of(session: Session, *, user: str) -> str | None:
    from scoring.store.models import BodyAccount

    tie = session.get(BodyAccount, user)
    return None if tie is None else tie.body


# ---- publications: the frozen scheme and evidence of a published run ---------------------------

def freeze(evidence: pd.DataFrame) -> bytes:
    """The scored evidence as compressed Parquet: every value and dtype round-trips exactly."""
    out = io.BytesIO()
    evidence.reset_index(drop=True).to_parquet(out, compression="zstd", index=False)
    return out.getvalue()


def thaw(blob: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(blob))


def publish(session: Session, *, stage: str, scheme: Scheme, run_id: int, as_of: dt.date,
            evidence: pd.DataFrame, who: str, closes_on: dt.date | None, opened_on: dt.date, days: int,
            provisional: bool) -> Publication:
    """Publish a run: its scheme, evidence and loaded calendar frozen with it; `opened_on` + `days`
    working days is its window (feedback or 整改), `provisional` when its end is estimated (暫定)."""
    years, _ = calendar.loaded(session)
    pub = Publication(scheme_id=scheme.id, stage=stage, run_id=run_id, as_of=as_of, published_at=now(),
                      published_by=who, closes_on=closes_on, opened_on=opened_on, days=days, provisional=provisional,
                      calendar_text=calendar.freeze(years), scheme_text=scheme.text, evidence_gz=freeze(evidence))
    session.add(pub)
    session.flush()
    return pub


def provisional_publications(session: Session) -> list[Publication]:
    """Publications whose window end (feedback, or 整改 due) is provisional (暫定), oldest first."""
    stmt = select(Publication).where(Publication.provisional.is_(True)).order_by(Publication.id)  # type: ignore[attr-defined,arg-type]
    return list(session.execute(stmt).scalars())


def move_window_end(session: Session, *, pub: Publication, end: dt.date, provisional: bool) -> dt.date:
    """Set a publication's window end as recomputed: a preliminary result's last day of feedback, a
    final result's 整改 due date on each of its problems. Returns the end it had."""
    problems = list(session.execute(select(Problem).where(Problem.publication_id == pub.id)).scalars())  # type: ignore[arg-type]
    before = pub.closes_on if pub.stage == Stage.PRELIMINARY else min((p.due_on for p in problems), default=end)
    if pub.stage == Stage.PRELIMINARY:
        pub.closes_on = end
    for problem in problems:
        problem.due_on = end
    pub.provisional = provisional
    session.flush()
    assert before is not None
    return before


def publications(session: Session, *, scheme_id: str) -> list[Publication]:
    """The scheme's publications, newest first."""
    stmt = select(Publication).where(Publication.scheme_id == scheme_id).order_by(Publication.id.desc())  # type: ignore[arg-type,union-attr]
    return list(session.execute(stmt).scalars())


def publication_of_run(session: Session, *, run_id: int) -> Publication | None:
    stmt = select(Publication).where(Publication.run_id == run_id).order_by(Publication.id)  # type: ignore[arg-type]
    return session.execute(stmt).scalars().first()


def frozen_scheme(pub: Publication) -> Scheme:
    """The scheme frozen with a publication, on the calendar frozen with it (the years loaded then)."""
    years = calendar.thaw(pub.calendar_text)
    scheme = parse_scheme_cached(pub.scheme_text, f"publication {pub.id}")   # parsed once per text, as a stored scheme
    return with_calendar(scheme, years, hashlib.sha256(pub.calendar_text.encode()).hexdigest())


def published_card(pub: Publication) -> Scorecard:
    """The scorecard of a publication, recomputed from its frozen scheme, calendar and evidence."""
    return score(frozen_scheme(pub), thaw(pub.evidence_gz), pub.as_of)


def verify_frozen(session: Session, *, pub: Publication) -> list[str]:
    """A published run recomputed from the scheme and evidence frozen with it: [] when the same."""
    run = session.get(ScoringRun, pub.run_id)
    assert run is not None
    scheme = frozen_scheme(pub)
    evidence = thaw(pub.evidence_gz)
    return reproduce(run, scheme, evidence,
                     calendar_moved=f"the calendar frozen with publication {pub.id} is not the one run {run.id} scored on",
                     scheme_moved=f"the scheme frozen with publication {pub.id} is not the one run {run.id} scored",
                     evidence_moved=f"the evidence frozen with publication {pub.id} is not the evidence run {run.id} scored",
                     scores_moved="recomputed scores differ although the frozen scheme and evidence are the same")


# ---- appeals (申訴 → 復核) -----------------------------------------------------------------------

APPEAL_COLUMNS = ["id", "publication", "body", "obligation", "item", "reason", "published_at", "url",
                  "attachment", "filed_by", "filed_at", "status", "decision", "decided_by", "decided_at", "batch"]


def appeals(session: Session, *, scheme_id: str, body: str | None = None, open_only: bool = False) -> pd.DataFrame:
    a, p = Appeal.__table__.c, Publication.__table__.c  # type: ignore[attr-defined]
    stmt = (select(a.id, a.publication_id, a.body, a.obligation, a.item, a.reason, a.published_at, a.url,
                   a.attachment, a.filed_by, a.filed_at, a.status, a.decision, a.decided_by, a.decided_at, a.batch_id)
            .join(Publication.__table__, p.id == a.publication_id).where(p.scheme_id == scheme_id))  # type: ignore[attr-defined]
    if body is not None:
        stmt = stmt.where(a.body == body)
    if open_only:
        stmt = stmt.where(a.status == "open")
    return pd.DataFrame(session.execute(stmt.order_by(a.id)).all(), columns=APPEAL_COLUMNS)


def add_appeal(session: Session, **fields) -> Appeal:
    appeal = Appeal(**fields, filed_at=now())
    session.add(appeal)
    session.flush()
    return appeal


# ---- 整改 problems ------------------------------------------------------------------------------

PROBLEM_COLUMNS = ["id", "publication", "body", "obligation", "lost", "due_on", "status", "note", "attachment",
                   "updated_by", "updated_at", "provisional"]  # provisional: due_on is 暫定 (its year not loaded)
STATUSES = tuple(s.value for s in ProblemStatus)


def check_problem_move(problem: Problem, *, to: str, who: Actor, evidence: bool) -> None:
    """Refuse a move of a 整改 problem the rules of the cycle do not allow: a body marks its own
    `rectified`, with evidence (a note or a file); only an evaluator or admin verifies, reopens, or
    moves a problem out of `verified`; only a rectified problem is verified."""
    if to not in STATUSES:
        raise GongkaiError(f"status {to!r} is not one of: {', '.join(STATUSES)}")
    if who.role == "body" and to != ProblemStatus.RECTIFIED:
        raise PermissionDenied(f"user {who.name} (body) marks its problems rectified; an evaluator verifies or reopens")
    if problem.status == ProblemStatus.VERIFIED and who.role is not None and who.role not in ("admin", "evaluator"):
        raise PermissionDenied(f"problem {problem.id} was verified by {problem.updated_by}: only an evaluator or "
                               f"admin moves it out of verified (user {who.name} is {who.role})")
    if to == ProblemStatus.RECTIFIED and not evidence:
        raise GongkaiError("rectified needs its evidence: a note (--note) or a file (--attach)")
    if to == ProblemStatus.VERIFIED and problem.status != ProblemStatus.RECTIFIED:
        raise GongkaiError(f"problem {problem.id} is {problem.status}: only a rectified problem can be verified")


def move_problem(problem: Problem, *, to: str, who: Actor, note: str, attachment: str | None,
                 at: dt.datetime) -> str:
    """The one place a 整改 problem changes state (`check_problem_move` first): the note appended as a
    dated, signed line, never overwriting an earlier one. Returns the status it left."""
    check_problem_move(problem, to=to, who=who, evidence=bool(note.strip() or attachment))
    old = problem.status
    if attachment is not None:
        problem.attachment = attachment
    problem.status, problem.updated_by, problem.updated_at = str(ProblemStatus(to)), who.name, at
    if note.strip():  # appended: the body's and the evaluator's notes all stay, each with its date and author
        entry = f"{local_day(at)} {who.name} → {to}: {note.strip()}"  # the day as the user lives it
        problem.note = f"{problem.note}\n{entry}" if problem.note else entry
    return old


def check_decision(appeal: Appeal, *, reason: str) -> None:
    """Refuse a decision on an appeal already decided, or one without a reason."""
    if appeal.status != AppealStatus.OPEN:
        raise GongkaiError(f"appeal {appeal.id} was already decided: {appeal.status} by {appeal.decided_by} "
                           f"on {appeal.decided_at:%Y-%m-%d}")
    if not reason.strip():
        raise GongkaiError("a decision needs a reason (--reason)")


def decide_appeal(appeal: Appeal, *, accept: bool, reason: str, who: Actor, batch: int | None,
                  at: dt.datetime) -> None:
    """The one place an appeal is decided: once (an open appeal), with a reason."""
    check_decision(appeal, reason=reason)
    appeal.status = str(AppealStatus.ACCEPTED if accept else AppealStatus.REJECTED)
    appeal.decision, appeal.decided_by, appeal.decided_at, appeal.batch_id = reason.strip(), who.name, at, batch


def open_problems(session: Session, *, pub: Publication, card: Scorecard, due_on: dt.date) -> int:
    """One 整改 problem per (body, obligation) with lost points in a final result (once per publication)."""
    exists = session.execute(select(Problem.__table__.c.id).where(  # type: ignore[attr-defined]
        Problem.__table__.c.publication_id == pub.id).limit(1)).first()  # type: ignore[attr-defined]
    if exists:
        return 0
    gaps = card.obligations[(card.obligations["gap"] > LOST)]
    assert pub.id is not None
    session.add_all(Problem(publication_id=pub.id, body=str(g.body), obligation=str(g.obligation),
                            lost=round(float(g.gap), 4), due_on=due_on) for g in gaps.itertuples())
    session.flush()
    return len(gaps)


def problems(session: Session, *, publication_id: int, body: str | None = None) -> pd.DataFrame:
    r, p = Problem.__table__.c, Publication.__table__.c  # type: ignore[attr-defined]
    stmt = (select(r.id, r.publication_id, r.body, r.obligation, r.lost, r.due_on, r.status, r.note, r.attachment,
                   r.updated_by, r.updated_at, p.provisional).join(Publication.__table__, p.id == r.publication_id)  # type: ignore[attr-defined]
            .where(r.publication_id == publication_id))
    if body is not None:
        stmt = stmt.where(r.body == body)
    rows = [tuple(row) for row in session.execute(stmt.order_by(r.id))]   # plain tuples: pandas looks at no Row
    return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)


def publication(session: Session, *, publication_id: int) -> Publication:
    pub = session.get(Publication, publication_id)
    if pub is None:
        raise GongkaiError(f"no publication {publication_id}")
    return pub
