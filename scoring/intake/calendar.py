"""A year's holiday notice as a file (the State Council's 放假安排: holidays and make-up working days):
CSV `date,type[,name]` in UTF-8 or GB18030, or YAML — read and checked row by row, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pandas as pd
import yaml

from scoring.errors import EvidenceError, RowProblem
from scoring.intake.tables import _decode

TYPES = {"holiday": "holiday", "workday": "workday",
         # the notice's own words: 放假 / 休 for days off, 上班 / 補班 for make-up working days (調休)
         "放假": "holiday", "休": "holiday", "休息": "holiday", "假日": "holiday", "節假日": "holiday", "节假日": "holiday",
         "上班": "workday", "班": "workday", "補班": "workday", "补班": "workday", "調休上班": "workday",
         "调休上班": "workday", "工作日": "workday"}
HEADERS = {"date": "date", "日期": "date", "type": "type", "類型": "type", "类型": "type",
           "name": "name", "名稱": "name", "名称": "name", "節日": "name", "节日": "name"}
_DATE = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?$")
FIRST_YEAR, LAST_YEAR = 1901, 2099  # what the lunar calendar behind the estimate knows
WEEKDAYS = "一二三四五六日"


def read_calendar(data: bytes, source: str) -> pd.DataFrame:
    """The days of a notice file: columns date, type (holiday | workday), name — one row per day,
    sorted. Raises EvidenceError naming every bad row, column and value."""
    try:
        text = _decode(data)
    except ValueError:
        raise EvidenceError(source, [RowProblem(1, "file", source, "not UTF-8 or GB18030 text")]) from None
    rows = _yaml_rows(text, source) if source.lower().endswith((".yaml", ".yml")) else _csv_rows(text, source)
    problems: list[RowProblem] = []
    days: list[tuple[dt.date, str, str]] = []
    seen: dict[dt.date, int] = {}
    for n, raw in rows:
        day = _date(raw.get("date", ""))
        kind = TYPES.get(raw.get("type", "").strip().lower())
        if day is None:
            problems.append(RowProblem(n, "date", raw.get("date", ""), "not a date (2027-01-01, 2027/1/1 or 2027年1月1日)"))
        elif not FIRST_YEAR <= day.year <= LAST_YEAR:
            problems.append(RowProblem(n, "date", raw["date"], f"a year between {FIRST_YEAR} and {LAST_YEAR}"))
        elif day in seen:
            problems.append(RowProblem(n, "date", raw["date"], f"listed twice (also row {seen[day]})"))
        if kind is None:
            problems.append(RowProblem(n, "type", raw.get("type", ""), "not holiday (放假) or workday (上班, 調休)"))
        elif kind == "workday" and day is not None and day.weekday() < 5:
            problems.append(RowProblem(n, "type", raw["type"], f"{day} is a weekday (星期{WEEKDAYS[day.weekday()]}): "
                                       "a make-up working day (調休上班) is a Saturday or Sunday"))
        if day is not None and kind is not None and day not in seen:
            seen[day] = n
            days.append((day, kind, raw.get("name", "").strip()))
    if not rows:
        problems.append(RowProblem(1, "file", source, "no days: a notice lists its holidays and make-up working days"))
    if problems:
        raise EvidenceError(source, problems)
    return pd.DataFrame(sorted(days), columns=["date", "type", "name"])


def _date(text: str) -> dt.date | None:
    m = _DATE.match(str(text).strip())
    if not m:
        return None
    try:
        return dt.date(*(int(g) for g in m.groups()))
    except ValueError:
        return None


def _csv_rows(text: str, source: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    names = [HEADERS.get(h.strip().lower()) for h in header]
    for needed in ("date", "type"):
        if needed not in names:
            raise EvidenceError(source, [RowProblem(1, needed, ",".join(header),
                                                    "missing column: the header is date,type[,name] (日期,類型,名稱)")])
    rows = []
    for n, cells in enumerate(reader, start=2):
        if any(c.strip() for c in cells):
            rows.append((n, {k: c for k, c in zip(names, cells, strict=False) if k}))
    return rows


def _yaml_rows(text: str, source: str) -> list[tuple[int, dict[str, str]]]:
    """YAML as the scheme's `calendar_years` ({2027: {holidays: [...], workdays: [...]}}) or as a list
    of {date, type, name}; a row number is the entry's place in the file (1 = the first)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise EvidenceError(source, [RowProblem(1, "file", source, f"not YAML ({e.__class__.__name__})")]) from None
    if isinstance(doc, dict):
        entries = [{"date": str(d), "type": kind[:-1]} for year in doc.values() if isinstance(year, dict)
                   for kind in ("holidays", "workdays") for d in (year.get(kind) or [])]
    elif isinstance(doc, list):
        entries = [{k: str(v) for k, v in e.items()} if isinstance(e, dict) else {"date": str(e)} for e in doc]
    else:
        raise EvidenceError(source, [RowProblem(1, "file", source, "expected {YEAR: {holidays: [...], workdays: [...]}} "
                                                                   "or a list of {date, type, name}")])
    return list(enumerate(entries, start=1))
