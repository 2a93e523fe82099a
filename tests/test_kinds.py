"""The rule-kind registry (issue 29): every kind declares itself once, and nothing else lists kinds.
Each registered kind has a golden case, a template row that imports, words in every language, a
row in docs/method.md, and declarations that agree with each other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from scoring.i18n import LANGUAGES, script
from scoring.method import kinds as rule_kinds

ROOT = Path(__file__).resolve().parents[1]
NAMES = list(rule_kinds.MODULES)


def _kinds_in_cases() -> set[str]:
    found: set[str] = set()
    for case in (ROOT / "tests" / "cases").glob("*.yaml"):
        for ob in yaml.safe_load(case.read_text(encoding="utf-8")).get("obligations", []):
            found |= {r["kind"] for r in ob.get("rules", [])}
    return found


def test_the_registry_holds_the_eight_kinds_of_the_method():
    assert NAMES == ["deadline", "periodic", "response", "count", "rating", "share", "checklist", "request"]
    for name, module in rule_kinds.MODULES.items():
        assert module.KIND.name == name and callable(module.expand) and callable(module.judge)


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_has_a_golden_case(name):
    assert name in _kinds_in_cases(), f"tests/cases/ has no case with a {name} rule"


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_has_words_in_every_language(name):
    hans, en = rule_kinds.kind(name).words
    said = {lang: rule_kinds.words(name, lang) for lang in LANGUAGES}
    assert said == {"zh-Hans": hans, "zh-Hant": script(hans, "zh-Hant"), "en": en}
    assert hans != name and en and not re.search(r"[A-Za-z]", hans)


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_has_a_row_in_the_method(name):
    method = (ROOT / "docs" / "method.md").read_text(encoding="utf-8")
    section = method[method.index("## 3. Rule kinds"):method.index("## 4.")]
    assert f"\n| {name} |" in section


@pytest.mark.parametrize("name", NAMES)
def test_declarations_agree(name):
    k = rule_kinds.kind(name)
    if k.values is not None:  # its rows carry a value: an appeal's file cannot stand for one
        assert k.appeal == "value" and "value" in k.example
    else:
        assert "published_at" in k.example and "value" not in k.example
    for column in k.item_columns:  # an item's columns are evidence columns its example fills
        assert k.example.get(column), (name, column)


def test_a_value_out_of_range_is_refused_in_the_kinds_words():
    from scoring.errors import EvidenceError
    from scoring.intake.evidence import validate
    from scoring.intake.tables import read_table
    from tests.conftest import make_scheme

    scheme = make_scheme({}, [{"id": "a", "name": "甲市", "kind": "city"}], [
        {"id": "1", "applies_to": ["city"], "points": 5, "rules": [{"kind": "rating"}]},
        {"id": "2", "applies_to": ["city"], "points": 5, "rules": [{"kind": "share"}]},
        {"id": "3", "applies_to": ["city"], "points": 5, "rules": [{"kind": "deadline", "due": "2017-05-31"}]},
        {"id": "4", "applies_to": ["city"], "points": 5,
         "rules": [{"kind": "checklist", "items": [{"id": "c1", "text": "目錄", "points": 1}]}]}])
    text = "單位,任務編號,環節,分值\n甲市,1,,100.5\n甲市,2,,0\n甲市,3,,1\n甲市,4,c1,0.5\n"
    with pytest.raises(EvidenceError) as caught:
        validate(read_table(text.encode(), "f.csv"), scheme, "f.csv")
    assert [(p.row, p.column, p.reason) for p in caught.value.problems] == [
        (2, "value", "a rating is between 0 and 100"),
        (3, "value", "a share is between 0 and 1 (e.g. 0.04 or 4%)"),
        (4, "value", "this obligation takes no value (only rating, share and checklist rules do)"),
        (5, "value", "a check is met (1) or not met (0)"),
    ]


def test_a_count_short_and_an_unmet_check_read_differently_in_a_rectification_notice():
    from scoring.report.notice import _outcome

    assert _outcome("count", "short") == "数量不足"
    assert _outcome("checklist", "short") == "未达到"
    assert _outcome("deadline", "late") == "逾期发布"
