"""Every obligation id the scheme model accepts works everywhere: `A1`, `B-2`, `十` and `1.10` beside
`1.2` through the command line, the dashboard's pages and every report format."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from scoring.method.scheme import natural_key
from tests.cli import gongkai
from tests.conftest import HEADER

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
IDS = ["A1", "B-2", "十", "1.10", "1.2"]
SCHEME = {
    "scheme": {**HEADER, "id": "odd-ids"},
    "bodies": [{"id": "jinan", "name": "濟南市", "kind": "city"}, {"id": "qingdao", "name": "青島市", "kind": "city"},
               {"id": "fgw", "name": "省發展改革委", "kind": "department"}],
    "obligations": [{"id": i, "section": ["一"], "title": f"任務{i}", "source": "—", "applies_to": ["city", "department"],
                     "points": 2, "rules": [{"kind": "deadline", "due": "2017-06-30"}]} for i in IDS],
}
EVIDENCE = "單位,任務編號,發佈時間\n濟南市,A1,2017-06-01\n濟南市,十,2017-07-10\n青島市,B-2,2017-06-20\n青島市,1.10,2017-06-20\n"


def test_natural_key_orders_any_id():
    assert sorted(["1.10", "1.2", "A1", "B-2", "十", "A10", "A2", "²"], key=natural_key) == \
        ["1.2", "1.10", "A1", "A2", "A10", "B-2", "²", "十"]


@pytest.fixture(scope="module")
def odd(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ids")
    scheme, evidence = folder / "odd.yaml", folder / "ev.csv"
    scheme.write_text(yaml.safe_dump(SCHEME, allow_unicode=True), encoding="utf-8")
    evidence.write_text(EVIDENCE, encoding="utf-8")
    db = f"sqlite:///{folder / 'odd.db'}"
    for args in (["criteria", "load", str(scheme)], ["import", str(evidence)]):
        r = gongkai(*args, "--db", db)
        assert r.returncode == 0, r.stderr
    return folder, scheme, evidence, db


def test_cli_scores_and_orders_odd_ids(odd):
    _, scheme, evidence, _ = odd
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(evidence), "--level", "obligation", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in r.stdout.splitlines()[1:]]
    jinan = [row for row in rows if row[0] == "jinan"]
    assert [row[1] for row in jinan] == ["1.2", "1.10", "A1", "B-2", "十"]
    # A1 on time (2 of 2 points), 十 late (half credit: 1 point), the rest missing
    assert {row[1]: float(row[3]) for row in jinan} == {"1.2": 0, "1.10": 0, "A1": 2, "B-2": 0, "十": 1}


def test_every_report_format_with_odd_ids(odd):
    folder, _, _, db = odd
    outs = [folder / f"r{ext}" for ext in (".xlsx", ".docx", ".html")]
    r = gongkai("report", "--db", db, *[a for p in outs for a in ("--out", str(p))])
    assert r.returncode == 0, r.stderr
    html = outs[2].read_text(encoding="utf-8")
    assert all(i in html for i in IDS)
    with zipfile.ZipFile(outs[1]) as z:
        assert "B-2" in z.read("word/document.xml").decode()


@pytest.mark.parametrize("name", ["rankings", "gaps", "departments", "scheme"])
def test_dashboard_pages_with_odd_ids(odd, monkeypatch, name):
    monkeypatch.setenv("GONGKAI_DATABASE_URL", odd[3])
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, [e.message for e in at.exception]
