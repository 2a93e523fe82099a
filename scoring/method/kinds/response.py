"""response — event-driven: each event found in a body's evidence (`event`, `event_at`) expects
each step (`release` within 5 hours, `press_conference` within 24 …) after the event. A body with
no event has no item: the obligation is N/A for it."""

from __future__ import annotations

import numpy as np

from scoring.method.kinds.base import Expansion, Kind, due_after, event_rows
from scoring.method.kinds.timed import judge as judge
from scoring.method.scheme import Obligation, ResponseRule

KIND = Kind("response", ("限时回应", "timely response"), ResponseRule,
            {"body": "臨沂市", "obligation": "6.3", "event": "E-20170714",
             "event_at": "2017-07-14 09:20", "step": "release", "published_at": "2017-07-14 12:00"},
            item_columns=("event", "step"), perturb="time")


def expand(x: Expansion, ob: Obligation, rule: ResponseRule, rule_id: int, bodies: np.ndarray) -> None:
    rows, events = event_rows(x, ob, rule)
    if rows.empty:
        return
    at = events["event_at"].to_numpy(dtype="datetime64[ns]")
    codes = x.tables.bodies.get_indexer(events["body"].astype(str))
    for step in rule.steps:
        labels = np.array([x.out.label(f"{e}/{step.name}") for e in events["event"].astype(str)])
        x.out.add(codes, rule_id, labels, due_after(at.astype("datetime64[D]"), step.within, x.tables.calendar, times=at))
