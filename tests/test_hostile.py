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
from tests.test_cli import CASE_SCHEME

SCHEME = make_scheme({}, [{"id": "jinan", "name": "濟南市", "kind": "city"}], [
    {"id": "1", "applies_to": ["city"], "points": 2, "rules": [{"kind": "deadline", "due": "2017-05-31"}]},
    {"id": "2", "applies_to": ["city"], "points": 2,
     "rules": [{"kind": "periodic", "frequency": "monthly"}, {"kind": "rating"}]},
    {"id": "3", "applies_to": ["city"], "points": 2,
     "rules": [{"kind": "response", "steps": [{"name": "release", "within": {"hours": 5}}]}]},
])
SCHEME_TEXT = CASE_SCHEME  # the same two-city scheme as the CLI tests
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


IMPOSSIBLE = ["2017-05-20 25:00", "2017/5/20 99:00", "2017-05-20 23:60", "2017-05-20 48:00", "2017-05-20 14:75",
              "2017-05-20 24:00", "2017-05-20 12:00:60", "2017年5月20日 25:00", "2017-05-20T10:00+15:00"]


def _refusal(data: bytes, source: str = "f.csv") -> EvidenceError:
    with pytest.raises(EvidenceError) as caught:
        validate(read_table(data, source), SCHEME, source)
    return caught.value


@pytest.mark.parametrize("when", IMPOSSIBLE)
def test_impossible_published_time_is_a_row_problem_not_rolled_over(when):
    """25:00 was read as 01:00 the next day (and judged late); 99:00, 23:60, 14:75 were accepted."""
    error = _refusal(VALID.replace("2017-05-20,", f"{when},").encode())
    assert [(p.row, p.column, p.value) for p in error.problems] == [(2, "published_at", when)]
    assert error.problems[0].reason.startswith("no such time: hours run 0–23, minutes and seconds 0–59")
    assert f"row 2, published_at = {when!r}: no such time" in str(error)


@pytest.mark.parametrize("when", ["2017-07-14 25:00", "2017年7月14日 09:60"])
def test_impossible_event_time_is_a_row_problem(when):
    error = _refusal(VALID.replace("2017-07-14 09:00", when).encode())
    assert [(p.row, p.column, p.value) for p in error.problems] == [(5, "event_at", when)]
    assert "no such time" in error.problems[0].reason


def test_impossible_time_in_an_xlsx_text_cell_is_a_row_problem():
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet()
    for r, row in enumerate([["單位", "任務編號", "發佈時間"], ["濟南市", "1", "2017-05-20 25:00"]]):
        for c, v in enumerate(row):
            ws.write_string(r, c, v)
    wb.close()
    error = _refusal(buf.getvalue(), "f.xlsx")
    assert [(p.row, p.column, p.value) for p in error.problems] == [(2, "published_at", "2017-05-20 25:00")]


def test_real_times_at_the_edges_still_import():
    text = VALID.replace("2017-05-20,", "2017-05-20 23:59:59,").replace("2017-07-14 12:00", "2017-07-14T12:00+08:00")
    ev = validate(read_table(text.encode(), "f.csv"), SCHEME, "f.csv")
    assert str(ev.loc[ev["obligation"] == "1", "published_at"].iat[0]) == "2017-05-20 23:59:59"


def test_impossible_time_on_the_command_line_names_row_column_and_value(tmp_path):
    """2017-06-16 25:00 was scored as 06-17 01:00, late; now the user is told which cell is wrong."""
    scheme, ev = tmp_path / "t.yaml", tmp_path / "e.csv"
    scheme.write_text(SCHEME_TEXT, encoding="utf-8")
    ev.write_text("單位,任務編號,發佈時間\n濟南,1,2017-06-16 25:00\n青島市,1,2017-06-16 14:00\n", encoding="utf-8")
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "row 2, column published_at, value '2017-06-16 25:00': no such time: hours run 0–23" in r.stderr


RANGE = "give a date from 2017-05-04 (its issue date) to 2022-12-31 (5 years after its period ends on 2017-12-31)"


@pytest.fixture()
def files(tmp_path):
    scheme, ev = tmp_path / "t.yaml", tmp_path / "e.csv"
    scheme.write_text(SCHEME_TEXT, encoding="utf-8")
    ev.write_text("單位,任務編號,發佈時間\n濟南,1,2017-06-16\n", encoding="utf-8")
    return scheme, ev


@pytest.mark.parametrize("when", ["0001-01-01", "9999-12-31", "1900-01-01", "2017-05-03", "2023-01-01"])
def test_assessment_date_outside_the_scheme_is_refused_with_the_range(files, when):
    """0001-01-01 and 9999-12-31 ended in an OverflowError traceback; 1900-01-01 graded every body."""
    scheme, ev = files
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), "--as-of", when)
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stdout == ""
    assert f"error: assessment date (--as-of) {when} is outside what scheme t can mean: {RANGE}" in r.stderr


@pytest.mark.parametrize("when", ["2017-05-04", "2017-05-05", "2022-12-31"])
def test_assessment_dates_at_the_edges_are_scored(files, when):
    """The first and last day the scheme can mean are scored; on 2017-05-05 nothing is due yet, and
    the table says so with empty scores (it ended in a TypeError traceback)."""
    scheme, ev = files
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), "--as-of", when)
    assert r.returncode == 0, r.stderr
    assert "jinan" in r.stdout and "qingdao" in r.stdout


