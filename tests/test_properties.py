"""Properties of the engine (hypothesis): bounds, order independence, monotonicity in publication time."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.engine import score
from tests.conftest import make_scheme

BODIES = [{"id": f"c{i}", "name": f"城{i}市", "kind": "city"} for i in range(3)]
SCHEME = make_scheme(
    {"bonus": {"cap": 5, "gate": 60}},
    BODIES,
    [
        {"id": "1", "applies_to": ["city"], "points": 3,
         "rules": [{"kind": "periodic", "frequency": "quarterly", "within": {"working_days": 10}}]},
        {"id": "2", "applies_to": ["city"], "points": 2, "mode": "deduction",
         "rules": [{"kind": "deadline", "due": {"after": "issued", "within": {"working_days": 30}}}]},
        {"id": "3", "applies_to": ["city"], "points": 4, "rules": [{"kind": "rating"}]},
        {"id": "4", "applies_to": ["city"], "points": 6, "bonus": True, "rules": [{"kind": "rating"}]},
    ],
)
QUARTERS = ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
days = st.integers(min_value=0, max_value=420)
# the day each item can first be evidenced (earlier dates are refused: criteria/README.md)
FIRST = {q: dt.date(2017, 3 * n - 2, 1) for n, q in enumerate(QUARTERS, 1)} | {"": dt.date(2017, 5, 4)}


@st.composite
def evidence_rows(draw):
    rows = []
    for b in BODIES:
        for q in QUARTERS:
            if draw(st.booleans()):
                rows.append({"body": b["id"], "obligation": "1", "period": q,
                             "published_at": str(FIRST[q] + dt.timedelta(days=draw(days))), "value": ""})
        if draw(st.booleans()):
            rows.append({"body": b["id"], "obligation": "2", "period": "",
                         "published_at": str(FIRST[""] + dt.timedelta(days=draw(days))), "value": ""})
        for ob in ("3", "4"):
            if draw(st.booleans()):
                rows.append({"body": b["id"], "obligation": ob, "period": "", "published_at": "",
                             "value": str(draw(st.integers(0, 100)))})
    return rows


def scores_of(rows: list[dict]) -> pd.Series:
    frame = pd.DataFrame(rows, columns=["body", "obligation", "period", "published_at", "value"])
    if frame.empty:
        frame.loc[0] = ["c0", "3", "", "", "0"]
    ev = validate(read_table(frame.to_csv(index=False).encode(), "p.csv"), SCHEME, "p.csv")
    return score(SCHEME, ev, dt.date(2018, 1, 31)).scores.set_index("body")["score"].sort_index()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence_rows())
def test_scores_stay_within_bounds(rows):
    s = scores_of(rows)
    assert ((s >= 0) & (s <= 100 + 5 + 1e-9)).all()


@settings(max_examples=40, deadline=None)
@given(evidence_rows(), st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    pd.testing.assert_series_equal(scores_of(rows), scores_of(shuffled))


@settings(max_examples=60, deadline=None)
@given(evidence_rows(), st.data())
def test_publishing_earlier_never_lowers_a_score(rows, data):
    dated = [i for i, r in enumerate(rows) if r["published_at"]]
    if not dated:
        return
    i = data.draw(st.sampled_from(dated))
    earlier = [dict(r) for r in rows]
    when = dt.date.fromisoformat(earlier[i]["published_at"])
    first = FIRST[earlier[i]["period"]]
    if when <= first:
        return
    earlier[i]["published_at"] = str(max(first, when - dt.timedelta(days=data.draw(st.integers(1, 200)))))
    before, after = scores_of(rows), scores_of(earlier)
    assert (after >= before - 1e-9).all()
