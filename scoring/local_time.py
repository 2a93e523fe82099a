"""Times as a user reads them: the store keeps UTC (naive); a date or time shown to a user is the
assessment's wall clock, Asia/Shanghai (the scheme's `timezone`), so a result published at 01:00 on
5 December in Jinan reads 2026-12-05 everywhere, as its notice is dated."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

TIMEZONE = "Asia/Shanghai"


def local(at: dt.datetime, timezone: str = TIMEZONE) -> dt.datetime:
    """A stored UTC time (naive) as the wall clock of `timezone` (naive)."""
    return at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def local_day(at: dt.datetime, timezone: str = TIMEZONE) -> dt.date:
    return local(at, timezone).date()


def local_column(times: pd.Series, timezone: str = TIMEZONE) -> pd.Series:
    """A column of stored UTC times (naive) as wall-clock times of `timezone` (naive); empty stays empty."""
    stamps = pd.to_datetime(times)
    return stamps.dt.tz_localize("UTC").dt.tz_convert(timezone).dt.tz_localize(None)
