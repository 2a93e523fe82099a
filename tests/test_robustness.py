"""Rank robustness: hand-computed probabilities, determinism, zero spread, the command line."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method import robustness as R
from scoring.method.compiled import compiled
from scoring.method.engine import score
from scoring.method.robustness import Spread, robustness
from tests.cli import gongkai
from tests.conftest import make_scheme
from tests.test_engine_summary import HOSTILE, hostile_evidence, hostile_rows


@pytest.fixture(scope="module")
def two_rated_cities():
    """Two cities, one rated obligation: A rated 80, B rated 78; grades A ≥ 80, B ≥ 75."""
    scheme = make_scheme(
        header={"grades": [{"name": "A", "min": 80}, {"name": "B", "min": 75}, {"name": "C", "min": 0}]},
        bodies=[{"id": "a", "name": "甲市", "kind": "city"}, {"id": "b", "name": "乙市", "kind": "city"}],
        obligations=[{"id": "6.4", "applies_to": ["city"], "points": 3, "rules": [{"kind": "rating"}]}])
    data = "單位,任務編號,分值\n甲市,6.4,80\n乙市,6.4,78\n".encode()
    return score(scheme, validate(read_table(data, "r.csv"), scheme, "r.csv"))


def test_probabilities_match_the_hand_computation(two_rated_cities):
    """With ratings ± U(0, 5): A keeps grade A iff its noise ≥ 0 (1/2); B keeps B iff −3 ≤ noise < 2
    (1/2); B overtakes A iff B's noise − A's > 2, a triangular tail of (10 − 2)² / 200 = 0.32 — so
    A's 95th-percentile rank is 2 and its median rank 1."""
    r = robustness(two_rated_cities, draws=20_000, seed=7).set_index("body")
    assert r.loc["a", "p_same_grade"] == pytest.approx(0.5, abs=0.015)
    assert r.loc["b", "p_same_grade"] == pytest.approx(0.5, abs=0.015)
    assert (r.loc["a", ["rank", "rank_p05", "rank_p50", "rank_p95"]].tolist()) == [1, 1, 1, 2]
    assert (r.loc["b", ["rank", "rank_p05", "rank_p50", "rank_p95"]].tolist()) == [2, 1, 2, 2]


def test_deterministic_for_a_seed_and_zero_spread_collapses(scheme_2017, demo_evidence):
    card = score(scheme_2017, demo_evidence)
    once, again = robustness(card, draws=200, seed=3), robustness(card, draws=200, seed=3)
    pd.testing.assert_frame_equal(once, again)
    assert not once.equals(robustness(card, draws=200, seed=4))
    still = robustness(card, draws=50, seed=3, spread=Spread(0.0, (0.5, 0.5), 0.0))
    assert (still["rank_p05"] == still["rank"]).all() and (still["rank_p95"] == still["rank"]).all()
    assert (still["p_same_grade"] == 1.0).all()
    assert still["body"].tolist() == card.scores.dropna(subset=["score"])["body"].tolist()


