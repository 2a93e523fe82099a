"""The PRC working-day calendar (statutory holidays and 調休 make-up days), vectorised over dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import chinese_calendar
import numpy as np
import pandas as pd
from chinese_calendar import constants as cc_data

from scoring.errors import CalendarError

_CN_YEARS = range(min(cc_data.holidays).year, max(cc_data.holidays).year + 1)


class WorkCalendar:
    """Working days of the PRC calendar (chinesecalendar), plus years a scheme supplies itself.

    `extra` maps a year to {"holidays": [dates], "workdays": [dates]}: a year listed there is
    covered (weekends off, its holidays off, its make-up days on) and overrides the package's data.
    """

    def __init__(self, extra: Mapping[int, Mapping[str, list[dt.date]]] | None = None):
        self.extra = {int(y): v for y, v in (extra or {}).items()}
        self._cache: dict[int, np.ndarray] = {}

    def covers(self, year: int) -> bool:
        return year in self.extra or year in _CN_YEARS

    def _year_workdays(self, year: int) -> np.ndarray:
        if year not in self._cache:
            if not self.covers(year):
                raise CalendarError(
                    f"the working-day calendar has no data for {year} (chinesecalendar covers "
                    f"{_CN_YEARS.start}–{_CN_YEARS.stop - 1}); add that year's holidays and make-up "
                    f"days under scheme.calendar_years"
                )
            days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D").date
            if year in self.extra:
                off = set(self.extra[year].get("holidays", []))
                on = set(self.extra[year].get("workdays", []))
                work = [(d.weekday() < 5 and d not in off) or d in on for d in days]
            else:
                work = [chinese_calendar.is_workday(d) for d in days]
            self._cache[year] = np.array(days[np.array(work)], dtype="datetime64[D]")
        return self._cache[year]

    def _workdays(self, first: int, last: int) -> np.ndarray:
        return np.concatenate([self._year_workdays(y) for y in range(first, last + 1)])

    def add_working_days(self, anchors: np.ndarray, n: np.ndarray | int) -> np.ndarray:
        """The n-th working day after each anchor day (the anchor day itself never counts).

        2017-05-04 + 30 → 2017-06-16 (5月27日 a make-up Saturday, 5月29–30日 端午 off).
        """
        days = np.asarray(anchors, dtype="datetime64[D]")
        steps = np.broadcast_to(np.asarray(n, dtype=np.int64), days.shape)
        if days.size == 0:
            return days
        years = days.astype("datetime64[Y]").astype(int) + 1970
        first, last = int(years.min()), int(years.max())
        while True:
            table = self._workdays(first, last)
            idx = np.searchsorted(table, days, side="right") + steps - 1
            if (idx < len(table)).all():
                return table[idx]
            last += 1  # the window runs into the next year: raises if that year is not covered


def due_end_of_day(days: np.ndarray) -> np.ndarray:
    """A whole-day due ends at the end of that day (scheme timezone, naive local time)."""
    return (np.asarray(days, dtype="datetime64[D]") + np.timedelta64(1, "D")).astype(
        "datetime64[ns]"
    ) - np.timedelta64(1, "ns")
