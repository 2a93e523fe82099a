"""Publication periods and their labels: 2017-03-15 (day), 2017-W05 (ISO week), 2017-03, 2017-Q1, 2017,
2017-06-P1 (每五日)."""

from __future__ import annotations

import calendar as _cal
import datetime as dt
import re
from typing import Literal

import pandas as pd

# how often a periodic rule (or a periodic rating) expects an item
Frequency = Literal["daily", "weekly", "monthly", "quarterly", "yearly", "pentad"]

_PATTERNS = {
    "daily": re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"),
    "weekly": re.compile(r"^(\d{4})-W(\d{2})$"),
    "monthly": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarterly": re.compile(r"^(\d{4})-Q([1-4])$"),
    "yearly": re.compile(r"^(\d{4})$"),
    "pentad": re.compile(r"^(\d{4})-(\d{2})-P([1-6])$"),
}
# 候: six five-day periods a month, the last running to the month's end (1–5, 6–10, … 26–月底).
_PENTAD_FIRST = (1, 6, 11, 16, 21, 26)


def parse(label: str) -> tuple[str, dt.date, dt.date] | None:
    """(frequency, first day, last day) of a period label, or None if it is not one."""
    for freq, pattern in _PATTERNS.items():
        m = pattern.match(label)
        if not m:
            continue
        y = int(m.group(1))
        try:
            if freq == "daily":
                day = dt.date(y, int(m.group(2)), int(m.group(3)))
                return freq, day, day
            if freq == "weekly":
                first = dt.date.fromisocalendar(y, int(m.group(2)), 1)
                return freq, first, first + dt.timedelta(days=6)
            if freq == "monthly":
                mo = int(m.group(2))
                return freq, dt.date(y, mo, 1), dt.date(y, mo, _cal.monthrange(y, mo)[1])
            if freq == "quarterly":
                q = int(m.group(2))
                first = dt.date(y, 3 * q - 2, 1)
                last_month = 3 * q
                return freq, first, dt.date(y, last_month, _cal.monthrange(y, last_month)[1])
            if freq == "yearly":
                return freq, dt.date(y, 1, 1), dt.date(y, 12, 31)
            mo, p = int(m.group(2)), int(m.group(3))
            first = dt.date(y, mo, _PENTAD_FIRST[p - 1])
            last = (dt.date(y, mo, _PENTAD_FIRST[p] - 1) if p < 6
                    else dt.date(y, mo, _cal.monthrange(y, mo)[1]))
            return freq, first, last
        except ValueError:
            return None
    return None


def _label(freq: str, first: dt.date) -> str:
    if freq == "daily":
        return first.isoformat()
    if freq == "weekly":
        iso = first.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if freq == "monthly":
        return f"{first:%Y-%m}"
    if freq == "quarterly":
        return f"{first.year}-Q{(first.month - 1) // 3 + 1}"
    if freq == "yearly":
        return f"{first.year}"
    return f"{first:%Y-%m}-P{_PENTAD_FIRST.index(first.day) + 1}"


def expected(freq: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """The periods of `freq` whose last day lies in [start, end]: columns period, last_day."""
    if freq == "daily":
        days = pd.date_range(start, end, freq="D")
        return pd.DataFrame({"period": days.strftime("%Y-%m-%d"), "last_day": days.date})
    if freq == "pentad":
        months = pd.period_range(start, end, freq="M")
        firsts = [dt.date(m.year, m.month, d) for m in months for d in _PENTAD_FIRST]
    else:
        code = {"weekly": "W-SUN", "monthly": "M", "quarterly": "Q", "yearly": "Y"}[freq]
        firsts = [p.start_time.date() for p in pd.period_range(start, end, freq=code)]
    rows = []
    for first in firsts:
        parsed = parse(_label(freq, first))
        assert parsed is not None
        last = parsed[2]
        if start <= last <= end:
            rows.append((_label(freq, first), last))
    return pd.DataFrame(rows, columns=["period", "last_day"])
