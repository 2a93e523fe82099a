"""Expanding a scheme's rules into items: what each rule expects from each body, and when it is due."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring.calendar import WorkCalendar, due_end_of_day
from scoring.evidence import expected_labels
from scoring.periods import parse
from scoring.scheme import (
    DeadlineRule,
    DueAfter,
    Obligation,
    PeriodicRule,
    ResponseRule,
    Scheme,
    ShareRule,
    Window,
    rule_ref,
)

ITEM_COLUMNS = ["body", "obligation", "rule", "ref", "kind", "item", "due",
                "late_credit", "deduct_missing", "deduct_late", "min"]


def calendar_for(scheme: Scheme) -> WorkCalendar:
    """The working-day calendar of a scheme: PRC data plus the years the scheme supplies."""
    extra = {y: {"holidays": c.holidays, "workdays": c.workdays}
             for y, c in scheme.scheme.calendar_years.items()}
    return WorkCalendar(extra)


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


def _frame(bodies: list[str], ob: Obligation, n: int, item: list[str] | str,
           due: np.ndarray | np.datetime64 | None, scheme: Scheme) -> pd.DataFrame:
    rule = ob.rules[n]
    frame = pd.DataFrame({"body": bodies}) if isinstance(item, str) else None
    if frame is None:
        frame = pd.MultiIndex.from_product([bodies, item], names=["body", "item"]).to_frame(index=False)
        frame["due"] = np.tile(np.asarray(due, dtype="datetime64[ns]"), len(bodies))
    else:
        frame["item"] = item
        frame["due"] = pd.NaT if due is None else due
    frame["obligation"] = ob.id
    frame["rule"] = n
    frame["ref"] = rule_ref(ob, n)
    frame["kind"] = rule.kind
    frame["late_credit"] = scheme.scheme.late_credit if rule.late_credit is None else rule.late_credit
    frame["deduct_missing"] = rule.deduct.missing
    frame["deduct_late"] = rule.deduct.late
    if isinstance(rule, ShareRule):
        frame["min"] = rule.min if rule.min is not None else scheme.scheme.min_transparency_share
    else:
        frame["min"] = float(getattr(rule, "min", np.nan) or np.nan)
    return frame


def _response_items(scheme: Scheme, ob: Obligation, n: int, rule: ResponseRule,
                    evidence: pd.DataFrame, cal: WorkCalendar) -> list[pd.DataFrame]:
    bodies = scheme.assessed(ob, rule)
    rows = evidence[(evidence["obligation"] == ob.id) & (evidence["event"] != "")
                    & evidence["body"].isin(bodies)]
    events = rows.groupby(["body", "event"], as_index=False)["event_at"].min()
    out = []
    for step in rule.steps:
        at = events["event_at"].to_numpy(dtype="datetime64[ns]")
        due = due_after(at.astype("datetime64[D]"), step.within, cal, times=at)
        frame = _frame(events["body"].tolist(), ob, n, "", None, scheme)
        frame["item"] = (events["event"] + "/" + step.name).to_numpy()
        frame["due"] = due
        out.append(frame)
    return out


def expected_items(scheme: Scheme, evidence: pd.DataFrame, cal: WorkCalendar | None = None) -> pd.DataFrame:
    """Every item every rule expects from every body it assesses (spec §3), with its due time.

    Dues are naive local times in the scheme's timezone; count, rating and share items have none.
    Response items come from the events found in the evidence.
    """
    cal = cal or calendar_for(scheme)
    frames: list[pd.DataFrame] = []
    for ob in scheme.obligations:
        for n, rule in enumerate(ob.rules):
            bodies = scheme.assessed(ob, rule)
            if isinstance(rule, DeadlineRule):
                frames.append(_frame(bodies, ob, n, "deadline", _deadline_due(scheme, rule, cal), scheme))
            elif isinstance(rule, PeriodicRule):
                labels = expected_labels(scheme, rule)
                last = np.array([parse(x)[2] for x in labels], dtype="datetime64[D]")  # type: ignore[index]
                frames.append(_frame(bodies, ob, n, labels, due_after(last, rule.within, cal), scheme))
            elif isinstance(rule, ResponseRule):
                frames += _response_items(scheme, ob, n, rule, evidence, cal)
            else:
                frames.append(_frame(bodies, ob, n, rule.kind, None, scheme))
    items = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    items["due"] = items["due"].astype("datetime64[ns]")
    return items[ITEM_COLUMNS]
