"""Benchmark sizes: tiny under `make test` (each benchmark runs once, untimed), real under `make bench`.

GONGKAI_BENCH=full: the nation (333 cities, 2,844 counties, 60 departments) with 50k, 1M and 10M
evidence rows (daily monitoring channels); see docs/performance.md.
"""

from __future__ import annotations

import io
import os

import pytest

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.synthetic import synth

FULL = os.environ.get("GONGKAI_BENCH") == "full"
SIZES = [50_000, 1_000_000, 10_000_000] if FULL else [0]
_cache: dict[int, tuple] = {}


def sized(rows: int):
    """(scheme, evidence) of about `rows` records; one size kept in memory at a time."""
    if rows not in _cache:
        _cache.clear()
        scheme = synth.for_rows(rows) if rows else synth.national(cities=12, counties=36, departments=40)
        _cache[rows] = (scheme, synth.evidence(scheme))
    return _cache[rows]


@pytest.fixture(scope="session")
def national():
    """The 1M-row nation (tiny in `make test`) with its import file's bytes."""
    scheme = synth.for_rows(1_000_000) if FULL else synth.national(cities=12, counties=36, departments=40)
    frame = synth.evidence(scheme)
    buf = io.StringIO()
    synth.write_csv(scheme, frame, buf)
    data = buf.getvalue().encode("utf-8")
    return scheme, data, validate(read_table(data, "national.csv"), scheme, "national.csv")
