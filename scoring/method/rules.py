"""Expanding a scheme's rules into items: what each rule expects from each body, and when it is due.

Items are coded for speed at national scale: `body`, `obligation` and `item` are categoricals whose
categories are sorted (so sorting by code is sorting by text), `rule_id` indexes `rule_table`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring.method import periods
from scoring.method.calendar import WorkCalendar, due_end_of_day
from scoring.method.periods import parse
from scoring.method.scheme import (
    DeadlineRule,
    DueAfter,
    PeriodicRule,
    ResponseRule,
    Scheme,
    ShareRule,
    Window,
    rule_ref,
)

ITEM_COLUMNS = ["body", "obligation", "rule_id", "rule_no", "item", "due"]


def calendar_for(scheme: Scheme) -> WorkCalendar:
    """The working-day calendar of a scheme: PRC data plus the years the scheme supplies."""
    extra = {y: {"holidays": c.holidays, "workdays": c.workdays}
             for y, c in scheme.scheme.calendar_years.items()}
    return WorkCalendar(extra)


def expected_labels(scheme: Scheme, rule: PeriodicRule) -> list[str]:
    """The period labels a periodic rule expects within the scheme period (and its start/end)."""
    start, end = scheme.scheme.period.start, scheme.scheme.period.end
    if rule.start:
        start = max(start, periods.parse(rule.start)[1])  # type: ignore[index]
    if rule.end:
        end = min(end, periods.parse(rule.end)[2])  # type: ignore[index]
    return periods.expected(rule.frequency, start, end)["period"].tolist()


def rule_table(scheme: Scheme) -> pd.DataFrame:
    """One row per rule of the scheme (`rule_id` is the row number) with what judging needs."""
    return scheme.cached("rule_table", _rule_table)


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


def body_ids(scheme: Scheme) -> pd.Index:
    """Body ids, sorted: the categories of every `body` column."""
    return scheme.cached("body_ids", lambda s: pd.Index(sorted(b.id for b in s.bodies)))


def obligation_ids(scheme: Scheme) -> pd.Index:
    return scheme.cached("obligation_ids", lambda s: pd.Index(sorted(o.id for o in s.obligations)))


def body_table(scheme: Scheme) -> pd.DataFrame:
    """name, kind, parent per body id, in `body_ids` order."""
    return scheme.cached("body_table", lambda s: pd.DataFrame(
        [(b.id, b.name, b.kind, b.parent) for b in s.bodies], columns=["body", "name", "kind", "parent"]
    ).set_index("body").reindex(body_ids(s)))


def due_after(days: np.ndarray, window: Window, cal: WorkCalendar,
              times: np.ndarray | None = None) -> np.ndarray:
    """Due times after anchors. `days`/`working_days` end at the end of the due day; `hours` run
    from the anchor time (`times`, or the end of the anchor day when the anchor is a day)."""
    days = np.asarray(days, dtype="datetime64[D]")
    if window.days is not None:
        return due_end_of_day(days + np.timedelta64(window.days, "D"))
    if window.working_days is not None:
        return due_end_of_day(cal.add_working_days(days, window.working_days))
    start = (np.asarray(times, dtype="datetime64[ns]") if times is not None
             else (days + np.timedelta64(1, "D")).astype("datetime64[ns]"))
    assert window.hours is not None
    return start + np.timedelta64(int(round(window.hours * 3600)), "s")


def _deadline_due(scheme: Scheme, rule: DeadlineRule, cal: WorkCalendar) -> np.datetime64:
    if not isinstance(rule.due, DueAfter):
        return due_end_of_day(np.array([rule.due], dtype="datetime64[D]"))[0]
    after = rule.due.after
    anchor: dt.date = (scheme.scheme.issued if after == "issued"
                       else scheme.scheme.period.start if after == "period_start" else after)
    return due_after(np.array([anchor], dtype="datetime64[D]"), rule.due.within, cal)[0]


class _Collector:
    """Accumulates coded item blocks; labels are coded at the end, sorted."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        self.labels: dict[str, int] = {}

    def label(self, text: str) -> int:
        return self.labels.setdefault(text, len(self.labels))

    def add(self, bodies: np.ndarray, rule_id: int, labels: np.ndarray, dues: np.ndarray) -> None:
        self.parts.append((bodies.astype(np.int32), rule_id, labels.astype(np.int32), dues))


