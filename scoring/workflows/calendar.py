"""The working-day calendar: the year's holiday notice loaded, and each year's days shown with where they come from."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from scoring.errors import GongkaiError
from scoring.store import cycle
from scoring.store import repository as repo
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.audit import audit
from scoring.store.cycle import Stage
from scoring.workflows._base import _as, _refusals_audited, transaction
from scoring.workflows.cycle import PROVISIONAL, _working_days_after


@dataclass(frozen=True)
class CalendarLoad:
    """What loading a notice did: per year (holidays, make-up working days), and each cycle date it
    made exact: (publication, what, provisional date, exact date)."""

    years: dict[int, tuple[int, int]]
    recomputed: list[tuple[int, str, dt.date, dt.date]]


@_refusals_audited("calendar_load")
def load_calendar(db: str | None, *, actor: Actor, data: bytes, name: str) -> CalendarLoad:
    """Load a year's holiday notice (CSV `date,type[,name]` or YAML): every year it lists is replaced
    whole, and takes precedence over the package and the scheme. Every provisional (暫定) cycle date is
    then recomputed; one the file makes exact loses its mark. All in one transaction, audited."""
    from scoring.intake.calendar import read_calendar
    from scoring.store import calendar

    days = read_calendar(data, name)
    sha = hashlib.sha256(data).hexdigest()
    with transaction(db) as session:
        who = _as(session, actor, "calendar")
        years = calendar.load_days(session, days=days, source=name, sha256=sha, who=who.name)
        listed = "; ".join(f"{y}: {h} holidays, {w} make-up working days" for y, (h, w) in years.items())
        audit(session, who=who.name, action="calendar_load", sha256=sha, detail=f"{name}: {listed}")
        return CalendarLoad(years, _recompute_provisional(session, who))


def _recompute_provisional(session: Session, who: Actor) -> list[tuple[int, str, dt.date, dt.date]]:
    """Recompute every provisional window end on the calendar as loaded now: a feedback window's
    last day, or a final result's 整改 due date (its problems'); audited per publication."""
    made_exact = []
    for pub in cycle.provisional_publications(session):
        assert pub.id is not None and pub.opened_on is not None and pub.days is not None
        end, provisional = _working_days_after(repo.get_scheme(session, scheme_id=pub.scheme_id), pub.opened_on, pub.days)
        before = cycle.move_window_end(session, pub=pub, end=end, provisional=provisional)
        what = "feedback window closes" if pub.stage == Stage.PRELIMINARY else "整改 due"
        audit(session, who=who.name, action="calendar_recompute", scheme_id=pub.scheme_id,
              detail=f"publication {pub.id}: {what} {before} ({PROVISIONAL}) → {end}"
                     + (f" (still {PROVISIONAL})" if provisional else ""))
        if not provisional:
            made_exact.append((pub.id, what, before, end))
    return made_exact


@dataclass(frozen=True)
class CalendarYearView:
    """A year's holidays and make-up working days (date, type, name) and where they come from:
    `loaded` (an office's notice, with who and when), `scheme` (a scheme's calendar_years),
    `package` (chinesecalendar) or `estimated` (nobody covers it: the cycle's 暫定 dates use these)."""

    year: int
    source: str
    days: pd.DataFrame
    loaded_from: str = ""


@_refusals_audited("calendar_show", only=PermissionDenied)
def calendar_year(db: str | None, *, actor: Actor, year: int, scheme_id: str | None = None) -> CalendarYearView:
    """Every holiday and make-up working day of `year`, from the source scoring uses for it."""
    from scoring.method.calendar import PACKAGE_YEARS, estimated_holidays, package_days
    from scoring.store import calendar

    if not 1901 <= year <= 2099:
        raise GongkaiError(f"year {year}: give a year between 1901 and 2099")
    with transaction(db) as session:
        _as(session, actor, "holidays")
        loaded = calendar.year_days(session, year=year)
        if len(loaded):
            first = loaded.iloc[0]
            return CalendarYearView(year, "loaded", loaded[["date", "type", "name"]],
                                    f"{first['source']} ({first['loaded_by']}, {first['loaded_at']:%Y-%m-%d %H:%M} UTC)")
        ids = [scheme_id] if scheme_id else repo.scheme_ids(session)
        for sid in ids:
            own = repo.get_scheme(session, scheme_id=sid).scheme.calendar_years.get(year)
            if own is not None:
                rows = [(d, "holiday", "") for d in own.holidays] + [(d, "workday", "") for d in own.workdays]
                return CalendarYearView(year, "scheme", pd.DataFrame(sorted(rows), columns=["date", "type", "name"]), sid)
        if year in PACKAGE_YEARS:
            return CalendarYearView(year, "package", package_days(year))
        rows = [(d, "holiday", name) for d, name in estimated_holidays(year)]
        return CalendarYearView(year, "estimated", pd.DataFrame(rows, columns=["date", "type", "name"]))
