"""The engine and the DuckDB peer query give identical scores for periodic and deadline rules."""

from __future__ import annotations

import pytest

from scoring.method.engine import score
from scoring.synthetic import synth

duckdb_peer = pytest.importorskip("tests.benchmarks.duckdb_peer")


@pytest.mark.parametrize("as_of", ["2017-07-15", "2018-01-31"])
def test_engine_equals_duckdb(as_of):
    import datetime as dt

    scheme = duckdb_peer.time_rules_only(synth.national(cities=20, counties=60, departments=30, channels=1))
    evidence = synth.evidence(scheme, seed=11)
    day = dt.date.fromisoformat(as_of)
    ours = score(scheme, evidence, day).scores.set_index("body")["score"].dropna().sort_index()
    theirs = duckdb_peer.duckdb_scores(scheme, evidence, day).sort_index()
    assert list(ours.index) == list(theirs.index)
    assert (ours - theirs).abs().max() < 1e-9
    assert ours.std() > 1  # the data discriminates: scores are not all equal
