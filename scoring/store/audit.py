"""The audit trail: who did what, when, to which scheme, with which file hash. An entry is written in
the caller's transaction, so it lands with the action it records (and vanishes with a rolled-back one)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from scoring.store.models import AuditEntry

COLUMNS = ["id", "at", "actor", "action", "scheme", "detail", "sha256"]


def now() -> dt.datetime:
    """The current time, UTC, naive (as stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def audit(session: Session, *, who: str, action: str, scheme_id: str = "", detail: str = "",
          sha256: str = "") -> None:
    """Record an action by `who` (the acting account's name) in the caller's transaction."""
    session.add(AuditEntry(at=now(), actor=who, action=action, scheme_id=scheme_id, detail=detail,
                           sha256=sha256))


def audit_trail(session: Session, *, limit: int = 1000) -> pd.DataFrame:
    """The newest `limit` entries, newest first."""
    a = AuditEntry.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(a.id, a.at, a.actor, a.action, a.scheme_id, a.detail, a.sha256)
                           .order_by(a.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=COLUMNS)
