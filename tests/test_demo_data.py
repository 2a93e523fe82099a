"""The committed demo evidence file is what the generator makes, and scores like the demo."""

from __future__ import annotations

from scoring import SCHEME_FILE
from scoring.intake.evidence import read_evidence
from scoring.method.engine import score
from scoring.synthetic import demo
from tests.conftest import ROOT

DEMO_FILE = ROOT / "data" / "demo-evidence.csv"


def test_committed_file_matches_the_generator(scheme_2017):
    expected = demo.generate(scheme_2017).to_csv(index=False).encode("gb18030")
    assert DEMO_FILE.read_bytes().replace(b"\r\n", b"\n") == expected, \
        "regenerate: gongkai demo --out data/demo-evidence.csv"


def test_committed_file_scores_like_the_demo(scheme_2017, demo_evidence):
    assert SCHEME_FILE.exists()
    from_file = score(scheme_2017, read_evidence(DEMO_FILE, scheme_2017)).scores
    assert from_file[["body", "score", "rank"]].equals(score(scheme_2017, demo_evidence).scores[["body", "score", "rank"]])
