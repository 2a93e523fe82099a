"""Stored inspection polls and their pages (the website inspection's tables), in the caller's session."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlmodel import Session

from scoring.store.models import Poll, PollPage


def add_poll(session: Session, poll: Poll, pages: list[PollPage]) -> int:
    """Store a poll with its pages; returns the poll's id."""
    session.add(poll)
    session.flush()
    assert poll.id is not None
    for p in pages:
        p.poll_id = poll.id
    session.add_all(pages)
    session.flush()
    return poll.id


def polled(session: Session, *, scheme_id: str) -> bool:
    """Whether any site of the scheme's bodies was ever polled (one indexed row, not the polls)."""
    return session.execute(select(Poll.id).where(Poll.scheme_id == scheme_id).limit(1)).first() is not None  # type: ignore[call-overload]


def polls(session: Session, *, scheme_id: str, bodies: list[str] | None = None, since: dt.datetime | None = None,
          until: dt.datetime | None = None) -> list[tuple[Poll, list[PollPage]]]:
    """A scheme's polls (of the given bodies, with `since` ≤ at < `until`), by time, each with its pages."""
    q = select(Poll).where(Poll.scheme_id == scheme_id)  # type: ignore[arg-type]
    if bodies is not None:
        q = q.where(Poll.body.in_(bodies))  # type: ignore[attr-defined]
    if since is not None:
        q = q.where(Poll.at >= since)  # type: ignore[arg-type]
    if until is not None:
        q = q.where(Poll.at < until)  # type: ignore[arg-type]
    found = list(session.execute(q.order_by(Poll.at, Poll.id)).scalars())  # type: ignore[arg-type]
    pages: dict[int, list[PollPage]] = defaultdict(list)
    ids = [p.id for p in found]
    for chunk in range(0, len(ids), 500):
        rows = session.execute(select(PollPage).where(PollPage.poll_id.in_(ids[chunk:chunk + 500]))  # type: ignore[attr-defined]
                               .order_by(PollPage.id)).scalars()  # type: ignore[arg-type]
        for page in rows:
            pages[page.poll_id].append(page)
    return [(p, pages[p.id or 0]) for p in found]
