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
SCHEME = make_scheme(  # issued at the period's start: every as_of drawn below is a date it can mean
    {"late_credit": 0.6, "rollup": {"counties": 0.3}, "issued": "2017-01-01"},
    CITIES + COUNTIES,
    [
        # monthly, two months merged into one item, a late credit of its own
        {"id": "1", "applies_to": ["city", "county"], "points": 3,
         "rules": [{"kind": "periodic", "frequency": "monthly", "within": {"working_days": 5},
                    "late_credit": 0.3, "merge": [["01", "02"]]}]},
        # deduction mode: two deadline rules of one obligation share the `deadline` item
        {"id": "2", "applies_to": ["city"], "points": 2, "mode": "deduction", "veto": True,
         "rules": [{"kind": "deadline", "due": {"after": "2017-05-04", "within": {"working_days": 30}},
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
    # only those that lost more than a threshold (the 整改通知書's rows): the same rows of the whole
    every = losses(card)
    pd.testing.assert_frame_equal(losses(card, lost_over=0.01),
                                  every[every["lost"] > 0.01].reset_index(drop=True))


# --- hostile review (issue 13): rules sharing labels, narrowed bodies, hours, merged periods beside
# other rules, a periodic rating on a periodic's labels, rubric checks named like items, events, veto,
# bonus, roll-up, an obligation with nothing of its grid due ---------------------------------------
H_BODIES = [{"id": "c0", "name": "甲市", "kind": "city"}, {"id": "c1", "name": "乙市", "kind": "city"},
            {"id": "x0", "name": "丙縣", "kind": "county", "parent": "c0"},
            {"id": "x1", "name": "丁縣", "kind": "county", "parent": "c0"},
            {"id": "d0", "name": "戊廳", "kind": "department"}]
HOSTILE = make_scheme({"late_credit": 0.4, "rollup": {"counties": 0.25}, "bonus": {"cap": 3, "gate": 10},
                      "issued": "2016-12-01"}, H_BODIES, [  # issued early: as_of is drawn from 2016-12-01
    {"id": "A", "applies_to": ["city", "county"], "points": 5, "rules": [
        # two deadline rules on the one `deadline` item, different dues and late credits
        {"kind": "deadline", "due": "2017-03-31"},
        {"kind": "deadline", "due": {"after": "issued", "within": {"days": 10}}, "late_credit": 0.9},
        # monthly twice: counties only, due 36 hours after the month; and Mar–Aug with Apr+May merged
        {"kind": "periodic", "frequency": "monthly", "within": {"hours": 36}, "bodies": ["county"]},
        {"kind": "periodic", "frequency": "monthly", "start": "2017-03", "end": "2017-08",
         "within": {"working_days": 3}, "merge": [["04", "05"]], "late_credit": 0.1},
        # a quarterly periodic and a quarterly rating on the same labels
        {"kind": "periodic", "frequency": "quarterly"},
        {"kind": "rating", "frequency": "quarterly"},
        # a rubric whose checks are named like the periodic's and the deadline's items
        {"kind": "checklist", "items": [{"id": "2017-Q1", "text": "q", "points": 2},
                                        {"id": "deadline", "text": "d", "points": 1}]}]},
    {"id": "B", "leads": ["d0", "c1"], "points": 4, "mode": "deduction", "veto": True, "rules": [
        {"kind": "periodic", "frequency": "quarterly", "within": {"days": 15}, "deduct": {"missing": 0.5, "late": 0.25}},
        {"kind": "periodic", "frequency": "quarterly", "within": {"days": 45}, "bodies": ["d0"],
         "deduct": {"missing": 0.3, "late": 0.2}},
        {"kind": "response", "steps": [{"name": "release", "within": {"hours": 5}}]}]},
    {"id": "C", "applies_to": ["city"], "points": 2, "bonus": True, "rules": [
        {"kind": "periodic", "frequency": "yearly", "within": {"days": 20}}]},
    # nothing of the grid is due in the period: only the count scores
    {"id": "D", "applies_to": ["department"], "points": 1, "rules": [
        {"kind": "deadline", "due": "2018-06-30"}, {"kind": "count", "min": 2}]},
])
H_ASSESSED = {"A": ["c0", "c1", "x0", "x1"], "B": ["d0", "c1"], "C": ["c0", "c1"], "D": ["d0"]}
H_PERIODS = {"A": ["", "2017-01", "2017-03", "2017-04", "2017-05", "2017-08", "2017-11", "2017-Q1", "2017-Q2", "2017-Q4"],
             "B": QUARTERS, "C": ["2017"], "D": [""]}
EVENTS = {"e1": dt.datetime(2017, 5, 1, 10), "e2": dt.datetime(2017, 9, 12, 22, 30)}
H_COLUMNS = ["body", "obligation", "period", "event", "event_at", "step", "published_at", "value"]


def period_start(period: str) -> dt.datetime:
    if not period or len(period) == 4:
        return dt.datetime(2017, 1, 1)
    return dt.datetime.combine(first_day(period), dt.time())


@st.composite
def hostile_rows(draw) -> list[dict]:
    out: list[dict] = []
    for _ in range(draw(st.integers(0, 40))):
        ob = draw(st.sampled_from(sorted(H_ASSESSED)))
        body = draw(st.sampled_from(H_ASSESSED[ob]))
        kind = draw(st.sampled_from(["publication"] * 3 + ["rating", "check", "event"]))
        r = {"body": body, "obligation": ob}
        if kind == "rating" and ob == "A":
            r.update(period=draw(st.sampled_from(["2017-Q1", "2017-Q2", "2017-Q4"])), value=str(draw(st.integers(0, 100))))
        elif kind == "check" and ob == "A":
            r.update(step=draw(st.sampled_from(["2017-Q1", "deadline"])), value=str(draw(st.integers(0, 1))))
        elif kind == "event" and ob == "B":
            event = draw(st.sampled_from(sorted(EVENTS)))
            when = EVENTS[event] + dt.timedelta(minutes=draw(st.integers(0, 60 * 30)))  # 5-hour window, crossing midnight
            r.update(event=event, event_at=f"{EVENTS[event]:%Y-%m-%d %H:%M}", step="release", published_at=f"{when:%Y-%m-%d %H:%M}")
        else:
            r["period"] = draw(st.sampled_from(H_PERIODS[ob]))
            if body[0] == "c" and r["period"] in ("2017-01", "2017-11"):  # cities' monthly items run Mar–Aug
                continue
        if "published_at" not in r:  # always with a time: obligation A has an `hours` window
            when = period_start(r.get("period", "")) + dt.timedelta(hours=draw(st.integers(0, 24 * 420)))
            r["published_at"] = f"{when:%Y-%m-%d %H:%M}"
        if r.get("value") and any(o.get("value") and all(o.get(k) == r.get(k) for k in ("body", "period", "step"))
                                  for o in out):
            continue  # one assessor, one value per item
        out.append(r)
    return out


def hostile_evidence(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=H_COLUMNS).astype(object).fillna("")
    if frame.empty:
        frame.loc[0] = ["d0", "D", "", "", "", "", "2017-05-01", ""]
    return validate(read_table(frame.to_csv(index=False).encode(), "e.csv"), HOSTILE, "e.csv")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_rows(), st.dates(dt.date(2016, 12, 1), dt.date(2018, 3, 1)))
def test_a_hostile_scheme_counts_as_it_judges(rows, as_of):
    """Counted credits, scores and gaps equal item-by-item ones; one body's findings judged alone and
    a listed kind's findings are the very rows of every finding."""
    ev = hostile_evidence(rows)
    card = score(HOSTILE, ev, as_of)
    assert_same_as_item_by_item(card)
    every = card.findings
    fresh = score(HOSTILE, ev, as_of)
    for body in (b["id"] for b in H_BODIES):
        pd.testing.assert_frame_equal(fresh.findings_of_body(body),
                                      every[(every["body"] == body).to_numpy()].reset_index(drop=True))
    for kind in ("response", "rating", "checklist", "count"):
        pd.testing.assert_frame_equal(fresh.findings_of_kind(kind), every[(every["kind"] == kind).to_numpy()].reset_index(drop=True))
    assert "findings" not in fresh.__dict__


def test_stored_empty_and_stray_evidence_score_alike():
    """The store hands the engine categoricals (unused categories and all), or an empty frame; rows of a
    body not assessed on an obligation, or not in the scheme, change nothing."""
    from scoring.intake.evidence import empty_evidence

    rows = [{"body": "c0", "obligation": "A", "published_at": "2017-03-30 10:00"},
            {"body": "x0", "obligation": "A", "period": "2017-03", "published_at": "2017-04-02 10:00"},
            {"body": "x0", "obligation": "A", "period": "2017-04", "published_at": "2017-06-02 10:00"},
            {"body": "c0", "obligation": "A", "period": "2017-Q1", "published_at": "2017-04-02 10:00", "value": "70"},
            {"body": "c0", "obligation": "A", "step": "2017-Q1", "published_at": "2017-04-02 10:00", "value": "1"},
            {"body": "d0", "obligation": "B", "period": "2017-Q1", "published_at": "2017-04-20 10:00"},
            {"body": "d0", "obligation": "B", "event": "e1", "event_at": "2017-05-01 10:00", "step": "release",
             "published_at": "2017-05-01 12:00"},
            {"body": "c1", "obligation": "C", "period": "2017", "published_at": "2018-01-02 10:00"}]
    ev = hostile_evidence(rows)
    as_of = dt.date(2017, 12, 31)
    plain = score(HOSTILE, ev, as_of)
    assert_same_as_item_by_item(plain)
    keys = ["body", "obligation", "period", "event", "step", "assessor", "record"]
    stored = ev.astype({c: "category" for c in keys})
    stored["body"] = stored["body"].cat.add_categories(["x1", "zz"])  # categories no row uses
    stray = pd.concat([ev, ev.iloc[[0, 1, 5]].assign(body=["d0", "zz", "x1"], obligation=["A", "A", "B"])],
                      ignore_index=True)  # d0 is not assessed on A, x1 not on B, zz is no body
    for other in (stored, stray):
        card = score(HOSTILE, other, as_of)
        assert_same_as_item_by_item(card)
        pd.testing.assert_frame_equal(card.scores, plain.scores)
        for body in ("c0", "d0", "x0"):
            pd.testing.assert_frame_equal(card.findings_of_body(body), plain.findings_of_body(body))
    nothing = score(HOSTILE, empty_evidence(), as_of)
    assert_same_as_item_by_item(nothing)
    # with no evidence every due item is missing: c1 and d0 are vetoed on B, nobody earns a periodic point
    assert set(nothing.scores.loc[nothing.scores["veto"] != "", "body"]) == {"c1", "d0"}
    assert (nothing.findings.loc[nothing.findings["kind"] == "periodic", "outcome"] == "missing").all()


def test_body_codes_beyond_int16():
    """33,001 bodies (codes past 32,767, as the store's categoricals then hold them in int32): counted by
    hand. Quarterly within 10 days (Q4 due 2018-01-10: not yet due) beside a deadline of 2017-06-30."""
    counties = [{"id": f"x{i:05d}", "name": f"縣{i:05d}", "kind": "county", "parent": "c0"} for i in range(33000)]
    nation = make_scheme({}, [{"id": "c0", "name": "甲市", "kind": "city"}, *counties], [
        {"id": "1", "applies_to": ["county", "city"], "points": 2, "rules": [
            {"kind": "periodic", "frequency": "quarterly", "within": {"days": 10}},
            {"kind": "deadline", "due": "2017-06-30"}]},
        {"id": "2", "leads": ["x32999", "x00000"], "points": 1, "rules": [{"kind": "count", "min": 1}]}])
    rows = pd.DataFrame([["x32999", "1", "2017-Q1", "2017-04-05"], ["x32999", "1", "2017-Q2", "2017-08-05"],
                         ["x32768", "1", "", "2017-06-05"], ["x32767", "1", "2017-Q3", "2017-10-01"],
                         ["x00001", "1", "2017-Q3", "2017-10-30"], ["x32999", "2", "", "2017-03-01"]],
                        columns=["body", "obligation", "period", "published_at"])
    ev = validate(read_table(rows.to_csv(index=False).encode(), "e.csv"), nation, "e.csv")
    for frame in (ev, ev.astype({"body": "category", "obligation": "category", "period": "category"})):
        card = score(nation, frame, dt.date(2017, 12, 31))
        credit = card.credits.set_index(["body", "obligation"])["credit"]
        # (periodic mean, deadline) averaged: Q1 on time, Q2 late (0.5), Q3 missing / deadline on time /
        # Q3 on time / Q3 late / nothing
        assert credit[("x32999", "1")] == pytest.approx((1.5 / 3 + 0) / 2)
        assert credit[("x32768", "1")] == pytest.approx((0 + 1) / 2)
        assert credit[("x32767", "1")] == pytest.approx((1 / 3 + 0) / 2)
        assert credit[("x00001", "1")] == pytest.approx((0.5 / 3 + 0) / 2)
        assert credit[("x00002", "1")] == 0 and credit[("x32999", "2")] == 1
    assert_same_as_item_by_item(card)
    assert list(card.findings_of_body("x32999")["outcome"]) == ["on_time", "late", "missing", "missing", "met"]


def test_a_merge_is_its_own_rules_not_its_obligations():
    """criteria/README.md: `merge` belongs to a periodic rule. A county's January item of an unmerged
    monthly rule, published on time, must not go missing because the cities' rule of the same
    obligation merges January into February (it did, counted and item by item alike, while merges
    were applied per obligation)."""
    two = make_scheme({}, [{"id": "c0", "name": "甲市", "kind": "city"},
                           {"id": "x0", "name": "乙縣", "kind": "county", "parent": "c0"}], [
        {"id": "1", "applies_to": ["city", "county"], "points": 2, "rules": [
            {"kind": "periodic", "frequency": "monthly", "end": "2017-03", "merge": [["01", "02"]], "bodies": ["city"]},
            {"kind": "periodic", "frequency": "monthly", "end": "2017-03", "bodies": ["county"]}]}])
    rows = pd.DataFrame([[b, "1", p, d] for b in ("c0", "x0")
                         for p, d in (("2017-01", "2017-01-20"), ("2017-02", "2017-02-20"), ("2017-03", "2017-03-20"))],
                        columns=["body", "obligation", "period", "published_at"])
    card = score(two, validate(read_table(rows.to_csv(index=False).encode(), "e.csv"), two, "e.csv"), dt.date(2017, 12, 31))
    assert_same_as_item_by_item(card)
    assert card.credits.set_index("body").loc["x0", "credit"] == 1.0
