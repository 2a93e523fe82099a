"""Stored crawls, their captures and proposals (the web collector's tables), in the caller's session."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select, update
from sqlmodel import Session

from scoring.errors import GongkaiError
from scoring.store.models import Capture, Crawl, Proposal

PROPOSAL_COLUMNS = ["id", "crawl_id", "body", "obligation", "period", "published_at", "url", "title",
                    "confidence", "reason", "capture", "status", "batch_id"]


def add_crawl(session: Session, crawl: Crawl, captures: list[Capture]) -> int:
    """Store a finished crawl with its captures; returns the crawl's id (captures get theirs)."""
    session.add(crawl)
    session.flush()
    assert crawl.id is not None
    add_captures(session, crawl_id=crawl.id, captures=captures)
    return crawl.id


def add_captures(session: Session, *, crawl_id: int, captures: list[Capture]) -> None:
    """Store a batch of a crawl's captures (they get their ids) and let the session forget them: a
    crawl of many pages is stored batch by batch without the session holding every page's text."""
    for c in captures:
        c.crawl_id = crawl_id
    session.add_all(captures)
    session.flush()
    for c in captures:
        session.expunge(c)


def add_proposals(session: Session, *, crawl_id: int, rows: pd.DataFrame) -> int:
    session.add_all([Proposal(crawl_id=crawl_id, **{k: v for k, v in r.items() if k != "capture_id"},
                              capture_id=int(r["capture_id"]))
                     for r in rows.to_dict("records")])
    session.flush()
    return len(rows)


def get_crawl(session: Session, *, crawl_id: int) -> Crawl:
    crawl = session.get(Crawl, crawl_id)
    if crawl is None:
        raise GongkaiError(f"no crawl {crawl_id}")
    return crawl


def crawls(session: Session) -> list[Crawl]:
    return list(session.exec(select(Crawl).order_by(Crawl.id)).scalars())  # type: ignore[call-overload, arg-type]


def captures(session: Session, *, crawl_id: int) -> list[Capture]:
    return list(session.exec(select(Capture).where(Capture.crawl_id == crawl_id)  # type: ignore[call-overload, arg-type]
                             .order_by(Capture.id)).scalars())  # type: ignore[arg-type]


def proposals(session: Session, *, crawl_ids: list[int] | None = None) -> pd.DataFrame:
    """Proposals (all, or of the given crawls), by id."""
    p = Proposal.__table__.c  # type: ignore[attr-defined]
    query = select(*(p[c] for c in PROPOSAL_COLUMNS)).order_by(p.id)
    if crawl_ids is not None:
        query = query.where(p.crawl_id.in_(crawl_ids))
    return pd.DataFrame(session.execute(query).all(), columns=PROPOSAL_COLUMNS)


def set_screenshots(session: Session, *, shots: dict[int, tuple[str, dt.datetime, str]]) -> None:
    """Record each capture's screenshot (sha256 of its PNG, when taken) or why there is none."""
    for capture_id, (sha, at, error) in shots.items():
        session.execute(update(Capture).where(Capture.__table__.c.id == capture_id)  # type: ignore[attr-defined]
                        .values(screenshot_sha256=sha, screenshot_at=at, screenshot_error=error))


def mark_accepted(session: Session, *, ids: list[int], batch_id: int | None, who: str) -> None:
    p = Proposal.__table__.c  # type: ignore[attr-defined]
    session.execute(update(Proposal).where(p.id.in_(ids)).values(status="accepted", batch_id=batch_id, decided_by=who))
