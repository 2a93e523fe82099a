"""The method's newer rule kinds at the edge: checklist (評分細則), test requests (驗證性申請),
periodic ratings and merged periods — load-time faults naming obligation and field, and bad evidence
rows naming row, column and value."""

from __future__ import annotations

import pytest

from scoring.errors import EvidenceError, SchemeError
from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from tests.conftest import make_scheme

BODIES = [{"id": "a", "name": "甲市", "kind": "city"}]
CHECKS = {"kind": "checklist", "items": [{"id": "a1", "text": "目錄完整", "points": 2},
                                         {"id": "g", "text": "網站", "items": [{"id": "b1", "text": "更新", "points": 1}]}]}
OBLIGATIONS = [
    {"id": "6.4", "applies_to": ["city"], "points": 4, "rules": [CHECKS, {"kind": "rating", "frequency": "quarterly"}]},
    {"id": "6.5", "applies_to": ["city"], "points": 3, "rules": [{"kind": "request"}, {"kind": "rating"}]},
]


@pytest.fixture(scope="module")
def scheme():
    return make_scheme({}, BODIES, OBLIGATIONS)


def problems(scheme, text: str) -> list[tuple[int, str, str, str]]:
    with pytest.raises(EvidenceError) as caught:
        validate(read_table(text.encode(), "f.csv"), scheme, "f.csv")
    return [(p.row, p.column, p.value, p.reason) for p in caught.value.problems]


def test_bad_rows_of_the_new_kinds_are_named(scheme):
    text = ("單位,任務編號,期間,事件編號,發生時間,環節,發佈時間,分值\n"
            "甲市,6.4,,,,a9,,1\n"             # 2: not a check of 6.4
            "甲市,6.4,,,,a1,,2\n"             # 3: a check is 1 or 0
            "甲市,6.4,2017-13,,,,,80\n"       # 4: not a period
            "甲市,6.4,2017-03,,,,,80\n"       # 5: a month, the rating is quarterly
            "甲市,6.5,,R1,,reply,2017-06-20,\n"  # 6: a request needs its day of receipt
            "甲市,6.5,,R2,2017-06-01,answer,2017-06-20,\n"  # 7: unknown step
            "甲市,6.5,,R3,2017-06-01,reply,2017-05-20,\n")  # 8: a reply before the request
    got = problems(scheme, text)
    assert (2, "step", "a9", "unknown check; valid: a1, b1") in got
    assert (3, "value", "2", "a check is met (1) or not met (0)") in got
    assert (4, "period", "2017-13", "not a period (2017-03, 2017-Q1, 2017-W05, 2017)") in got
    assert any(r == 5 and c == "period" and "not one the obligation's periodic rule expects" in why for r, c, _, why in got)
    assert (6, "event_at", "", "missing: a request needs the day it was received") in got
    assert (7, "step", "answer", "unknown step; valid: request, reply, extension") in got
    assert any(r == 8 and c == "published_at" and "before its event" in why for r, c, _, why in got)
    assert {r for r, *_ in got} == {2, 3, 4, 5, 6, 7, 8}


def test_good_rows_of_the_new_kinds_import(scheme):
    text = ("單位,任務編號,期間,事件編號,發生時間,環節,發佈時間,分值\n"
            "甲市,6.4,,,,a1,,1\n甲市,6.4,,,,b1,,0\n甲市,6.4,2017-Q2,,,,,85\n"
            "甲市,6.5,,R1,2017-06-01,request,,\n甲市,6.5,,R1,2017-06-01,reply,2017-06-20,\n甲市,6.5,,,,,,90\n")
    ev = validate(read_table(text.encode(), "f.csv"), scheme, "f.csv")
    assert len(ev) == 6


@pytest.mark.parametrize(("rule", "fault"), [
    ({"kind": "checklist", "items": [{"id": "a", "text": "x"}]}, "check item a: needs points"),
    ({"kind": "checklist", "items": [{"id": "g", "text": "x", "points": 5, "items": [{"id": "a", "text": "y", "points": 2}]}]},
     "check group g: points 5 differ from its items' 2"),
    ({"kind": "checklist", "items": [{"id": "a", "text": "x", "points": 1}, {"id": "a", "text": "y", "points": 1}]},
     "duplicate check id 'a'"),
    ({"kind": "request", "within": {"days": 15}}, "a statutory reply window is in working_days"),
    ({"kind": "periodic", "frequency": "monthly", "merge": [["01"]]}, "each group names at least two periods"),
    ({"kind": "periodic", "frequency": "monthly", "merge": [["01", "1月"]]}, "'1月' is neither a period"),
])
def test_scheme_faults_name_the_obligation_and_field(rule, fault):
    with pytest.raises(SchemeError) as caught:
        make_scheme({}, BODIES, [{"id": "9.9", "applies_to": ["city"], "points": 1, "rules": [rule]}])
    assert any(f.startswith("obligation 9.9") and fault in f for f in caught.value.faults), caught.value.faults


def test_every_template_example_imports(scheme_2017):
    """The import templates' example rows are valid evidence: of the 2017 scheme for every kind it
    uses, of a scheme with a rubric for the checklist."""
    from scoring.intake.templates import examples, template_bytes

    rubric = make_scheme({}, [{"id": "weihai", "name": "威海市", "kind": "city"}],
                         [{"id": "6.4", "applies_to": ["city"], "points": 2, "rules": [CHECKS]}])
    for kind in examples():
        scheme = rubric if kind == "checklist" else scheme_2017
        ev = validate(read_table(template_bytes(kind, "csv"), f"{kind}.csv"), scheme, f"{kind}.csv")
        assert len(ev) == 1, kind


def test_a_gap_names_the_unmet_checks_in_the_rubrics_words(scheme):
    from scoring.method.engine import score
    from scoring.method.explain import explained

    text = "單位,任務編號,環節,分值\n甲市,6.4,a1,1\n甲市,6.4,b1,0\n"
    card = score(scheme, validate(read_table(text.encode(), "f.csv"), scheme, "f.csv"))
    f = explained(card, "a")
    lost = f[(f["obligation"] == "6.4") & (f["kind"] == "checklist") & (f["lost"] > 0)]
    assert lost[["item", "item_text", "outcome"]].values.tolist() == [["b1", "網站 › 更新", "short"]]
