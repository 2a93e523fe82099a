"""The national-scale generator: the nation's counts, deterministic, and importable through the CLI."""

from __future__ import annotations

import pandas as pd

from scoring.synthetic import synth
from tests.cli import gongkai


def test_nation_has_the_national_counts():
    scheme = synth.national(channels=1)
    kinds = pd.Series([b.kind for b in scheme.bodies]).value_counts().to_dict()
    assert kinds == {"county": 2844, "city": 333, "department": 60}


def test_evidence_is_seeded():
    scheme = synth.national(cities=5, counties=10, departments=34)
    a, b = synth.evidence(scheme, seed=3), synth.evidence(scheme, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not synth.evidence(scheme, seed=4).equals(a)


def test_cli_writes_a_scheme_and_file_that_import(tmp_path):
    scheme, ev, db = tmp_path / "s.yaml", tmp_path / "e.csv", f"sqlite:///{tmp_path / 'g.db'}"
    r = gongkai("synth", "--rows", "40000", "--out", str(ev), "--scheme-out", str(scheme))
    assert r.returncode == 0, r.stderr
    assert gongkai("criteria", "load", str(scheme), "--db", db).returncode == 0
    imp = gongkai("import", str(ev), "--db", db)
    assert imp.returncode == 0, imp.stderr
    rows = int(r.stdout.split("e.csv: ")[1].split()[0])
    assert f"{rows} rows valid; imported {rows} new" in imp.stdout


def test_cli_counties_makes_a_larger_scheme_for_the_same_file(tmp_path):
    small, big = tmp_path / "s.yaml", tmp_path / "b.yaml"
    ev_small, ev_big = tmp_path / "s.csv", tmp_path / "b.csv"
    assert gongkai("synth", "--rows", "40000", "--out", str(ev_small), "--scheme-out", str(small)).returncode == 0
    r = gongkai("synth", "--rows", "40000", "--out", str(ev_big), "--scheme-out", str(big), "--counties", "3000")
    assert r.returncode == 0, r.stderr
    assert "b.yaml: 3393 bodies" in r.stdout
    assert ev_big.read_bytes() == ev_small.read_bytes()
    ok = gongkai("score", "--scheme", str(big), "--evidence", str(ev_big))
    assert ok.returncode == 0, ok.stderr
    too_few = gongkai("synth", "--rows", "40000", "--out", str(ev_big), "--scheme-out", str(big), "--counties", "100")
    assert too_few.returncode == 1 and "--counties 100: at least 2844" in too_few.stderr
