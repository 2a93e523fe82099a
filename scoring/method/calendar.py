"""The PRC working-day calendar (statutory holidays and 調休 make-up days), vectorised over dates.

A year's data comes, in order of precedence, from the State Council notice an office loaded
(`gongkai calendar load`), the scheme's own `calendar_years`, or the chinesecalendar package. A
year none of them covers is never a silent weekday guess: scoring refuses (CalendarError, naming
the command that loads it). Only the assessment cycle's own dates (a feedback window, a 整改 due
date) may be computed on the *estimated* calendar of such a year (`estimated_days`) — and are then
marked provisional (暫定) until the year is loaded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import chinese_calendar
import numpy as np
import pandas as pd
from chinese_calendar import constants as cc_data
from lunardate import LunarDate

from scoring.errors import CalendarError

_CN_YEARS = range(min(cc_data.holidays).year, max(cc_data.holidays).year + 1)
PACKAGE_YEARS = _CN_YEARS
LOAD_HINT = "gongkai calendar load FILE"

# chinesecalendar's English holiday names, in the notice's words
HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春節", "Tomb-sweeping Day": "清明節",
                 "Labour Day": "勞動節", "Dragon Boat Festival": "端午節", "National Day": "國慶節",
                 "Mid-autumn Festival": "中秋節", "Anti-Fascist 70th Day": "中國人民抗日戰爭暨世界反法西斯戰爭勝利70周年紀念日"}

YearData = Mapping[str, list[dt.date]]  # {"holidays": [...], "workdays": [...]}


class WorkCalendar:
    """Working days of the PRC calendar, plus years supplied as data.

    `extra` maps a year to {"holidays": [dates], "workdays": [dates]}: a year listed there is
    covered (weekends off, its holidays off, its make-up days on) and overrides the package's data.
    With `estimate=True` a year nobody covers is filled with `estimated_days` instead of refused:
    for the cycle's provisional dates only, never for scoring. `digest` names the loaded notices among
    the years (a run records it); "" when it holds none.
    """

    def __init__(self, extra: Mapping[int, YearData] | None = None, *, estimate: bool = False, digest: str = ""):
        self.extra = {int(y): v for y, v in (extra or {}).items()}
        self.estimate = estimate
        self.digest = digest
        self._cache: dict[int, np.ndarray] = {}

    def covers(self, year: int) -> bool:
        return year in self.extra or year in _CN_YEARS

    def estimated(self) -> WorkCalendar:
        """The same calendar, with years nobody covers estimated rather than refused."""
        return WorkCalendar(self.extra, estimate=True, digest=self.digest)

    def _year_workdays(self, year: int) -> np.ndarray:
        if year not in self._cache:
            days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D").date
            if year in self.extra or (self.estimate and not self.covers(year)):
                data = self.extra.get(year) or estimated_days(year)
                off, on = set(data.get("holidays", [])), set(data.get("workdays", []))
                work = [(d.weekday() < 5 and d not in off) or d in on for d in days]
            elif year in _CN_YEARS:
                work = [chinese_calendar.is_workday(d) for d in days]
            else:
                raise CalendarError(
                    f"the working-day calendar has no data for {year} (chinesecalendar covers "
                    f"{_CN_YEARS.start}–{_CN_YEARS.stop - 1}, and no holiday notice for {year} is loaded): "
                    f"load the State Council's notice of {year} with `{LOAD_HINT}` (CSV date,type), "
                    f"or add the year under scheme.calendar_years"
                )
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

    def cycle_date(self, day: dt.date, n: int) -> tuple[dt.date, bool]:
        """The n-th working day after `day`, and whether it is provisional (暫定): exact where every
        year it crosses is covered, else computed on the estimated calendar of the missing years."""
        anchor = np.array([day], dtype="datetime64[D]")
        try:
            return pd.Timestamp(self.add_working_days(anchor, n)[0]).date(), False
        except CalendarError:
            return pd.Timestamp(self.estimated().add_working_days(anchor, n)[0]).date(), True


def estimated_days(year: int) -> dict[str, list[dt.date]]:
    """A year nobody covers, estimated: its statutory holidays off (`estimated_holidays`), no make-up
    working days (those only the year's notice can say)."""
    return {"holidays": [d for d, _ in estimated_holidays(year)], "workdays": []}


def estimated_holidays(year: int) -> list[tuple[dt.date, str]]:
    """A year's statutory holidays as 《全國年節及紀念日放假辦法》 (2024 revision, in force from 2025)
    fixes them, without the 調休 each year's notice adds: 元旦 1月1日; 春節 除夕 to 初三; 清明 (the solar
    term); 勞動節 5月1–2日; 端午 (五月初五); 中秋 (八月十五); 國慶 10月1–3日."""
    new_year = LunarDate(year, 1, 1).to_solar_date()
    qingming = next(d for d, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
                    if name == "清明")
    days = [(dt.date(year, 1, 1), "元旦"), *((new_year + dt.timedelta(days=k), "春節") for k in range(-1, 3)),
            (qingming, "清明節"), (dt.date(year, 5, 1), "勞動節"), (dt.date(year, 5, 2), "勞動節"),
            (LunarDate(year, 5, 5).to_solar_date(), "端午節"), (LunarDate(year, 8, 15).to_solar_date(), "中秋節"),
            *((dt.date(year, 10, d), "國慶節") for d in (1, 2, 3))]
    return sorted((d, name) for d, name in days if d.year == year)


def package_days(year: int) -> pd.DataFrame:
    """The chinesecalendar package's holidays and make-up working days of a year: date, type, name."""
    rows = [(d, "holiday", HOLIDAY_NAMES.get(n, n)) for d, n in cc_data.holidays.items() if d.year == year]
    rows += [(d, "workday", HOLIDAY_NAMES.get(n, n)) for d, n in cc_data.workdays.items() if d.year == year]
    return pd.DataFrame(sorted(rows), columns=["date", "type", "name"])


def due_end_of_day(days: np.ndarray) -> np.ndarray:
    """A whole-day due ends at the end of that day (scheme timezone, naive local time)."""
    return (np.asarray(days, dtype="datetime64[D]") + np.timedelta64(1, "D")).astype(
        "datetime64[ns]"
    ) - np.timedelta64(1, "ns")
