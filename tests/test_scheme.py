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
    assert sum(o.points for o in scheme_2017.obligations) == 100
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
