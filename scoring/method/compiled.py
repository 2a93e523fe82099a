"""A scheme compiled into the points-independent tables the engine works on: sorted body and
obligation codes, one row per rule, the assessed (body, obligation) pairs, the working-day calendar.

Built once per scheme and shared by its what-if variants (`Scheme.with_changes` keeps it): a change
of points or of the transparency share never changes these tables, so a what-if re-scores from the
credits alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.method.calendar import WorkCalendar, YearData
from scoring.method.scheme import Scheme, ShareRule, rule_ref


@dataclass(frozen=True)
class Compiled:
    """The points-independent tables of one scheme."""

    bodies: pd.Index             # body ids, sorted: the categories of every `body` column
    obligations: pd.Index        # obligation ids, sorted
    body_table: pd.DataFrame     # name, kind, parent per body id, in `bodies` order
    rules: pd.DataFrame          # one row per rule; `rule_id` is the row number
    assessed_pairs: np.ndarray   # body code × len(obligations) + obligation code, sorted
    calendar: WorkCalendar       # PRC working days plus the years the scheme supplies


def compiled(scheme: Scheme) -> Compiled:
    """The compiled tables of a scheme (built on first use, then kept with the scheme)."""
    if scheme.compiled_tables is None:
        scheme.keep_compiled(_compile(scheme))
    assert isinstance(scheme.compiled_tables, Compiled)
    return scheme.compiled_tables


def _compile(scheme: Scheme) -> Compiled:
    bodies = pd.Index(sorted(b.id for b in scheme.bodies))
    obligations = pd.Index(sorted(o.id for o in scheme.obligations))
    body_table = pd.DataFrame([(b.id, b.name, b.kind, b.parent) for b in scheme.bodies],
                              columns=["body", "name", "kind", "parent"]).set_index("body").reindex(bodies)
    pairs = [bodies.get_indexer(scheme.assessed(o)) * len(obligations) + obligations.get_loc(o.id)
             for o in scheme.obligations]
    return Compiled(bodies, obligations, body_table, _rule_table(scheme),
                    np.sort(np.concatenate(pairs)) if pairs else np.array([], np.int64), calendar_for(scheme))


def calendar_for(scheme: Scheme, loaded: Mapping[int, YearData] | None = None, digest: str = "") -> WorkCalendar:
    """The working-day calendar of a scheme: the package's data, the years the scheme supplies, and
    over both the years an office loaded (`gongkai calendar load`)."""
    extra: dict[int, YearData] = {y: {"holidays": c.holidays, "workdays": c.workdays}
                                  for y, c in scheme.scheme.calendar_years.items()}
    extra.update(loaded or {})
    return WorkCalendar(extra, digest=digest if loaded else "")


def with_calendar(scheme: Scheme, loaded: Mapping[int, YearData], key: str) -> Scheme:
    """The scheme judged on the years an office loaded (they take precedence over the scheme's own
    and the package's). `key` names that loaded state (its digest): the copy is made once per state
    and kept with the scheme; with nothing loaded the scheme itself."""
    if not loaded:
        return scheme

    def build() -> Scheme:
        copy = scheme.model_copy()
        copy.keep_compiled(dataclasses.replace(compiled(scheme), calendar=calendar_for(scheme, loaded, key)))
        return copy

    return scheme.memo(f"calendar {key}", build)


def _rule_table(scheme: Scheme) -> pd.DataFrame:
    rows = []
    h = scheme.scheme
    for o in scheme.obligations:
        for n, r in enumerate(o.rules):
            share_min = (r.min if r.min is not None else h.min_transparency_share) if isinstance(r, ShareRule) else None
            rows.append({
                "obligation": o.id, "rule_no": n, "ref": rule_ref(o, n), "kind": r.kind, "label": r.label or r.kind,
                "late_credit": h.late_credit if r.late_credit is None else r.late_credit,
                "deduct_missing": r.deduct.missing, "deduct_late": r.deduct.late,
                "min": float(share_min if share_min is not None else getattr(r, "min", np.nan) or np.nan),
                "mode": o.mode})
    return pd.DataFrame(rows)


def rule_table(scheme: Scheme) -> pd.DataFrame:
    """One row per rule of the scheme (`rule_id` is the row number) with what judging needs."""
    return compiled(scheme).rules