@pytest.mark.parametrize(("args", "message"), [
    (["--late-credit", "0.7:0.3"], "late credit low ≤ high"),
    (["--late-credit", "half"], "--late-credit 'half'"),
    (["--points-spread", "1.5"], "points spread in [0, 1)"),
])
def test_cli_refuses_bad_spreads(tmp_path, args, message):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    r = gongkai("robustness", "--db", db, *args)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_cli_csv_columns(tmp_path):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert gongkai("demo", "--db", db).returncode == 0
    r = gongkai("robustness", "--db", db, "--draws", "100", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "body,kind,rank,rank_p05,rank_p50,rank_p95,grade,p_same_grade"
    from scoring import SCHEME_FILE
    from scoring.method.scheme import load_scheme

    assert len(r.stdout.splitlines()) == 1 + len(load_scheme(SCHEME_FILE).bodies)


def test_the_annual_report_has_a_robustness_section(tmp_path):
    """The report names each body's rank interval and flags uncertain grades (html and xlsx)."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert gongkai("demo", "--db", db).returncode == 0
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    r = gongkai("report", "--db", db, "--out", str(html), "--out", str(xlsx))
    assert r.returncode == 0, r.stderr
    page = html.read_text(encoding="utf-8")
    assert 'id="report_robustness"' in page and "名次区间（5%–95%）" in page and "等次不确定" in page
    sheet = pd.read_excel(xlsx, sheet_name="排名稳健性", engine="calamine")
    assert list(sheet.columns) == ["单位", "类别", "名次", "名次区间（5%–95%）", "等次", "等次保持概率"]


# ---- the matrix form of a draw equals the tally-by-tally one --------------------------------------

def tally_by_tally(card, t, points: np.ndarray, late_credit: np.ndarray,
            rating_noise: np.ndarray) -> np.ndarray:
    """The draws' scores worked out tally by tally (the form before the matrix one): the oracle."""
    h = card.scheme.scheme
    n_body = len(compiled(card.scheme).bodies)
    rated = ~np.isnan(t.rating)
    rating = np.clip(np.where(rated, t.rating, 0.0) + rating_noise, 0.0, 100.0)
    credit = np.where(rated, rating / 100 * t.rated / t.n,  # a period without a grade counts 0
                      (t.on_time + late_credit[:, None] * t.late + t.other) / t.n)
    deducted_rule = t.fixed_deduction + t.d_missing * (t.rated * (1 - rating / 100) + (t.n - t.rated))
    starts = np.flatnonzero(np.r_[True, t.pair[1:] != t.pair[:-1]])
    pair_credit = np.add.reduceat(credit, starts, axis=1) / t.rules_in_pair
    pair_deducted = np.add.reduceat(deducted_rule, starts, axis=1)
    p = points[:, t.pair_ob]
    earned = np.where(t.deduction, np.maximum(0.0, p - pair_deducted), p * pair_credit)
    base_rows = ~t.bonus
    e_sum = R._per_body(earned[:, base_rows], t.pair_body[base_rows], n_body)
    p_sum = R._per_body(p[:, base_rows], t.pair_body[base_rows], n_body)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(p_sum > 0, 100 * e_sum / p_sum, np.nan)
    score = base
    if t.bonus.any():
        bonus = R._per_body(earned[:, ~base_rows], t.pair_body[~base_rows], n_body)
        if h.bonus is not None:
            bonus = np.where(base >= h.bonus.gate, np.minimum(bonus, h.bonus.cap), 0.0)
        score = base + bonus
    if h.rollup is not None:
        w = h.rollup.counties
        for city, counties in t.rollup:
            score[:, city] = (1 - w) * score[:, city] + w * np.nanmean(score[:, counties], axis=1)
    return score


DEDUCTED_RATING = make_scheme(
    {"rollup": {"counties": 0.3}, "bonus": {"cap": 2, "gate": 50}, "issued": "2016-12-01"},
    [{"id": "c0", "name": "甲市", "kind": "city"}, {"id": "c1", "name": "乙市", "kind": "city"},
     {"id": "x0", "name": "丙縣", "kind": "county", "parent": "c0"}],
    [{"id": "R", "applies_to": ["city", "county"], "points": 5, "mode": "deduction", "rules": [
        {"kind": "rating", "frequency": "quarterly", "deduct": {"missing": 0.5}},
        {"kind": "periodic", "frequency": "quarterly", "deduct": {"missing": 0.25, "late": 0.1}}]},
     {"id": "P", "applies_to": ["city", "county"], "points": 3, "rules": [
         {"kind": "rating", "frequency": "quarterly"}, {"kind": "periodic", "frequency": "quarterly"}]},
     {"id": "B", "applies_to": ["city"], "points": 2, "bonus": True, "rules": [{"kind": "rating"}]}])
DEDUCTED_ROWS = """單位,任務編號,期間,發佈時間,分值
甲市,R,2017-Q1,2017-04-03,70
甲市,R,2017-Q2,2017-08-20,55
乙市,R,2017-Q1,2017-04-03,90
丙縣,R,2017-Q3,2017-10-09,
甲市,P,2017-Q1,2017-04-05,88
乙市,P,2017-Q2,2017-09-01,61
丙縣,P,2017-Q1,2017-04-05,40
甲市,B,,2017-12-01,80
"""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_rows(), st.dates(dt.date(2017, 3, 1), dt.date(2018, 3, 1)), st.integers(0, 2**31))
def test_a_draw_scores_as_tally_by_tally(rows, as_of, seed):
    """Bonus, roll-up, deduction mode (with and without ratings), late credits and ratings: the matrix
    form gives every draw the scores the per-tally formula gives, on the engine's hostile scheme and
    on one whose deduction-mode obligation is rated."""
    rated = score(DEDUCTED_RATING, validate(read_table(DEDUCTED_ROWS.encode(), "d.csv"), DEDUCTED_RATING, "d.csv"),
                  as_of)
    for card in (score(HOSTILE, hostile_evidence(rows), as_of), rated):
        t = R._tallies(card)
        rng = np.random.default_rng(seed)
        n_ob = len(compiled(card.scheme).obligations)
        points = rng.uniform(0.5, 6, size=(7, n_ob))
        late, noise = rng.uniform(0, 1, size=7), rng.uniform(-30, 30, size=(7, len(t.n)))
        np.testing.assert_allclose(R._scores(card, t, points, late, noise), tally_by_tally(card, t, points, late, noise),
                                   rtol=1e-12, atol=1e-9)


