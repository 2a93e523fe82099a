"""The scheme file: the 2017 document held faithfully, and load-time validation naming every fault."""

from __future__ import annotations

import re

import pytest

from scoring.errors import SchemeError
from scoring.intake.names import BodyResolver
from tests.conftest import SOURCE, make_scheme

CITY = {"id": "a", "name": "甲市", "kind": "city"}
RATING = {"id": "1", "applies_to": ["city"], "points": 10, "rules": [{"kind": "rating"}]}


def test_2017_loads_with_every_leaf(scheme_2017):
    assert len(scheme_2017.obligations) == 40
    assert sum(b.kind == "city" for b in scheme_2017.bodies) == 17
    assert scheme_2017.body("laiwu").name == "萊蕪市"


def test_2017_quotes_are_verbatim(scheme_2017):
    document = SOURCE.read_text(encoding="utf-8")
    missing = [o.id for o in scheme_2017.obligations if o.source not in document]
    assert missing == []


def test_2017_every_named_lead_is_a_body(scheme_2017):
    """Every unit in the document's 牽頭/負責落實 brackets resolves to exactly one body."""
    document = SOURCE.read_text(encoding="utf-8")
    brackets = re.findall(r"[(（]([^()（）]*?(?:牽頭落實|負責落實))[)）]", document)
    assert len(brackets) == 33
    resolver = BodyResolver((b.id, b.name, b.aliases) for b in scheme_2017.bodies)
    names = set()
    for text in brackets:
        text = re.sub(r"(按職責分工分別牽頭落實|牽頭落實|負責落實)$", "", text)
        for name in text.split("、"):
            names.add(re.sub(r"等部門$", "", name))
    names -= {"各市", "省政府有關部門"}  # applies_to: [city]; the departments concerned
    unresolved = sorted(n for n in names if resolver.resolve(n)[0] is None)
    assert unresolved == []
    assert len(names) == 34


def test_2017_cities_are_assessed_where_the_text_addresses_them(scheme_2017):
    for ob_id in ("2.1.3", "4.2.2", "4.3.3", "6.1", "6.6", "6.7"):
        assert "city" in scheme_2017.obligation(ob_id).applies_to, ob_id
    assert scheme_2017.obligation("6.6").rules[0].kind == "share"


@pytest.mark.parametrize(
    ("header", "bodies", "obligations", "fault"),
    [
        ({}, [CITY, CITY], [RATING], "body a: duplicate id"),
        ({}, [CITY], [RATING, RATING], "obligation 1: duplicate id"),
        ({}, [CITY], [{**RATING, "leads": ["nobody"]}], "obligation 1: lead 'nobody' is not a body"),
        ({}, [CITY], [{**RATING, "applies_to": []}], "obligation 1: applies to no body"),
        ({}, [CITY], [{**RATING, "points": 0}], "obligation 1: points must be > 0"),
        ({}, [CITY], [{**RATING, "rules": [{"kind": "survey"}]}], "obligation 1: rules.0"),
        ({}, [CITY], [{**RATING, "rules": [{"kind": "rating", "weight": 2}]}],
         "obligation 1: rules.0.rating.weight: Extra inputs are not permitted (got 2)"),
        ({"grades": [{"name": "A", "min": 60}, {"name": "B", "min": 90}, {"name": "C", "min": 0}]},
         [CITY], [RATING], "grades: mins must descend and end at 0"),
        ({"grades": [{"name": "A", "min": 90}, {"name": "B", "min": 10}]}, [CITY], [RATING],
         "grades: mins must descend and end at 0"),
        ({}, [CITY, {"id": "k", "name": "乙縣", "kind": "county", "parent": "dep"},
              {"id": "dep", "name": "省某廳", "kind": "department"}], [RATING],
         "body k: parent 'dep' is not a city"),
        ({"transparency_share": 0.03}, [CITY], [RATING],
         "scheme.transparency_share 0.03 is below min_transparency_share 0.04"),
        ({}, [CITY], [{**RATING, "bonus": True}], "obligation 1: a bonus obligation needs scheme.bonus"),
        ({}, [{**CITY, "id": "jinan", "kind": "province"}], [RATING], "body jinan: kind"),  # not "bodie jinan"
    ],
)
def test_scheme_faults_are_named(header, bodies, obligations, fault):
    with pytest.raises(SchemeError) as caught:
        make_scheme(header, bodies, obligations)
    assert fault in str(caught.value)
    assert "case" in str(caught.value)  # the file is named


def test_all_faults_reported_at_once():
    with pytest.raises(SchemeError) as caught:
        make_scheme({}, [CITY, CITY], [{**RATING, "leads": ["x"]}, {**RATING, "id": "2", "leads": ["y"]}])
    assert len(caught.value.faults) == 3


def test_calendar_year_not_covered_is_named_and_can_be_supplied():
    from scoring.errors import CalendarError
    from scoring.intake.evidence import empty_evidence
    from scoring.method.engine import score

    deadline = {"id": "1", "applies_to": ["city"], "points": 5,
                "rules": [{"kind": "deadline", "due": {"after": "issued", "within": {"working_days": 3}}}]}
    header = {"issued": "2031-04-28", "period": {"start": "2031-01-01", "end": "2031-12-31"}}
    with pytest.raises(CalendarError, match="2031"):
        score(make_scheme(header, [CITY], [deadline]), empty_evidence())
    # 2031-04-28 is a Monday; with 04-29..05-01 declared holidays, 3 working days are 05-02 (Fri), 05-05, 05-06 (Tue)
    header["calendar_years"] = {2031: {"holidays": ["2031-04-29", "2031-04-30", "2031-05-01"]}}
    card = score(make_scheme(header, [CITY], [deadline]), empty_evidence())
    assert str(card.findings.loc[0, "due"].date()) == "2031-05-06"


