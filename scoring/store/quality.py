"""Samples (抽查) in the database: the assessed items a sample is drawn from, drawn samples and their
items, blind second readings and settlements. Keyword-only functions on the caller's session."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import delete, select, update
from sqlmodel import Session

from scoring.errors import GongkaiError
from scoring.intake.evidence import EVIDENCE_COLUMNS, empty_evidence
from scoring.method.engine import score
from scoring.method.scheme import Scheme
from scoring.store import repository as repo
from scoring.store.audit import now
from scoring.store.models import Evidence, ImportBatch, Sample, SampleItem, SecondReading

ITEM_COLUMNS = ["id", "sample_id", "stratum", "body", "obligation", "kind", "item", "firm", "batches",
                "first_outcome", "first_value", "first_published_at", "lot", "ac", "re", "settled",
                "settled_value", "reason", "settled_by", "settled_at", "batch_id"]
SECOND_COLUMNS = ["id", "body", "obligation", "period", "event", "step", "event_at", "published_at", "has_time",
                  "value", "url", "note", "found", "assessor", "file_name", "imported_by", "imported_at"]


def population(session: Session, *, scheme: Scheme, as_of: dt.date | None) -> tuple[pd.DataFrame, dt.date, str]:
    """The assessed items a sample is drawn from — the findings of the current evidence on every body ×
    obligation a firm has read (its scored records) — with the firm(s) and import batches of that
    reading; and the assessment date and evidence digest they were judged on."""
    evidence, digest = repo.evidence_state(session, scheme_id=scheme.id)
    card = score(scheme, evidence, as_of)
    e, b = Evidence.__table__.c, ImportBatch.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(e.body, e.obligation, e.assessor, e.batch_id, b.firm)
                           .join(ImportBatch.__table__, b.id == e.batch_id)  # type: ignore[attr-defined]
                           .where(e.scheme_id == scheme.id, e.rejected == "", e.pending.is_(False))).all()
    read = pd.DataFrame(rows, columns=["body", "obligation", "assessor", "batch_id", "batch_firm"])
    read["firm"] = read["assessor"].where(read["assessor"] != "", read["batch_firm"]).astype(str)
    read = read[read["firm"] != ""]
    by_pair = read.groupby(["body", "obligation"], sort=True).agg(
        firm=("firm", lambda s: "、".join(sorted(set(s)))),
        batches=("batch_id", lambda s: ",".join(str(x) for x in sorted(set(s)))))
    f = card.findings
    items = pd.DataFrame({"body": f["body"].astype(str), "obligation": f["obligation"].astype(str),
                          "kind": f["kind"].astype(str), "item": f["item"].astype(str),
                          "first_outcome": f["outcome"].astype(str), "first_value": f["value"].astype(float),
                          "first_published_at": f["published_at"]})
    items = items.drop_duplicates(["body", "obligation", "item"], keep="first")
    items = items.merge(by_pair.reset_index(), on=["body", "obligation"], how="inner")
    return items.reset_index(drop=True), card.as_of, digest


def save_sample(session: Session, *, scheme_id: str, seed: int, size: str, by: str, aql: str, as_of: dt.date,
                population_size: int, digest: str, who: str, drawn: pd.DataFrame) -> Sample:
    sample = Sample(scheme_id=scheme_id, seed=seed, size=size, by=by, aql=aql, as_of=as_of,
                    population=population_size, evidence_digest=digest, drawn_by=who, drawn_at=now())
    session.add(sample)
    session.flush()
    assert sample.id is not None
    for r in drawn.itertuples():
        session.add(SampleItem(sample_id=sample.id, stratum=str(r.stratum), body=r.body, obligation=r.obligation,
                               kind=r.kind, item=r.item, firm=r.firm, batches=r.batches,
                               first_outcome=r.first_outcome,
                               first_value=None if pd.isna(r.first_value) else float(r.first_value),
                               first_published_at=None if pd.isna(r.first_published_at)
                               else pd.Timestamp(r.first_published_at).to_pydatetime(),
                               lot=int(r.lot), ac=int(r.ac), re=int(r.re)))
    session.flush()
    return sample


def get_sample(session: Session, *, scheme_id: str, sample_id: int | None) -> Sample:
    """A drawn sample of the scheme: the one named, else the latest."""
    s = Sample.__table__.c  # type: ignore[attr-defined]
    stmt = select(s.id).where(s.scheme_id == scheme_id)
    if sample_id is not None:
        stmt = stmt.where(s.id == sample_id)
    found = session.execute(stmt.order_by(s.id.desc())).scalars().first()
    if found is None:
        raise GongkaiError(f"no sample {sample_id} of {scheme_id}" if sample_id is not None
                           else f"no sample of {scheme_id} drawn yet (gongkai sample draw)")
    sample = session.get(Sample, found)
    assert sample is not None
    return sample


def samples(session: Session, *, scheme_id: str) -> pd.DataFrame:
    s = Sample.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(s.id, s.seed, s.size, s.by, s.aql, s.as_of, s.population, s.drawn_by, s.drawn_at)
                           .where(s.scheme_id == scheme_id).order_by(s.id)).all()
    return pd.DataFrame(rows, columns=["id", "seed", "size", "by", "aql", "as_of", "population", "drawn_by", "drawn_at"])


def items(session: Session, *, sample_id: int) -> pd.DataFrame:
    """The sample's items in drawn order (stratum, body, obligation, item)."""
    c = SampleItem.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(*(c[n] for n in ITEM_COLUMNS)).where(c.sample_id == sample_id).order_by(c.id)).all()
    frame = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    frame["first_value"] = pd.to_numeric(frame["first_value"]).astype(float)
    return frame


