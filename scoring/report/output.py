"""Score output at three levels (body, obligation, finding) as the spec's CSV/JSON columns or a table."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from scoring.method.engine import Scorecard, sort_findings
from scoring.method.scheme import natural_key

LEVEL_COLUMNS = {
    "body": ["body", "name", "kind", "score", "rank", "grade", "base", "bonus", "veto"],
    "obligation": ["body", "obligation", "points", "earned", "gap", "status"],
    "finding": ["body", "obligation", "rule", "item", "due", "published_at", "outcome", "credit",
                "deduction"],
}


def _when(values: pd.Series) -> pd.Series:
    """Whole-day dues and date-only publications print as a date; others to the minute."""
    v = pd.to_datetime(values)
    end_of_day = (v + pd.Timedelta(1, "ns")).dt.normalize() == v + pd.Timedelta(1, "ns")
    midnight = v == v.dt.normalize()
    text = v.dt.strftime("%Y-%m-%d %H:%M")
    text = text.where(~(end_of_day | midnight), v.dt.strftime("%Y-%m-%d"))
    return text.fillna("")


def level_table(card: Scorecard, level: str) -> pd.DataFrame:
    """The rows of one output level, numbers rounded as printed (scores to 2 decimals)."""
    if level == "body":
        t = card.scores.copy()
        for col in ("score", "base", "bonus"):
            t[col] = t[col].round(2)
    elif level == "obligation":
        t = card.obligations.sort_values(["body", "obligation"], key=_natural, ignore_index=True)
        t = t.assign(earned=t["earned"].round(4), gap=t["gap"].round(4))
    else:
        t = sort_findings(card.findings)
        t["due"] = _when(t["due"])
        t["published_at"] = _when(t["published_at"])
        t = t.assign(credit=t["credit"].round(4), deduction=t["deduction"].round(4))
    return t[LEVEL_COLUMNS[level]].reset_index(drop=True)


def _natural(col: pd.Series) -> pd.Series:
    if col.name != "obligation":
        return col
    return col.map(natural_key)


def render(card: Scorecard, level: str, fmt: str) -> str:
    """Text of `gongkai score` in csv, json or a plain aligned table."""
    t = level_table(card, level)
    if fmt == "csv":
        buf = io.StringIO()
        t.to_csv(buf, index=False, float_format="%.2f" if level == "body" else None,
                 lineterminator="\n")
        return buf.getvalue()
    if fmt == "json":
        records = t.astype(object).where(t.notna(), None).to_dict(orient="records")
        return json.dumps(records, ensure_ascii=False, indent=1, default=_jsonable) + "\n"
    shown = t.copy()
    if level == "body":
        shown["score"] = shown["score"].map(lambda v: f"{v:.2f}" if pd.notna(v) else "")
    return shown.astype(object).fillna("").to_string(index=False) + "\n"  # a rank is NA until something is due


def _jsonable(v: object) -> object:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return str(v)
