"""request — test requests (驗證性申請): each request (`event`, `event_at` = the day it was received)
expects a `reply`, due the statutory number of working days after receipt; an `extension` notice
(延期答覆告知) dated within that first window extends it by `extension`. No reply by as_of is
missing, a reply after the window late."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.method.calendar import due_end_of_day
from scoring.method.kinds.base import Expansion, Kind, event_rows
from scoring.method.kinds.timed import judge as judge
from scoring.method.scheme import Obligation, RequestRule

REQUEST, REPLY, EXTENSION = "request", "reply", "extension"
REQUEST_STEPS = (REQUEST, REPLY, EXTENSION)


KIND = Kind("request", ("依申请公开答复时限", "test requests answered in time"), RequestRule,
            {"body": "濰坊市", "obligation": "6.5", "event": "R-2017-017", "event_at": "2017-09-04",
             "step": "reply", "published_at": "2017-09-20",
             "note": "驗證性申請：答覆（另可填 extension 延期答覆告知、request 申請本身）"},
            item_columns=("event", "step"), perturb="time")


def expand(x: Expansion, ob: Obligation, rule: RequestRule, rule_id: int, bodies: np.ndarray) -> None:
    rows, requests = event_rows(x, ob, rule)
    if rows.empty:
        return
    received = requests["event_at"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    cal = x.tables.calendar
    assert rule.within.working_days is not None
    first = due_end_of_day(cal.add_working_days(received, rule.within.working_days))
    due = first
    if rule.extension is not None:
        assert rule.extension.working_days is not None
        notices = rows[rows["step"] == EXTENSION].groupby(["body", "event"], observed=True)["published_at"].min()
        notice = notices.reindex(pd.MultiIndex.from_frame(requests[["body", "event"]])).to_numpy(dtype="datetime64[ns]")
        extended = ~np.isnat(notice) & (notice <= first)
        longer = due_end_of_day(cal.add_working_days(received, rule.within.working_days + rule.extension.working_days))
        due = np.where(extended, longer, first)
    labels = np.array([x.out.label(f"{e}/{REPLY}") for e in requests["event"].astype(str)])
    x.out.add(x.tables.bodies.get_indexer(requests["body"].astype(str)), rule_id, labels, due)
