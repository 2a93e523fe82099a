"""Rank robustness: 1,000 perturbed re-scorings of the 2017 province and of the nation (3,237 bodies).
Targets (issue 16): under 2 s and under 60 s on the 2-core machine. Tiny and untimed in `make test`."""

from __future__ import annotations

import pytest

from scoring.method.engine import score
from scoring.method.robustness import robustness
from tests.benchmarks.conftest import FULL, sized

DRAWS = 1000 if FULL else 20


def test_robustness_2017_province(benchmark, scheme_2017, demo_evidence):
    card = score(scheme_2017, demo_evidence)
    result = benchmark.pedantic(robustness, args=(card,), kwargs={"draws": DRAWS, "seed": 1}, rounds=3, iterations=1)
    assert len(result) == len(card.scores.dropna(subset=["score"]))


@pytest.mark.parametrize("rows", [50_000 if FULL else 0])
def test_robustness_national(benchmark, rows):
    scheme, evidence = sized(rows)
    card = score(scheme, evidence)
    benchmark.extra_info["bodies"] = len(scheme.bodies)
    result = benchmark.pedantic(robustness, args=(card,), kwargs={"draws": DRAWS, "seed": 1}, rounds=1, iterations=1)
    assert result["rank_p95"].ge(result["rank_p05"]).all()