def test_the_report_reads_the_rank_intervals_kept_with_its_run(tmp_path, monkeypatch):
    """The report's rank intervals are a function of the run alone: worked out when the result is
    published, kept beside the database's snapshots under the run's identity, and read by every
    report of that run (1,000 draws are not drawn again); a new evidence state is a new run, with
    intervals of its own."""
    from scoring import workflows
    from scoring.report import model
    from scoring.store.accounts import Actor

    db = tmp_path / "r.db"
    url, actor = f"sqlite:///{db}", Actor("t", None)
    workflows.load_demo(url, actor=actor)
    workflows.publish(url, actor=actor, stage="preliminary", today=dt.date(2018, 1, 5))
    card, run_id = workflows.score_current(url, actor=actor)
    kept = _intervals_file(url, run_id)
    pd.testing.assert_frame_equal(pd.read_parquet(kept), model.rank_intervals(card))

    def drawn_again(*args, **kwargs):
        raise AssertionError("the run's rank intervals drawn again")

    monkeypatch.setattr(model, "robustness", drawn_again)
    for lang in ("zh-Hans", "en"):
        done = workflows.write_report(url, actor=actor, outs=[tmp_path / f"r-{lang}.html"], lang=lang)
        assert done.failed == []
    assert 'id="report_robustness"' in (tmp_path / "r-zh-Hans.html").read_text(encoding="utf-8")
    monkeypatch.undo()
    workflows.import_file(url, actor=actor, name="more.csv", data=_one_more_record(card))
    done = workflows.write_report(url, actor=actor, outs=[tmp_path / "r2.html"])
    assert done.run_id != run_id and _intervals_file(url, done.run_id).exists() and kept.exists()


def _intervals_file(url: str, run_id: int):
    """Where the rank intervals of a run are kept."""
    from sqlmodel import Session

    from scoring.report import model
    from scoring.store import repository as repo
    from scoring.store.db import engine_for

    with Session(engine_for(url)) as s:
        return repo.derived_file(s, run_id=run_id, name=model.RANK_INTERVALS_NAME)


def _one_more_record(card) -> bytes:
    """An import file restating the demo's first record a day later (a new evidence state)."""
    from scoring import workflows

    frame, _ = workflows.demo_evidence(card.scheme)
    row = frame.iloc[:1].copy()  # the demo's file, as a firm writes it (headed in the document's words)
    row["發佈時間"] = (pd.to_datetime(row["發佈時間"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    return row.to_csv(index=False).encode()
