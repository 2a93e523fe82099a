"""Scoring counts deadline and periodic items instead of listing them (engine `_grid_sums`): the
credits, scores and gaps it gives must be exactly what judging every item one by one gives —
`card.findings`, worked out on demand, is that item-by-item judgement."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.engine import credits, rescore, score
from tests.conftest import make_scheme

CITIES = [{"id": f"c{i}", "name": f"城{i}市", "kind": "city"} for i in range(3)]
COUNTIES = [{"id": f"x{i}", "name": f"縣{i}", "kind": "county", "parent": f"c{i % 3}"} for i in range(4)]
SCHEME = make_scheme(
    {"late_credit": 0.6, "rollup": {"counties": 0.3}},
    CITIES + COUNTIES,
    [
        # monthly, two months merged into one item, a late credit of its own
        {"id": "1", "applies_to": ["city", "county"], "points": 3,
         "rules": [{"kind": "periodic", "frequency": "monthly", "within": {"working_days": 5},
                    "late_credit": 0.3, "merge": [["01", "02"]]}]},
        # deduction mode: two deadline rules of one obligation share the `deadline` item
        {"id": "2", "applies_to": ["city"], "points": 2, "mode": "deduction", "veto": True,
         "rules": [{"kind": "deadline", "due": {"after": "issued", "within": {"working_days": 30}},
                    "deduct": {"missing": 0.7, "late": 0.3}},
                   {"kind": "deadline", "due": "2017-09-30", "deduct": {"missing": 0.1, "late": 0.1}}]},
        # leads only, quarterly from Q2, beside a count rule (listed) in the same obligation
        {"id": "3", "leads": ["c1", "x2"], "points": 4,
         "rules": [{"kind": "periodic", "frequency": "quarterly", "start": "2017-Q2"},
                   {"kind": "count", "min": 2}]},
        {"id": "4", "applies_to": ["county"], "points": 1, "mode": "deduction",
         "rules": [{"kind": "periodic", "frequency": "quarterly", "within": {"days": 20},
                    "deduct": {"missing": 0.4, "late": 0.15}}]},
        {"id": "5", "applies_to": ["city"], "points": 2, "rules": [{"kind": "rating"}]},
    ],
)
MONTHS = [f"2017-{m:02d}" for m in range(1, 13)]
QUARTERS = ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
PERIODS = {"1": MONTHS, "3": QUARTERS, "4": QUARTERS}
BODIES = {"1": [b["id"] for b in CITIES + COUNTIES], "2": [b["id"] for b in CITIES], "3": ["c1", "x2"],
          "4": [b["id"] for b in COUNTIES]}
days = st.integers(min_value=0, max_value=400)


def first_day(period: str) -> dt.date:
    if "Q" in period:
        return dt.date(2017, 3 * int(period[-1]) - 2, 1)
    return dt.date(2017, int(period[5:]), 1) if period else dt.date(2017, 5, 4)


@st.composite
def evidence_rows(draw) -> list[dict]:
    rows = []
    for ob, periods in PERIODS.items():
        for body in BODIES[ob]:
            for p in periods:
                for _ in range(draw(st.integers(0, 2))):  # none, one, or two sightings
                    rows.append({"body": body, "obligation": ob, "period": p, "value": "",
                                 "published_at": str(first_day(p) + dt.timedelta(days=draw(days)))})
    for body in BODIES["2"] + ["c1"]:
        if draw(st.booleans()):
            ob = "2" if body != "c1" or draw(st.booleans()) else "3"
            rows.append({"body": body, "obligation": ob, "period": "", "value": "",
                         "published_at": str(first_day("") + dt.timedelta(days=draw(days)))})
    for body in BODIES["2"]:
        if draw(st.booleans()):
            rows.append({"body": body, "obligation": "5", "period": "", "published_at": "",
                         "value": str(draw(st.integers(0, 100)))})
    return rows


def evidence(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["body", "obligation", "period", "published_at", "value"])
    if frame.empty:
        frame.loc[0] = ["c0", "5", "", "", "50"]
    return validate(read_table(frame.to_csv(index=False).encode(), "e.csv"), SCHEME, "e.csv")


def assert_same_as_item_by_item(card) -> None:
    """The counted credits equal the credits of every item judged one by one, and so do the scores."""
    one_by_one = credits(card.findings, card.scheme)
    pd.testing.assert_frame_equal(card.credits, one_by_one, check_exact=False, rtol=1e-12, atol=1e-12)
    gaps, scores = rescore(card.scheme, one_by_one)
    pd.testing.assert_frame_equal(card.scores, scores, check_exact=False, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(card.obligations["gap"], gaps["gap"], rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence_rows(), st.dates(dt.date(2017, 1, 15), dt.date(2018, 3, 1)))
def test_counted_items_score_as_items_judged_one_by_one(rows, as_of):
    assert_same_as_item_by_item(score(SCHEME, evidence(rows), as_of))


def test_a_hand_counted_body():
    """c0 on obligation 1 (11 monthly items: 01 and 02 merged, due the 5th working day after): the
    merged item published on time, March late, June's after the assessment date → items due by
    2017-05-31: 01/02 (due 2017-03-07), 03 (due 04-10: 04-01 is a working Saturday, 04-03/04 Qingming),
    04 (due 05-08) → (1 + 0.3 + 0) / 3."""
    rows = [{"body": "c0", "obligation": "1", "period": "2017-01", "published_at": "2017-03-01", "value": ""},
            {"body": "c0", "obligation": "1", "period": "2017-03", "published_at": "2017-04-20", "value": ""},
            {"body": "c0", "obligation": "1", "period": "2017-06", "published_at": "2017-06-02", "value": ""}]
    card = score(SCHEME, evidence(rows), dt.date(2017, 5, 31))
    c0 = card.credits.set_index(["body", "obligation"]).loc[("c0", "1")]
    assert c0["credit"] == pytest.approx(1.3 / 3)
    assert bool(c0["has_missing"])
    # c0 on obligation 2 (deduction, veto): both deadline rules' items missing... the first is due
    # 2017-06-16 and the second 09-30: neither due by 05-31, so the obligation is N/A
    assert np.isnan(card.credits.set_index(["body", "obligation"]).loc[("c0", "2"), "credit"])
    assert_same_as_item_by_item(card)


def test_the_2017_scheme_with_its_demo_evidence(scheme_2017, demo_evidence):
    for as_of in (dt.date(2017, 6, 30), dt.date(2017, 12, 31), scheme_2017.default_as_of):
        assert_same_as_item_by_item(score(scheme_2017, demo_evidence, as_of))


def test_a_synthetic_nation():
    from scoring.synthetic import synth

    nation = synth.national(cities=12, counties=40, departments=5, channels=2)
    card = score(nation, synth.evidence(nation, seed=3), dt.date(2017, 10, 31))
    assert_same_as_item_by_item(card)


def test_a_ranking_lists_no_item_and_the_findings_come_when_asked(scheme_2017, demo_evidence):
    card = score(scheme_2017, demo_evidence)
    assert "findings" not in card.__dict__ and "items" not in card.__dict__
    share = card.findings_of_kind("share")
    assert "findings" not in card.__dict__  # shares are listed: no need to list every item for them
    assert set(share["kind"]) == {"share"}
    pd.testing.assert_frame_equal(share, card.findings[card.findings["kind"] == "share"].reset_index(drop=True))
    assert set(card.findings["kind"]) >= {"deadline", "periodic", "share"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence_rows(), st.dates(dt.date(2017, 3, 1), dt.date(2018, 3, 1)))
def test_one_body_judged_alone_gets_its_rows_of_every_finding(rows, as_of):
    ev = evidence(rows)
    alone = score(SCHEME, ev, as_of)
    own = {b: alone.findings_of_body(b) for b in BODIES["1"]}
    assert "findings" not in alone.__dict__  # judged for each body alone, not from the whole list
    every = score(SCHEME, ev, as_of).findings
    for body, found in own.items():
        pd.testing.assert_frame_equal(found, every[(every["body"] == body).to_numpy()].reset_index(drop=True))


def test_a_gaps_page_explains_one_body_without_listing_every_item(scheme_2017, demo_evidence):
    from scoring.method.explain import explained, lateness, losses

    card = score(scheme_2017, demo_evidence)
    body = card.scores["body"].iloc[-1]
    found = explained(card, body)
    assert "findings" not in card.__dict__
    whole = losses(card)  # every finding listed, then the body's taken
    whole = whole[whole["body"] == body].merge(lateness(card), on=["body", "obligation", "rule", "item"], how="left")
    assert len(found) == len(whole) and found["lost"].sum() == pytest.approx(whole["lost"].sum())
    assert found["lost"].sum() == pytest.approx(card.obligations.loc[card.obligations["body"] == body, "gap"].sum())
