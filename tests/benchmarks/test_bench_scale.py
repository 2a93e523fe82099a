"""Scoring at national scale, side by side with the DuckDB peer on the same data (`make bench`)."""

from __future__ import annotations

import pytest

from scoring.method.engine import rescore, score
from tests.benchmarks.conftest import SIZES, sized

duckdb_peer = pytest.importorskip("tests.benchmarks.duckdb_peer")


@pytest.mark.parametrize("rows", SIZES)
def test_engine_full_scoring(benchmark, rows):
    scheme, evidence = sized(rows)
    benchmark.extra_info["evidence_rows"] = len(evidence)
    card = benchmark.pedantic(score, args=(scheme, evidence), rounds=1 if rows >= 10**7 else 3, iterations=1)
    assert card.scores["score"].notna().all()


@pytest.mark.parametrize("rows", SIZES)
def test_engine_time_rules(benchmark, rows):
    """The engine on exactly the work the DuckDB query does: deadline and periodic rules."""
    scheme, evidence = sized(rows)
    time_only = duckdb_peer.time_rules_only(scheme)
    benchmark.extra_info["evidence_rows"] = len(evidence)
    benchmark.pedantic(score, args=(time_only, evidence), rounds=1 if rows >= 10**7 else 3, iterations=1)


@pytest.mark.parametrize("rows", SIZES)
def test_duckdb_time_rules(benchmark, rows):
    scheme, evidence = sized(rows)
    time_only = duckdb_peer.time_rules_only(scheme)
    tables = duckdb_peer.inputs(time_only)
    benchmark.extra_info["evidence_rows"] = len(evidence)
    result = benchmark.pedantic(duckdb_peer.duckdb_scores, args=(time_only, evidence, time_only.default_as_of, tables),
                                rounds=1 if rows >= 10**7 else 3, iterations=1)
    assert len(result) > 0


def test_rescore_points_change_national(benchmark):
    scheme, evidence = sized(SIZES[-1] if SIZES[-1] <= 1_000_000 else 1_000_000)
    card = score(scheme, evidence)
    changed = scheme.with_changes({"6.3": 12.0})
    rescore(changed, card.credits)  # warm the per-scheme caches, as the dashboard's first edit does
    obligations, scores = benchmark(rescore, changed, card.credits)
    assert scores["score"].notna().all()
