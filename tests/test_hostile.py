"""Hostile and broken input: whatever bytes arrive, the importer ends in valid evidence or a clear
EvidenceError naming the place — never another exception — and limits are refused by name."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.errors import EvidenceError
from scoring.intake.evidence import validate
from scoring.intake.tables import MAX_CELL_CHARS, read_table
from tests.cli import gongkai
from tests.conftest import make_scheme

SCHEME = make_scheme({}, [{"id": "jinan", "name": "濟南市", "kind": "city"}], [
    {"id": "1", "applies_to": ["city"], "points": 2, "rules": [{"kind": "deadline", "due": "2017-05-31"}]},
    {"id": "2", "applies_to": ["city"], "points": 2,
     "rules": [{"kind": "periodic", "frequency": "monthly"}, {"kind": "rating"}]},
    {"id": "3", "applies_to": ["city"], "points": 2,
     "rules": [{"kind": "response", "steps": [{"name": "release", "within": {"hours": 5}}]}]},
])
VALID = ("單位,任務編號,期間,事件編號,發生時間,環節,發佈時間,分值,網址,備註\n"
         "濟南市,1,,,,,2017-05-20,,http://a,ok\n"
         "濟南,2,2017-03,,,,2017-03-31,,,\n"
         "jinan,2,,,,,,88,,\n"
         "濟南市,3,,E1,2017-07-14 09:00,release,2017-07-14 12:00,,,\n")


def outcome(data: bytes) -> str:
    try:
        validate(read_table(data, "f.csv"), SCHEME, "f.csv")
        return "imported"
    except EvidenceError as e:
        assert e.problems and all(p.row >= 1 and p.column and p.reason for p in e.problems)
        return "refused"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data):
    outcome(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_near_valid_files(data):
    """A valid file with characters inserted, deleted or replaced, in UTF-8 or GB18030."""
    text = list(VALID)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text) - 1))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        char = data.draw(st.sampled_from([",", "\n", '"', "=", "%", "年", "０", "\x00", "-", "/", ":", " ", "9"]))
        if action == "insert":
            text.insert(at, char)
        elif action == "delete" and len(text) > 1:
            del text[at]
        else:
            text[at] = char
    encoding = data.draw(st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
    try:
        raw = "".join(text).encode(encoding)
    except UnicodeEncodeError:
        return
    outcome(raw)


def test_the_valid_file_imports():
    assert outcome(VALID.encode("gb18030")) == "imported"


def test_oversized_cell_is_refused_with_the_limit():
    long_note = "注" * (MAX_CELL_CHARS + 1)
    with pytest.raises(EvidenceError) as caught:
        read_table(VALID.replace(",ok\n", f",{long_note}\n").encode(), "f.csv")
    p = caught.value.problems[0]
    assert (p.row, p.column) == (2, "note")
    assert f"longer than the limit of {MAX_CELL_CHARS} characters" in p.reason


def test_oversized_file_is_refused_with_the_limit(monkeypatch):
    import scoring.intake.tables as tables

    monkeypatch.setattr(tables, "MAX_FILE_BYTES", 100)
    with pytest.raises(EvidenceError) as caught:
        read_table(VALID.encode(), "f.csv")
    assert "larger than the limit of 100 bytes" in caught.value.problems[0].reason


def test_problem_report_is_formula_safe_and_resendable(tmp_path):
    """The problem rows CSV a firm downloads: a note that is a formula arrives as text in a
    spreadsheet, and the corrected report imports as it is (its own columns are ignored)."""
    import pandas as pd

    from scoring import SCHEME_FILE

    db = f"sqlite:///{tmp_path / 'g.db'}"
    assert gongkai("criteria", "load", str(SCHEME_FILE), "--db", db).returncode == 0
    bad = tmp_path / "firm.csv"
    bad.write_text("單位,任務編號,發佈時間,備註\n上海市,6.7,2017-06-01,\"=HYPERLINK(\"\"http://x\"\")\"\n",
                   encoding="utf-8")
    r = gongkai("import", str(bad), "--db", db)
    assert r.returncode == 1
    report = tmp_path / "firm.problems.csv"
    raw = pd.read_csv(report, dtype=str, keep_default_na=False)
    assert raw.loc[0, "備註"] == "'=HYPERLINK(\"http://x\")"  # text in a spreadsheet, not a formula
    report.write_text(report.read_text(encoding="utf-8-sig").replace("上海市", "濟南市"), encoding="utf-8")
    fixed = gongkai("import", str(report), "--db", db)
    assert fixed.returncode == 0, fixed.stderr
    from sqlmodel import Session

    from scoring.store import repository as store
    from scoring.store.db import engine_for

    with Session(engine_for(db)) as s:
        notes = store.evidence_with_provenance(s, scheme_id="shandong-2017")["note"].tolist()
    assert notes == ['=HYPERLINK("http://x")']  # stored as the firm wrote it
