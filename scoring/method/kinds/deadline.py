"""deadline — one item per body: publish by a date (`due: 2017-05-31`) or within a window after
the document's issue, the period's start or a date (`due: {after: issued, within: {working_days: 30}}`)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from scoring.method.calendar import WorkCalendar, due_end_of_day
from scoring.method.kinds.base import Expansion, Kind, due_after
from scoring.method.kinds.timed import judge as judge
from scoring.method.scheme import DeadlineRule, DueAfter, Obligation, Scheme

KIND = Kind("deadline", ("限期完成", "deadline"), DeadlineRule,
            {"body": "濟南市", "obligation": "6.7", "published_at": "2017-06-16",
             "url": "http://www.jinan.gov.cn/…", "note": "實施方案"},
            perturb="time", counted=True)


def anchor_of(scheme: Scheme, rule: DeadlineRule) -> dt.date:
    """The day a deadline item exists from: its `after` anchor (the document's issue, the period's
    start or a date), else the scheme period's start (a publication dated before it is refused)."""
    if not isinstance(rule.due, DueAfter):
        return scheme.scheme.period.start
    after = rule.due.after
    return scheme.scheme.issued if after == "issued" else scheme.scheme.period.start if after == "period_start" else after


def due_of(scheme: Scheme, rule: DeadlineRule, cal: WorkCalendar) -> np.datetime64:
    """The due time of a deadline rule (a whole day ends at its last instant)."""
    if not isinstance(rule.due, DueAfter):
        return due_end_of_day(np.array([rule.due], dtype="datetime64[D]"))[0]
    return due_after(np.array([anchor_of(scheme, rule)], dtype="datetime64[D]"), rule.due.within, cal)[0]


def expand(x: Expansion, ob: Obligation, rule: DeadlineRule, rule_id: int, bodies: np.ndarray) -> None:
    due = np.array([due_of(x.scheme, rule, x.tables.calendar)], dtype="datetime64[ns]")
    x.out.grid(bodies, rule_id, np.array([x.out.label("deadline")]), due)
