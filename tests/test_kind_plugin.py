"""Adding a rule kind touches its module, its golden case and docs/method.md, nothing else (issue 29):
`tests/kinds/stars.py`, registered only here, is loaded in a scheme, imported from its template row,
scored, explained in the report in its own words and appealed — through the same workflows as every
built-in kind."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from scoring import workflows
from scoring.errors import EvidenceError
from scoring.method import kinds as rule_kinds
from scoring.store.accounts import Actor
from tests.conftest import HEADER
from tests.kinds import stars

OPEN = Actor("setup", None)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(rule_kinds.MODULES, "stars", stars)  # first: the registry forgets it after the test
    rule_kinds.register(stars)
    yield


@pytest.fixture
def db(registered, tmp_path):
    doc = {"scheme": {**HEADER, "id": "stars-2017"},
           "bodies": [{"id": "a", "name": "甲市", "kind": "city"}, {"id": "b", "name": "乙市", "kind": "city"}],
           "obligations": [{"id": "9", "section": ["一"], "title": "网站星级评定", "source": "—",
                            "applies_to": ["city"], "points": 10, "rules": [{"kind": "stars"}]}]}
    path = tmp_path / "stars.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'stars.db'}"
    workflows.load_scheme_file(url, actor=OPEN, path=path)
    return url


def test_a_registered_kind_is_imported_from_its_template_and_scored(db):
    from scoring.intake.templates import template_bytes

    workflows.import_file(db, actor=OPEN, name="stars.csv", data=template_bytes("stars", "csv"))
    card = workflows.scorecard(db, actor=OPEN)
    assert card.scores.set_index("body")["score"].to_dict() == {"a": 80.0, "b": 0.0}  # 4 of 5 stars; none
    f = card.findings
    assert f[["body", "item", "outcome", "credit"]].values.tolist() == [["a", "stars", "rated", 0.8],
                                                                        ["b", "stars", "missing", 0.0]]


def test_a_registered_kind_refuses_a_value_out_of_its_range_in_its_words(db):
    with pytest.raises(workflows.ImportRefused) as caught:
        workflows.import_file(db, actor=OPEN, name="bad.csv", data="單位,任務編號,分值\n甲市,9,6\n".encode())
    assert isinstance(caught.value, EvidenceError)
    assert [(p.row, p.column, p.value, p.reason) for p in caught.value.problems] == [
        (2, "value", "6", "stars are between 0 and 5")]


def test_a_registered_kind_is_explained_in_the_report_in_its_own_words(db, tmp_path):
    from scoring.report.model import item_text

    workflows.import_file(db, actor=OPEN, name="stars.csv", data="單位,任務編號,分值\n甲市,9,3\n".encode())
    out = tmp_path / "report.html"
    assert not workflows.write_report(db, actor=OPEN, outs=[out]).failed
    html = out.read_text(encoding="utf-8")
    assert "星级评定" in html and ">stars<" not in html
    assert item_text("stars", "en") == "star rating" and item_text("stars", "zh-Hant") == "星級評定"


def test_a_registered_kind_is_appealed_and_its_value_is_not_made_from_a_file(db):
    workflows.import_file(db, actor=OPEN, name="stars.csv", data="單位,任務編號,分值\n甲市,9,2\n".encode())
    workflows.add_user(db, actor=None, name="root", password="root-password", role="admin")
    root, eva, jia = Actor("root", "admin"), Actor("eva", "evaluator"), Actor("jia", "body")
    workflows.add_user(db, actor=root, name="eva", password="eva-password", role="evaluator")
    workflows.add_user(db, actor=root, name="jia", password="jia-password", role="body")
    workflows.tie_body(db, actor=root, name="jia", body="a")
    workflows.publish(db, actor=eva, stage="preliminary")
    n = workflows.add_appeal(db, actor=jia, body="a", obligation="9", item="stars", reason="星级评定有误",
                             attachment=("shot.png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
                             published_at=dt.datetime(2017, 6, 1))
    decision = workflows.decide_appeal(db, actor=eva, appeal_id=n, accept=True, reason="由评估机构重新评定")
    assert decision.batch is None  # a grade is the firm's to give again: no evidence row from a file
    assert (decision.before, decision.after, decision.points) == (4.0, 4.0, 10.0)
