"""Storing the working-day calendar an office loads: a year's holidays and make-up working days as
the State Council's notice lists them. A year is loaded whole (a new notice of a year replaces the
old one); a loaded year takes precedence over the scheme's `calendar_years` and the package."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
from sqlalchemy import delete, select
from sqlmodel import Session

from scoring.method.calendar import YearData
from scoring.store.audit import now
from scoring.store.models import CalendarDay

Loaded = dict[int, YearData]


def load_days(session: Session, *, days: pd.DataFrame, source: str, sha256: str, who: str) -> dict[int, tuple[int, int]]:
    """Store the days of a notice (date, type, name), replacing every year it lists. Returns, per
    year, (holidays, make-up working days)."""
    years = sorted({d.year for d in days["date"]})
    c = CalendarDay.__table__.c  # type: ignore[attr-defined]
    session.execute(delete(CalendarDay).where(c.year.in_(years)))
    at = now()
    session.add_all(CalendarDay(day=r.date, year=r.date.year, kind=r.type, name=r.name, source=source,
                                sha256=sha256, loaded_by=who, loaded_at=at) for r in days.itertuples())
    session.flush()
    return {y: (int(((days["type"] == "holiday") & (days["date"].map(lambda d: d.year) == y)).sum()),
                int(((days["type"] == "workday") & (days["date"].map(lambda d: d.year) == y)).sum()))
            for y in years}


def loaded(session: Session) -> tuple[Loaded, str]:
    """Every loaded year as {year: {"holidays": [...], "workdays": [...]}}, and a digest of them all
    ("" when none is loaded): a run scored on them records it."""
    c = CalendarDay.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(c.day, c.year, c.kind).order_by(c.day)).all()
    years: Loaded = {}
    for day, year, kind in rows:
        years.setdefault(year, {"holidays": [], "workdays": []})[kind + "s"].append(day)
    if not rows:
        return {}, ""
    return years, hashlib.sha256(freeze(years).encode()).hexdigest()


def freeze(years: Loaded) -> str:
    """Loaded years as text, to keep with a publication (JSON, dates as ISO strings)."""
    return json.dumps({str(y): {k: [d.isoformat() for d in v] for k, v in sorted(data.items())}
                       for y, data in sorted(years.items())}, sort_keys=True) if years else ""


def thaw(text: str) -> Loaded:
    import datetime as dt

    return {int(y): {k: [dt.date.fromisoformat(d) for d in v] for k, v in data.items()}
            for y, data in json.loads(text).items()} if text else {}


def year_days(session: Session, *, year: int) -> pd.DataFrame:
    """The loaded days of a year: date, type, name, source, loaded_by, loaded_at (empty when not loaded)."""
    c = CalendarDay.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(c.day, c.kind, c.name, c.source, c.loaded_by, c.loaded_at)
                           .where(c.year == year).order_by(c.day)).all()
    return pd.DataFrame(rows, columns=["date", "type", "name", "source", "loaded_by", "loaded_at"])
