"""Rank robustness: hand-computed probabilities, determinism, zero spread, the command line."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.engine import score
from scoring.method.robustness import Spread, robustness
from tests.cli import gongkai
from tests.conftest import make_scheme


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