def save_second(session: Session, *, sample_id: int, rows: pd.DataFrame, file_name: str, sha256: str,
                who: str) -> tuple[int, int]:
    """Store a file's second readings: they replace the same assessor's earlier second rows of the
    body × obligation pairs the file names (its current statement). Returns (stored, replaced)."""
    r = SecondReading.__table__.c  # type: ignore[attr-defined]
    replaced = 0
    for (body, obligation, assessor), _ in rows.groupby(["body", "obligation", "assessor"], sort=True):
        gone = session.execute(delete(SecondReading).where(
            r.sample_id == sample_id, r.body == body, r.obligation == obligation, r.assessor == assessor))
        replaced += getattr(gone, "rowcount", 0) or 0
    at = now()

    def when(x) -> dt.datetime | None:
        return None if pd.isna(x) else pd.Timestamp(x).to_pydatetime()

    for x in rows.itertuples():
        session.add(SecondReading(sample_id=sample_id, body=x.body, obligation=x.obligation, period=x.period,
                                  event=x.event, step=x.step, event_at=when(x.event_at),
                                  published_at=when(x.published_at), has_time=bool(x.has_time),
                                  value=None if pd.isna(x.value) else float(x.value), url=x.url, note=x.note,
                                  found=bool(x.found), assessor=x.assessor, file_name=file_name, sha256=sha256,
                                  imported_by=who, imported_at=at))
    return len(rows), replaced


def second_rows(session: Session, *, sample_id: int) -> pd.DataFrame:
    r = SecondReading.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(*(r[n] for n in SECOND_COLUMNS)).where(r.sample_id == sample_id).order_by(r.id)).all()
    frame = pd.DataFrame(rows, columns=SECOND_COLUMNS)
    for col in ("event_at", "published_at"):
        frame[col] = pd.to_datetime(frame[col], format="ISO8601").astype("datetime64[ns]")
    frame["value"] = pd.to_numeric(frame["value"]).astype(float)
    frame["has_time"], frame["found"] = frame["has_time"].astype(bool), frame["found"].astype(bool)
    return frame


def as_evidence(second: pd.DataFrame) -> pd.DataFrame:
    """The found second readings as an evidence frame the engine scores (never stored as evidence)."""
    found = second[second["found"]]
    if found.empty:
        return empty_evidence()
    ev = found.assign(row=found["id"].astype("int64"), record="publication")
    for col in ("body", "obligation", "period", "event", "step", "url", "assessor", "note"):
        ev[col] = ev[col].astype(str)
    return ev[EVIDENCE_COLUMNS].reset_index(drop=True)


def is_period(kind: str, item: str) -> bool:
    """Whether an item is one period of a rule (a periodic publication, a periodic rating): its label
    is a period (2017-03), not the rule kind's own (deadline, rating, count, share) nor event/step."""
    return "/" not in item and item != kind


