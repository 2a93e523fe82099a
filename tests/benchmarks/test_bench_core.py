"""Scoring, validation and import benchmarks (`make bench`; figures in the issue notes)."""

from __future__ import annotations

import hashlib
import itertools

from sqlmodel import Session

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.engine import score
from scoring.store import repository as store
from scoring.store.db import dispose, engine_for


def test_score_province(benchmark, scheme_2017, demo_evidence):
    card = benchmark(score, scheme_2017, demo_evidence)
    assert len(card.scores) == len(scheme_2017.bodies)


def test_load_stored_run_for_dashboard(benchmark, national, tmp_path):
    """What the dashboard does on a cache miss: load the stored evidence and score it."""
    scheme, data, evidence = national
    url = f"sqlite:///{tmp_path / 'load.db'}"
    with Session(engine_for(url)) as s:
        store.save_scheme(s, scheme=scheme, who="test")
        store.import_evidence(s, who="test", scheme=scheme, evidence=evidence, file_name="n.csv", sha256="x")
        s.commit()

    def load():
        with Session(engine_for(url)) as s:
            return store.score_and_record(s, scheme_id=scheme.id, as_of=None, who="test")

    card, _ = benchmark.pedantic(load, rounds=2, iterations=1)
    dispose(url)
    assert len(card.scores) == len(scheme.bodies)


def test_read_and_validate(benchmark, national):
    scheme, data, _ = national
    ev = benchmark.pedantic(lambda: validate(read_table(data, "n.csv"), scheme, "n.csv"), rounds=1, iterations=1)
    assert len(ev) > 0


def test_import_into_sqlite(benchmark, national, tmp_path):
    scheme, data, evidence = national
    counter = itertools.count()

    def setup():
        url = f"sqlite:///{tmp_path / f'bench{next(counter)}.db'}"
        with Session(engine_for(url)) as s:
            store.save_scheme(s, scheme=scheme, who="test")
            s.commit()
        return (url,), {}

    def run(url):
        with Session(engine_for(url)) as s:
            result = store.import_evidence(s, who="test", scheme=scheme, evidence=evidence, file_name="n.csv",
                                           sha256=hashlib.sha256(data).hexdigest())
            s.commit()
        dispose(url)
        return result

    result = benchmark.pedantic(run, setup=setup, rounds=1, iterations=1)
    assert result.new == len(evidence)