def _response(scheme: Scheme, ob_id: str, rule: ResponseRule, evidence: pd.DataFrame, codes: pd.Index,
              cal: WorkCalendar, out: _Collector, rule_id: int) -> None:
    assessed = scheme.assessed(scheme.obligation(ob_id), rule)
    rows = evidence[(evidence["event"] != "") & (evidence["obligation"] == ob_id)]
    rows = rows[rows["body"].isin(assessed)]
    if rows.empty:
        return
    events = rows.groupby(["body", "event"], as_index=False, observed=True)["event_at"].min()
    at = events["event_at"].to_numpy(dtype="datetime64[ns]")
    bodies = codes.get_indexer(events["body"].astype(str))
    for step in rule.steps:
        labels = np.array([out.label(f"{e}/{step.name}") for e in events["event"].astype(str)])
        out.add(bodies, rule_id, labels, due_after(at.astype("datetime64[D]"), step.within, cal, times=at))


def expected_items(scheme: Scheme, evidence: pd.DataFrame, cal: WorkCalendar | None = None) -> pd.DataFrame:
    """Every item every rule expects from every body it assesses (spec §3), with its due time.

    Dues are naive local times in the scheme's timezone; count, rating and share items have none.
    Response items come from the events found in the evidence.
    """
    cal = cal or calendar_for(scheme)
    codes = body_ids(scheme)
    out = _Collector()
    rule_id = -1
    for ob in scheme.obligations:
        for rule in ob.rules:
            rule_id += 1
            bodies = codes.get_indexer(scheme.assessed(ob, rule))
            nat = np.full(len(bodies), np.datetime64("NaT"), dtype="datetime64[ns]")
            if isinstance(rule, PeriodicRule):
                labels = expected_labels(scheme, rule)
                last = np.array([parse(x)[2] for x in labels], dtype="datetime64[D]")  # type: ignore[index]
                dues = due_after(last, rule.within, cal)
                ids = np.array([out.label(x) for x in labels])
                out.add(np.repeat(bodies, len(labels)), rule_id, np.tile(ids, len(bodies)), np.tile(dues, len(bodies)))
            elif isinstance(rule, DeadlineRule):
                due = np.full(len(bodies), _deadline_due(scheme, rule, cal), dtype="datetime64[ns]")
                out.add(bodies, rule_id, np.full(len(bodies), out.label("deadline")), due)
            elif isinstance(rule, ResponseRule):
                _response(scheme, ob.id, rule, evidence, codes, cal, out, rule_id)
            else:
                out.add(bodies, rule_id, np.full(len(bodies), out.label(rule.kind)), nat)
    return _assemble(scheme, out, codes)


def _assemble(scheme: Scheme, out: _Collector, codes: pd.Index) -> pd.DataFrame:
    rules = rule_table(scheme)
    names = np.array(list(out.labels), dtype=object)
    order = np.argsort(names, kind="stable")
    remap = np.empty(len(names), dtype=np.int32)
    remap[order] = np.arange(len(names), dtype=np.int32)
    body = np.concatenate([p[0] for p in out.parts]) if out.parts else np.array([], np.int32)
    rule_id = np.concatenate([np.full(len(p[0]), p[1], np.int32) for p in out.parts]) if out.parts else body
    label = remap[np.concatenate([p[2] for p in out.parts])] if out.parts else body
    due = np.concatenate([p[3] for p in out.parts]) if out.parts else np.array([], "datetime64[ns]")
    obs = obligation_ids(scheme)
    ob_of_rule = obs.get_indexer(rules["obligation"]).astype(np.int32)
    return pd.DataFrame({
        "body": pd.Categorical.from_codes(body, categories=codes),
        "obligation": pd.Categorical.from_codes(ob_of_rule[rule_id], categories=obs),
        "rule_id": rule_id,
        "rule_no": rules["rule_no"].to_numpy()[rule_id].astype(np.int16),
        "item": pd.Categorical.from_codes(label, categories=pd.Index(names[order])),
        "due": pd.to_datetime(due).astype("datetime64[ns]"),
    })
