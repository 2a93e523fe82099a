"""Benchmark sizes: tiny under `make test` (each benchmark runs once, untimed), real under `make bench`.

GONGKAI_BENCH=full gives the national scale: 333 cities × 60 counties + 60 departments, about
1.16 million evidence rows with the weekly monitoring obligation.
"""

from __future__ import annotations

import os

import pytest

from scoring import demo, synth
from scoring.evidence import validate
from scoring.tables import read_table

FULL = os.environ.get("GONGKAI_BENCH") == "full"


@pytest.fixture(scope="session")
def national():
    scheme = synth.national(333, 60, 60) if FULL else synth.national(12, 3, 40)
    data = demo.generate(scheme).to_csv(index=False).encode("utf-8")
    return scheme, data, validate(read_table(data, "national.csv"), scheme, "national.csv")