# ---- issue 11: the 2017 scheme as the document and the assessment held ------------------------

def _items(scheme, ob: str, body: str) -> list[str]:
    from scoring.intake.evidence import empty_evidence
    from scoring.method.rules import expected_items

    items = expected_items(scheme, empty_evidence())
    return items[(items["obligation"] == ob) & (items["body"] == body)]["item"].astype(str).tolist()


def test_2017_points_follow_one_rule(scheme_2017):
    """criteria/README.md: 3 when a rule checks a date, time limit, rhythm, count or share; 2 when rated only."""
    checked = {"deadline", "periodic", "response", "request", "count", "share"}
    wrong = {o.id: o.points for o in scheme_2017.obligations
             if o.points != (3 if any(r.kind in checked for r in o.rules) else 2)}
    assert wrong == {}
    assert sum(o.points for o in scheme_2017.obligations) == 106


def test_2017_every_provincial_department_of_2017(scheme_2017):
    departments = {b.id for b in scheme_2017.bodies if b.kind == "department" and not b.central}
    assert {"gongan", "jiaotong", "xumu", "keji", "sifa", "wenhua", "renfang"} <= departments
    assert len(departments) == 45  # the 42 graded, with 辦公廳, 新聞辦 and 編辦 (see criteria/README.md)
    central = {b.id for b in scheme_2017.bodies if b.central}
    assert central == {"renhang", "yinjian", "zhengjian", "baojian", "guoshui"}


def test_2017_a_department_never_named_is_assessed_on_what_binds_all(scheme_2017):
    assessed = [o.id for o in scheme_2017.obligations if "gongan" in scheme_2017.assessed(o)]
    assert assessed == ["6.1", "6.2", "6.3", "6.4", "6.5", "6.6", "6.7"]


def test_2017_central_units_only_where_named_never_on_the_share(scheme_2017):
    assessed = [o.id for o in scheme_2017.obligations if "renhang" in scheme_2017.assessed(o)]
    assert assessed == ["1.1.1", "5.1", "5.2.1"]
    assert "guoshui" not in scheme_2017.assessed(scheme_2017.obligation("6.6"))


@pytest.mark.parametrize(
    ("bodies", "obligations", "fault"),
    [
        ([{**CITY, "central": True}], [RATING], "body a: only a department may be central (got kind city)"),
        ([CITY, {"id": "r", "name": "人行", "kind": "department", "central": True}],
         [{**RATING, "leads": ["r"], "rules": [{"kind": "share"}]}],
         "obligation 1: rule 1 (share) assesses central unit(s) r, which have no place in the province's "
         "performance assessment"),
    ],
)
def test_central_units_are_validated(bodies, obligations, fault):
    with pytest.raises(SchemeError) as caught:
        make_scheme({}, bodies, obligations)
    assert fault in caught.value.faults


def test_2017_statistics_press_conferences_monthly_quarterly_yearly(scheme_2017):
    got = _items(scheme_2017, "1.1.2", "tongji")
    assert [x for x in got if len(x) == 7 and "Q" not in x] == [f"2017-{m:02d}" for m in range(2, 13)]  # 1–2月 as one
    assert {"2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4", "2017"} <= set(got)
    assert "2017-01" not in _items(scheme_2017, "1.1.1", "caizheng")


def test_2017_weekly_prices_are_the_52_iso_weeks_of_2017(scheme_2017):
    weeks = [x for x in _items(scheme_2017, "2.3", "nongye") if "-W" in x]
    assert len(weeks) == 52 and weeks[0] == "2017-W01" and "2016-W52" not in weeks


def test_2017_clean_up_deadline_is_fazhibans_marking_is_bangongtings(scheme_2017):
    assert _items(scheme_2017, "2.1.2", "fazhiban") == ["deadline"]
    assert _items(scheme_2017, "2.1.2", "bangongting") == ["rating"]


def test_2017_cities_are_assessed_on_budget_disclosure(scheme_2017):
    assert "jinan" in scheme_2017.assessed(scheme_2017.obligation("2.4"))


def test_2017_poverty_fund_plan_is_due_60_working_days_after_the_congress(scheme_2017):
    from scoring.intake.evidence import empty_evidence
    from scoring.method.engine import score

    f = score(scheme_2017, empty_evidence()).findings
    plan = f[(f["body"] == "fupin") & (f["obligation"] == "4.1.1") & (f["kind"] == "deadline")].iloc[0]
    assert (str(plan["due"].date()), plan["outcome"]) == ("2017-05-09", "missing")  # never publishing loses


def test_2017_information_requests_are_judged_against_the_legal_limit(scheme_2017):
    rules = scheme_2017.obligation("6.5").rules
    assert [r.kind for r in rules] == ["request", "rating"]
    assert (rules[0].within.working_days, rules[0].extension.working_days) == (15, 15)  # 條例 (2007) §24


def test_2017_website_spot_checks_are_rated_per_quarter(scheme_2017):
    assert _items(scheme_2017, "6.4", "jinan") == ["2017-Q1", "2017-Q2", "2017-Q3", "2017-Q4"]
