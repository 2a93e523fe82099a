"""The quality kernels against hand-worked numbers: Cohen's κ, Krippendorff's α and raw agreement
(with their degenerate cases), the GB/T 2828.1 table at every lot boundary, and a seeded draw."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring.errors import GongkaiError
from scoring.intake.sampling_plan import sampling_plan
from scoring.method.agreement import (
    agreement_table,
    alphas,
    bootstrap,
    cohen_kappa,
    kappas,
    kripp_alpha,
)
from scoring.method.sampling import code_letter, draw, fixed_plan, lot_plan


@pytest.mark.parametrize(("first", "second", "kappa"), [
    # 6 items: 2×2 table [[2,1],[0,3]]: p_o = 5/6; marginals 3,3 and 2,4: p_e = (3·2+3·4)/36 = 1/2; κ = (5/6−1/2)/(1/2)
    (["on_time"] * 3 + ["late"] * 3, ["on_time", "on_time", "late", "late", "late", "late"], 2 / 3),
    # all agree over two categories: p_o = 1 → κ = 1
    (["on_time", "late", "late"], ["on_time", "late", "late"], 1.0),
    # systematic disagreement: [[0,2],[2,0]]: p_o = 0, p_e = 1/2 → κ = −1
    (["pass", "pass", "fail", "fail"], ["fail", "fail", "pass", "pass"], -1.0),
    # three categories [[1,1,0],[0,2,0],[0,0,1]]: p_o = 4/5; rows 2,2,1, cols 1,3,1: p_e = (2+6+1)/25 = 9/25; κ = (4/5−9/25)/(16/25) = 11/16
    (["on_time", "on_time", "late", "late", "missing"], ["on_time", "late", "late", "late", "missing"], 11 / 16),
])
def test_kappa_by_hand(first, second, kappa):
    assert cohen_kappa(first, second) == pytest.approx(kappa)


def test_vectorised_kappa_is_statsmodels_kappa():
    # the bootstrap's numpy κ against statsmodels' on random readings (and on the resample that is the sample)
    rng = np.random.default_rng(5)
    cats = np.array(["on_time", "late", "missing"])
    for _ in range(30):
        a, b = cats[rng.integers(0, 3, 12)], cats[rng.integers(0, 3, 12)]
        resamples = np.vstack([np.arange(12), rng.integers(0, 12, (4, 12))])
        got = kappas(a, b, resamples)
        want = [cohen_kappa(a[i], b[i]) for i in resamples]
        assert np.allclose(got, want, equal_nan=True)
    assert math.isnan(kappas(np.array(["pass"] * 3), np.array(["pass"] * 3), np.array([[0, 1, 2]]))[0])


def test_kappa_of_one_category_is_undefined():
    # all agree, on one category only: p_e = 1 and κ = 0/0 — NaN (shown as "—"), never 1.0 or 0
    assert math.isnan(cohen_kappa(["on_time"] * 4, ["on_time"] * 4))
    assert math.isnan(cohen_kappa([], []))


def test_alpha_by_hand():
    # ratings (80,80) (90,85) (70,70) (60,65): D_o = 2·(0+25+0+25)/8 = 12.5;
    # values' mean 75, Σ(v−75)² = 750, D_e = 2·8·750/(8·7) = 214.2857…; α = 1 − 12.5/214.2857 = 0.941666…
    assert kripp_alpha([80, 90, 70, 60], [80, 85, 70, 65]) == pytest.approx(1 - 12.5 / (12000 / 56))
    assert kripp_alpha([80, 90], [80, 90]) == pytest.approx(1.0)
    # one value only: no variation to correct for → NaN
    assert math.isnan(kripp_alpha([80, 80], [80, 80]))
    # an item without its second rating is left out: the same α as without it
    assert kripp_alpha([80, 90, 70, 60, 50], [80, 85, 70, 65, np.nan]) == pytest.approx(1 - 12.5 / (12000 / 56))


def test_vectorised_alpha_is_the_krippendorff_package():
    # the bootstrap's numpy α against the `krippendorff` package on random ratings with missing second
    # readings (and on the resample that is the sample); the hand-worked α; one value, no item: NaN
    rng = np.random.default_rng(11)
    for _ in range(40):
        a = rng.integers(5, 10, 9).astype(float) * 10
        b = a + rng.choice([0.0, 0.0, -5.0, 10.0], 9)
        b[rng.random(9) < 0.2] = np.nan
        resamples = np.vstack([np.arange(9), rng.integers(0, 9, (5, 9))])
        assert np.allclose(alphas(a, b, resamples), [kripp_alpha(a[i], b[i]) for i in resamples], equal_nan=True)
    hand = alphas(np.array([80.0, 90, 70, 60]), np.array([80.0, 85, 70, 65]), np.array([[0, 1, 2, 3], [0, 0, 2, 2]]))
    assert hand[0] == pytest.approx(1 - 12.5 / (12000 / 56)) and hand[1] == pytest.approx(1.0)  # (80,80)²(70,70)²
    assert math.isnan(alphas(np.array([80.0, 90]), np.array([80.0, 90]), np.array([[1, 1]]))[0])  # (90,90)²: one value
    assert math.isnan(alphas(np.array([80.0]), np.array([np.nan]), np.array([[0]]))[0])


def _pairs(rows):
    return pd.DataFrame(rows, columns=["obligation", "kind", "first", "second", "first_value", "second_value"])


def test_agreement_table_per_group():
    pairs = _pairs([
        ("1.1", "periodic", "on_time", "on_time", np.nan, np.nan),
        ("1.1", "periodic", "on_time", "late", np.nan, np.nan),
        ("1.1", "periodic", "late", "late", np.nan, np.nan),
        ("1.1", "periodic", "missing", "missing", np.nan, np.nan),
        ("9.9", "rating", "rated", "rated", 80.0, 80.0),
        ("9.9", "rating", "rated", "rated", 90.0, 85.0),
        ("9.9", "rating", "rated", "rated", 70.0, 70.0),
        ("9.9", "rating", "rated", "rated", 60.0, 65.0),
    ])
    table = agreement_table(pairs, "obligation", seed=7, draws=200)
    assert list(table.columns) == ["group", "n", "agreement", "kappa", "alpha", "low", "high"]
    one, rated = table.iloc[0], table.iloc[1]
    # 1.1: 3 of 4 agree; table [[on_time→on_time 1, on_time→late 1],[late 1],[missing 1]]:
    # p_o = 3/4; first: on_time 2, late 1, missing 1; second: on_time 1, late 2, missing 1;
    # p_e = (2·1 + 1·2 + 1·1)/16 = 5/16; κ = (3/4 − 5/16)/(11/16) = 7/11
    assert (one["group"], one["n"], one["agreement"]) == ("1.1", 4, 0.75)
    assert one["kappa"] == pytest.approx(7 / 11) and math.isnan(one["alpha"])
    # 9.9: two of four ratings equal; α as by hand above; no κ
    assert (rated["n"], rated["agreement"]) == (4, 0.5)
    assert math.isnan(rated["kappa"]) and rated["alpha"] == pytest.approx(0.9416666)
    assert one["low"] <= one["kappa"] <= one["high"] and rated["low"] <= rated["high"] <= 1.0
    # seeded: the same pairs and seed give the same interval; another seed may not
    assert agreement_table(pairs, "obligation", seed=7, draws=200).equals(table)


def test_bootstrap_of_perfect_agreement_over_two_categories():
    pairs = _pairs([("1", "deadline", x, x, np.nan, np.nan) for x in ["on_time", "late"] * 5])
    # every resample with both categories has κ = 1; those with one only are undefined and left out
    assert bootstrap(pairs, seed=1, draws=100) == (1.0, 1.0)


@pytest.mark.parametrize(("lot", "letter", "n", "ac", "re"), [
    # lot → code letter (level II); AQL 2.5: E's ↓ takes F's plan (20, 1/2); D's ↑ takes C's (5, 0/1)
    (8, "A", 5, 0, 1), (9, "B", 5, 0, 1), (15, "B", 5, 0, 1), (16, "C", 5, 0, 1), (25, "C", 5, 0, 1),
    (26, "D", 5, 0, 1), (50, "D", 5, 0, 1), (51, "E", 20, 1, 2),
    (90, "E", 20, 1, 2), (91, "F", 20, 1, 2),
    (150, "F", 20, 1, 2), (151, "G", 32, 2, 3),
    (280, "G", 32, 2, 3), (281, "H", 50, 3, 4),
    (500, "H", 50, 3, 4), (501, "J", 80, 5, 6),
    (1200, "J", 80, 5, 6), (1201, "K", 125, 7, 8),
    (3200, "K", 125, 7, 8), (3201, "L", 200, 10, 11),
    (10000, "L", 200, 10, 11), (10001, "M", 315, 14, 15),
    (150001, "P", 500, 21, 22), (600000, "Q", 500, 21, 22),
])
def test_sample_size_table_at_its_boundaries(lot, letter, n, ac, re):
    p = lot_plan(sampling_plan(), lot)
    assert (p.letter, p.n, p.ac, p.re) == (letter, n, ac, re)


def test_sample_size_never_exceeds_the_lot_and_other_aqls():
    plan = sampling_plan()
    assert lot_plan(plan, 3).n == 3  # A → C's plan (5): a lot of 3 is inspected whole
    assert lot_plan(plan, 1).n == 1
    assert (lot_plan(plan, 1000, "1.0").n, lot_plan(plan, 1000, "1.0").ac) == (80, 2)
    assert (lot_plan(plan, 1000, "4.0").n, lot_plan(plan, 1000, "4.0").ac) == (80, 7)
    assert code_letter(plan, 35000) == "M" and code_letter(plan, 35001) == "N"
    with pytest.raises(GongkaiError, match=r"--aql 3.0: the table has AQL 1.0, 2.5, 4.0, 6.5"):
        lot_plan(plan, 100, "3.0")
    assert (fixed_plan(plan, 400, 40).n, fixed_plan(plan, 400, 40).ac) == (40, 2)  # G's 32: Ac 2


def test_draw_is_reproducible_and_ignores_row_order():
    pop = pd.DataFrame([(f"b{i % 7}", f"{i % 3}.1", f"2017-{i % 12 + 1:02d}", "甲" if i % 2 else "乙")
                        for i in range(84)], columns=["body", "obligation", "item", "firm"]).drop_duplicates(
        ["body", "obligation", "item"])
    a = draw(pop, size=None, by=None, seed=42, plan=sampling_plan())
    b = draw(pop.sample(frac=1, random_state=3), size=None, by=None, seed=42, plan=sampling_plan())
    assert len(a) == 20 and a[["body", "obligation", "item"]].equals(b[["body", "obligation", "item"]])
    c = draw(pop, size=None, by=None, seed=43, plan=sampling_plan())
    assert not a[["body", "obligation", "item"]].equals(c[["body", "obligation", "item"]])
    per_firm = draw(pop, size=4, by="firm", seed=42, plan=sampling_plan())
    assert per_firm.groupby("stratum").size().to_dict() == {"乙": 4, "甲": 4}
    with pytest.raises(GongkaiError, match="--by 'city' is not one of: body, obligation, firm"):
        draw(pop, size=None, by="city", seed=1, plan=sampling_plan())


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), seed=st.integers(0, 2**31), shuffle=st.integers(0, 1000),
       by=st.sampled_from([None, "firm"]))
def test_a_draw_is_the_same_whatever_the_row_order(n, seed, shuffle, by):
    pop = pd.DataFrame({"body": [f"b{i:03d}" for i in range(n)], "obligation": "6.7", "item": "deadline",
                        "firm": ["甲" if i % 3 else "乙" for i in range(n)]})
    a = draw(pop, size=None, by=by, seed=seed, plan=sampling_plan())
    b = draw(pop.sample(frac=1, random_state=shuffle), size=None, by=by, seed=seed, plan=sampling_plan())
    assert a["body"].tolist() == b["body"].tolist()
    assert a["body"].is_unique
    for _, lot in a.groupby("stratum"):
        assert len(lot) == lot_plan(sampling_plan(), int(lot["lot"].iloc[0])).n


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["on_time", "late", "missing"]),
                          st.sampled_from(["on_time", "late", "missing"])), min_size=1, max_size=30))
def test_kappa_stays_within_its_bounds(pairs):
    a, b = zip(*pairs, strict=True)
    k = cohen_kappa(list(a), list(b))
    assert math.isnan(k) or -1 - 1e-9 <= k <= 1 + 1e-9
    if a == b and len(set(a)) > 1:
        assert k == pytest.approx(1.0)