def test_assessment_date_is_refused_in_database_mode_report_and_publish(tmp_path):
    """Wherever an assessment date enters, the same refusal, and no run is stored."""
    from scoring import SCHEME_FILE

    db = f"sqlite:///{tmp_path / 'g.db'}"
    assert gongkai("criteria", "load", str(SCHEME_FILE), "--db", db).returncode == 0
    range_2017 = ("give a date from 2017-05-04 (its issue date) to 2022-12-31 "
                  "(5 years after its period ends on 2017-12-31)")
    for args in (["score", "--as-of", "1900-01-01"], ["score", "--as-of", "0001-01-01"],
                 ["report", "--as-of", "9999-12-31", "--out", str(tmp_path / "r.xlsx")],
                 ["publish", "--preliminary", "--as-of", "1900-01-01"],
                 ["robustness", "--as-of", "1900-01-01", "--draws", "2"]):
        r = gongkai(*args, "--db", db)
        assert r.returncode == 1 and "Traceback" not in r.stderr, (args, r.stderr)
        when = args[args.index("--as-of") + 1]
        assert f"assessment date (--as-of) {when} is outside what scheme shandong-2017 can mean: {range_2017}" \
            in r.stderr, args
    assert "no scoring runs stored yet" in gongkai("runs", "list", "--db", db).stdout
    assert not (tmp_path / "r.xlsx").exists()


def test_a_scheme_whose_own_assessment_date_it_cannot_mean_does_not_load(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text(SCHEME_TEXT.replace("  issued: 2017-05-04\n", "  issued: 2017-05-04\n  as_of: 1900-01-01\n"),
                   encoding="utf-8")
    r = gongkai("criteria", "check", str(bad))
    assert r.returncode == 1
    assert f"scheme.as_of 1900-01-01: {RANGE}" in r.stderr


def test_a_huge_line_is_not_echoed_back(tmp_path, files):
    """A 50 MB line without a newline: the error echoed it twice (104 MB on stderr). Every echoed value
    is cut to 200 characters, with its length."""
    scheme, _ = files
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * 50_000_000)
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(big))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert len(r.stderr) < 2000
    cut = "x" * 200 + "… (50,000,000 characters)"
    assert f"row 1, column {cut}, value '{cut}': unknown column; valid columns: body (單位)" in r.stderr


def test_echoed_values_are_cut_in_the_error_message_too():
    from scoring.errors import RowProblem

    error = EvidenceError("f.csv", [RowProblem(2, "note", "注" * 5000, "why")])
    assert str(error).endswith(f"row 2, note = '{'注' * 200}… (5,000 characters)': why")


def test_a_header_wider_than_the_limit_is_refused_before_reading_rows(tmp_path, files):
    """A header of a million empty columns (2 MB) took 272 s and 13 GB and was accepted."""
    import time

    from scoring.intake.tables import MAX_COLUMNS

    scheme, _ = files
    wide = tmp_path / "wide.csv"
    wide.write_text("單位,任務編號" + "," * 1_000_000 + "\n濟南,1" + "," * 1_000_000 + "\n", encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(EvidenceError) as caught:
        read_table(wide.read_bytes(), "wide.csv")
    assert time.perf_counter() - started < 1
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [(1, "file", "wide.csv")]
    assert caught.value.problems[0].reason == (f"the header has 1,000,002 columns, more than the limit of {MAX_COLUMNS} "
                                               "(an evidence file has at most 12 known columns)")
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(wide))
    assert r.returncode == 1 and "the header has 1,000,002 columns, more than the limit of 200" in r.stderr


def test_a_header_at_the_limit_reads_and_quoted_commas_are_one_cell():
    from scoring.intake.tables import MAX_COLUMNS

    text = VALID.replace("\n", "," * (MAX_COLUMNS - 10) + "\n", 1)  # VALID has 10 columns: exactly the limit
    assert outcome(text.encode()) == "imported"
    with pytest.raises(EvidenceError, match=f"the header has {MAX_COLUMNS + 1} columns"):
        read_table(VALID.replace("\n", "," * (MAX_COLUMNS - 9) + "\n", 1).encode(), "f.csv")
    quoted = VALID.replace("備註\n", '備註,"' + "," * 500 + '"\n', 1)  # one (unknown) cell holding 500 commas
    with pytest.raises(EvidenceError) as caught:
        read_table(quoted.encode(), "f.csv")
    assert "unknown column" in caught.value.problems[0].reason


def test_an_xlsx_sheet_wider_than_the_limit_is_refused():
    import io

    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["單位", "任務編號", "發佈時間"])
    ws.write_string(0, 5000, "x")
    ws.write_row(1, 0, ["濟南市", "1", "2017-05-20"])
    wb.close()
    with pytest.raises(EvidenceError) as caught:
        read_table(buf.getvalue(), "f.xlsx")
    assert caught.value.problems[0].reason.startswith("the sheet has 5,001 columns, more than the limit of 200")
