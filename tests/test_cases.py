"""Golden scorecards: every tests/cases/*.yaml is a small scheme + evidence with hand-computed results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from scoring.errors import GongkaiError
from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.engine import score
from scoring.report.output import level_table
from tests.conftest import make_scheme

CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    tol = case.get("tolerance", 0.005)
    if "error" in expect:
        with pytest.raises(GongkaiError) as caught:
            scheme = make_scheme(case.get("scheme"), case["bodies"], case["obligations"])
            ev = validate(read_table(case["evidence"].encode(), "case.csv"), scheme, "case.csv")
            score(scheme, ev)
        assert expect["error"] in str(caught.value)
        return
    scheme = make_scheme(case.get("scheme"), case["bodies"], case["obligations"])
    ev = validate(read_table(case["evidence"].encode(), "case.csv"), scheme, "case.csv")
    as_of = case.get("as_of")
    card = score(scheme, ev, dt.date.fromisoformat(str(as_of)) if as_of else None)
    bodies = card.scores.set_index("body")
    for body, want in expect.get("scores", {}).items():
        assert bodies.at[body, "score"] == pytest.approx(want, abs=tol), body
    for body, want in expect.get("grades", {}).items():
        assert bodies.at[body, "grade"] == want, body
    for body, want in expect.get("ranks", {}).items():
        assert bodies.at[body, "rank"] == want, body
    for body, want in expect.get("veto", {}).items():
        assert bodies.at[body, "veto"] == want, body
    if "findings" in expect:
        got = level_table(card, "finding")
        got = got[got["body"].isin({f["body"] for f in expect["findings"]})]
        rows = [{k: r[k] for k in ("body", "obligation", "item", "due", "published_at", "outcome")}
                for r in got.to_dict("records")]
        assert rows == [{"published_at": "", **f} for f in expect["findings"]]
    for row in expect.get("obligations", []):
        got = card.obligations.set_index(["body", "obligation"]).loc[(row["body"], str(row["obligation"]))]
        for key in ("earned", "gap"):
            if key in row:
                assert got[key] == pytest.approx(row[key], abs=tol), (row, key)
        if "status" in row:
            assert got["status"] == row["status"]