def covered(sampled: pd.DataFrame, second: pd.DataFrame) -> np.ndarray:
    """Per sampled item: does a second reading speak to it — its period (periodic), its event/step
    (response, request), else its body × obligation."""
    if second.empty:
        return np.zeros(len(sampled), dtype=bool)
    pairs = set(zip(second["body"], second["obligation"], strict=True))
    periods = set(zip(second["body"], second["obligation"], second["period"], strict=True))
    steps = set(zip(second["body"], second["obligation"], second["event"] + "/" + second["step"], strict=True))
    out = []
    for s in sampled.itertuples():
        if is_period(s.kind, s.item):
            out.append((s.body, s.obligation, s.item) in periods)
        elif "/" in s.item:
            out.append((s.body, s.obligation, s.item) in steps)
        else:
            out.append((s.body, s.obligation) in pairs)
    return np.array(out, dtype=bool)


def settle(session: Session, *, item_id: int, how: str, value: str, reason: str, who: str,
           batch_id: int | None) -> None:
    c = SampleItem.__table__.c  # type: ignore[attr-defined]
    session.execute(update(SampleItem).where(c.id == item_id).values(
        settled=how, settled_value=value, reason=reason, settled_by=who, settled_at=now(), batch_id=batch_id))


def first_records(session: Session, *, scheme_id: str, item: SampleItem) -> list[int]:
    """The ids of the scored evidence records of the first reading of a sampled item."""
    e = Evidence.__table__.c  # type: ignore[attr-defined]
    stmt = select(e.id).where(e.scheme_id == scheme_id, e.body == item.body, e.obligation == item.obligation,
                              e.rejected == "", e.pending.is_(False))
    if is_period(item.kind, item.item):
        stmt = stmt.where(e.period == item.item)
    elif "/" in item.item:
        event, step = item.item.split("/", 1)
        stmt = stmt.where(e.event == event, e.step == step)
    return list(session.execute(stmt.order_by(e.id)).scalars())


def blind_pairs(session: Session, *, scheme_id: str) -> set[tuple[str, str]]:
    """The body × obligation pairs with an item of the scheme's latest sample not settled: while they
    are, a firm sees no other firm's reading of them (the second reading stays blind; an item both
    readings agree on stays so until a later sample is drawn)."""
    i, s = SampleItem.__table__.c, Sample.__table__.c  # type: ignore[attr-defined]
    latest = session.execute(select(s.id).where(s.scheme_id == scheme_id).order_by(s.id.desc())).scalars().first()
    if latest is None:
        return set()
    rows = session.execute(select(i.body, i.obligation).where(i.sample_id == latest, i.settled == "").distinct()).all()
    return {(b, o) for b, o in rows}


def save_self_assessment(session: Session, *, scheme_id: str, rows: pd.DataFrame, who: str) -> tuple[int, int]:
    """Store a body's self-assessment rows (body, obligation, claim, url, published_at, note): a row
    replaces the body's earlier claim of that obligation. Returns (new, replaced)."""
    from scoring.store.models import SelfAssessment

    c = SelfAssessment.__table__.c  # type: ignore[attr-defined]
    new = replaced = 0
    for r in rows.itertuples():
        old = session.execute(select(c.id).where(c.scheme_id == scheme_id, c.body == r.body,
                                                 c.obligation == r.obligation)).scalar()
        if old is not None:
            session.execute(delete(SelfAssessment).where(c.id == old))
            replaced += 1
        else:
            new += 1
        session.add(SelfAssessment(scheme_id=scheme_id, body=r.body, obligation=r.obligation, claim=r.claim,
                                   url=r.url, published_at=r.published_at, note=r.note, submitted_by=who,
                                   submitted_at=now()))
    return new, replaced


def self_assessments(session: Session, *, scheme_id: str, body: str | None = None) -> pd.DataFrame:
    from scoring.store.models import SelfAssessment

    c = SelfAssessment.__table__.c  # type: ignore[attr-defined]
    stmt = select(c.body, c.obligation, c.claim, c.url, c.published_at, c.note, c.submitted_by, c.submitted_at
                  ).where(c.scheme_id == scheme_id)
    if body is not None:
        stmt = stmt.where(c.body == body)
    rows = session.execute(stmt.order_by(c.body, c.obligation)).all()
    return pd.DataFrame(rows, columns=["body", "obligation", "claim", "url", "published_at", "note",
                                       "submitted_by", "submitted_at"])
