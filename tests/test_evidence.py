"""Reading evidence files: encodings, headers, spellings, and the exact report of every bad row."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
import xlsxwriter

from scoring.errors import EvidenceError, RowProblem
from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from tests.conftest import make_scheme

BODIES = [{"id": "jinan", "name": "濟南市", "kind": "city", "aliases": ["Jinan"]},
          {"id": "fgw", "name": "省發展改革委", "kind": "department"}]
OBLIGATIONS = [
    {"id": "1.1", "leads": ["fgw"], "points": 3,
     "rules": [{"kind": "periodic", "frequency": "monthly", "within": {"working_days": 10}}]},
    {"id": "2.1", "applies_to": ["city"], "points": 2, "rules": [{"kind": "deadline", "due": "2017-05-31"}]},
    {"id": "6.2", "applies_to": ["city", "department"], "points": 4, "rules": [{"kind": "rating"}]},
    {"id": "6.3", "applies_to": ["city", "department"], "points": 6,
     "rules": [{"kind": "response", "steps": [{"name": "release", "within": {"hours": 5}}]}]},
]


@pytest.fixture(scope="module")
def scheme():
    return make_scheme({}, BODIES, OBLIGATIONS)


def load(scheme, data: bytes):
    return validate(read_table(data, "f.csv"), scheme, "f.csv")


def problems(scheme, text: str) -> list[RowProblem]:
    with pytest.raises(EvidenceError) as caught:
        load(scheme, text.encode("utf-8"))
    return caught.value.problems


def test_gb18030_simplified_fullwidth_imports(scheme):
    text = ("单位,任务编号,期间,发布时间\n"
            "省发展改革委,１．１,２０１７－０３,２０１７年４月１０日 ０９：３０\n"
            "济南,2.1,,2017/5/31\n")
    ev = load(scheme, text.encode("gb18030"))
    assert ev[["body", "obligation", "period"]].values.tolist() == [
        ["fgw", "1.1", "2017-03"], ["jinan", "2.1", ""]]
    assert ev["published_at"].tolist() == [pd.Timestamp("2017-04-10 09:30"), pd.Timestamp("2017-05-31")]
    assert ev["has_time"].tolist() == [True, False]


def test_utf8_bom_and_bilingual_headers(scheme):
    text = "\ufeffbody (單位),obligation (任務編號),value (分值)\nJinan,6.2,85\n"
    assert load(scheme, text.encode("utf-8"))["value"].tolist() == [85.0]


def test_offsets_convert_to_scheme_time(scheme):
    text = "body,obligation,event,event_at,step,published_at\n濟南市,6.3,E1,2017-07-14T01:00Z,release,2017-07-14 12:00+08:00\n"
    ev = load(scheme, text.encode())
    assert ev.loc[0, "event_at"] == pd.Timestamp("2017-07-14 09:00")
    assert ev.loc[0, "published_at"] == pd.Timestamp("2017-07-14 12:00")


def test_xlsx(scheme):
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["單位", "任務編號", "期間", "發佈時間"])
    ws.write_row(1, 0, ["省發展改革委", "1.1", "2017-03"])
    import datetime as dt
    ws.write_datetime(1, 3, dt.datetime(2017, 4, 10), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()
    ev = validate(read_table(buf.getvalue(), "f.xlsx"), scheme, "f.xlsx")
    assert ev.loc[0, "published_at"] == pd.Timestamp("2017-04-10")


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("上海市,2.1,,2017-05-01,", [RowProblem(2, "body", "上海市", "unknown body")]),
        ("濟南市,9.9,,2017-05-01,", [RowProblem(2, "obligation", "9.9",
                                                "unknown obligation; valid: 1.1, 2.1, 6.2, 6.3")]),
        ("濟南市,1.1,2017-03,2017-04-01,", [RowProblem(2, "obligation", "1.1",
                                                        "this body is not assessed on this obligation")]),
        ("fgw,1.1,2017-Q1,2017-04-01,", [RowProblem(2, "period", "2017-Q1",
          "this period is not one the obligation's periodic rule expects (wrong frequency or outside its dates)")]),
        ("fgw,1.1,2018-01,2018-02-01,", [RowProblem(2, "period", "2018-01",
          "this period is not one the obligation's periodic rule expects (wrong frequency or outside its dates)")]),
        ("fgw,1.1,March,2017-04-01,", [RowProblem(2, "period", "March",
                                                  "not a period (2017-03, 2017-Q1, 2017-W05, 2017)")]),
        ("濟南市,2.1,,31/05/2017,", [RowProblem(2, "published_at", "31/05/2017",
          "not a date or date-time (2017-05-31, 2017-05-31 14:00, 2017/5/31, 2017年5月31日 14:00)")]),
        ("濟南市,2.1,,,", [RowProblem(2, "published_at", "", "missing: a publication needs its date")]),
        ("濟南市,6.2,,,101", [RowProblem(2, "value", "101", "a rating is between 0 and 100")]),
        ("濟南市,6.2,,,good", [RowProblem(2, "value", "good", "not a number")]),
        ("濟南市,6.2,,,80\n濟南,6.2,,,85", [RowProblem(3, "value", "85", "this assessor already gave this item "
                                                 "another value in row 2 (a rating or share takes one value per assessor)")]),
        ("濟南市,2.1,,2917-06-10,", [RowProblem(2, "published_at", "2917-06-10", "the year is outside 1900–2200: a typo?")]),
        ("濟南市,2.1,,9999-12-31,", [RowProblem(2, "published_at", "9999-12-31", "the year is outside 1900–2200: a typo?")]),
    ],
)
def test_bad_rows_are_reported_exactly(scheme, rows, expected):
    assert problems(scheme, "單位,任務編號,期間,發佈時間,分值\n" + rows + "\n") == expected


def test_hours_window_needs_a_time(scheme):
    got = problems(scheme, "body,obligation,event,event_at,step,published_at\n"
                           "jinan,6.3,E1,2017-07-14 09:00,release,2017-07-14\n"
                           "jinan,6.3,E2,2017-07-15 09:00,speech,2017-07-15 10:00\n")
    assert got == [RowProblem(2, "published_at", "2017-07-14", "an hours window needs a time of day, not just a date"),
                   RowProblem(3, "step", "speech", "unknown step; valid: release")]


def test_every_problem_is_listed(scheme):
    got = problems(scheme, "body,obligation,published_at\n上海,2.1,2017-05-01\n濟南,2.1,\n濟南,7,2017-05-01\n")
    assert [(p.row, p.column) for p in got] == [(2, "body"), (3, "published_at"), (4, "obligation")]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file: no header and no evidence rows"),
        ("單位,任務編號\n".encode(), "empty file: no evidence rows"),
        (b"%PDF-1.4\x00\x01\x02binary", "not a CSV or XLSX file (binary content)"),
        (b"PK\x03\x04broken zip", "not a readable XLSX workbook"),
        (b"body,obligation,colour\njinan,2.1,red\n", "unknown column; valid columns: body (單位)"),
    ],
)
def test_unreadable_files(scheme, data, reason):
    with pytest.raises(EvidenceError) as caught:
        load(scheme, data)
    assert reason in caught.value.problems[0].reason
    assert caught.value.problems[0].row == 1


# ---- issue 11: evidence as firms send it -------------------------------------------------------

def test_sightings_of_one_item_are_all_kept_and_the_earliest_counts(scheme):
    """The same monthly report found on the department's site (04-20) and on the portal (04-10)."""
    from scoring.method.engine import score

    text = ("body,obligation,period,published_at,url\n"
            "fgw,1.1,2017-03,2017-04-20,http://fgw.example/m3\n"
            "fgw,1.1,2017-03,2017-04-10,http://portal.example/m3\n"
            "fgw,1.1,2017-03,2017-04-20,http://fgw.example/m3\n")  # the first row seen twice: one sighting
    ev = load(scheme, text.encode())
    assert ev[["row", "published_at", "record"]].values.tolist() == [
        [2, pd.Timestamp("2017-04-20"), "publication#2"], [3, pd.Timestamp("2017-04-10"), "publication"]]
    assert (ev.attrs["rows"], ev.attrs["sightings"]) == (3, 2)
    # 2017-03 + 10 working days (Qingming 04-03/04 off) = 2017-04-17: on time only by the portal's copy
    f = score(scheme, ev, dt.date(2017, 5, 4)).findings  # the scheme's issue date: the first as_of it can mean
    mar = f[(f["obligation"] == "1.1") & (f["item"] == "2017-03")].iloc[0]
    assert (mar["published_at"], mar["outcome"]) == (pd.Timestamp("2017-04-10"), "on_time")


def test_count_publications_need_no_period_and_any_label(scheme_count):
    text = ("body,obligation,period,published_at,url\n"
            "jinan,6.1,,2017-03-08,http://a/1\n"
            "jinan,6.1,,2017-09-20,http://a/2\n"
            "jinan,6.1,L0,2017-11-02,http://a/3\n"
            "jinan,6.1,,2017-03-08,http://a/1\n")  # a copy of row 2: the same publication
    ev = load(scheme_count, text.encode())
    assert len(ev) == 3 and ev.attrs["sightings"] == 1


def test_dates_out_of_range_are_row_problems_not_crashes(scheme):
    got = problems(scheme, "body,obligation,event,event_at,step,published_at\n"
                           "jinan,6.3,E1,9999-12-31 10:00,release,2017-07-14 12:00\n"
                           "fgw,1.1,,,,2917-06-10\n")
    assert RowProblem(2, "event_at", "9999-12-31 10:00", "the year is outside 1900–2200: a typo?") in got
    assert RowProblem(3, "published_at", "2917-06-10", "the year is outside 1900–2200: a typo?") in got


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("fgw,1.1,2017-03,,,,2016-01-01",
         RowProblem(2, "published_at", "2016-01-01",
                    "dated before its period begins (2017-03): a publication cannot precede what it reports")),
        ("fgw,1.1,2017-03,,,,2017-02-28",
         RowProblem(2, "published_at", "2017-02-28",
                    "dated before its period begins (2017-03): a publication cannot precede what it reports")),
        ("jinan,6.3,,E1,2017-07-14 09:00,release,2017-07-14 08:00",
         RowProblem(2, "published_at", "2017-07-14 08:00",
                    "dated before its event (2017-07-14 09:00:00): a response cannot precede the event")),
        ("jinan,2.1,,,,,2016-12-31",
         RowProblem(2, "published_at", "2016-12-31", "dated before the item could exist (2017-01-01: the "
                    "scheme period's start or the deadline's anchor)")),
    ],
)
def test_a_publication_before_its_item_could_exist_is_refused(scheme, row, expected):
    assert problems(scheme, "body,obligation,period,event,event_at,step,published_at\n" + row + "\n") == [expected]


def test_a_publication_on_the_first_day_of_its_period_is_accepted(scheme):
    ev = load(scheme, b"body,obligation,period,published_at\nfgw,1.1,2017-03,2017-03-01\n")
    assert len(ev) == 1


def test_xlsx_period_turned_into_a_date_by_excel_reads_as_the_period(scheme):
    import datetime as dt

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["單位", "任務編號", "期間", "發佈時間"])
    ws.write_row(1, 0, ["省發展改革委", "1.1"])
    ws.write_datetime(1, 2, dt.datetime(2017, 3, 1), wb.add_format({"num_format": "mmm-yy"}))
    ws.write_string(1, 3, "2017-04-10")
    wb.close()
    ev = validate(read_table(buf.getvalue(), "f.xlsx"), scheme, "f.xlsx")
    assert ev.loc[0, "period"] == "2017-03"


def test_xlsx_template_formats_the_period_column_as_text():
    import zipfile

    from scoring.intake.templates import template_bytes

    with zipfile.ZipFile(io.BytesIO(template_bytes("periodic", "xlsx"))) as z:
        styles, sheet = z.read("xl/styles.xml").decode(), z.read("xl/worksheets/sheet1.xml").decode()
    assert '<numFmt numFmtId="164" formatCode="@"/>' in styles  # "@": Excel's text format
    cell_formats = styles.split("<cellXfs")[1].split("</cellXfs>")[0].split("<xf ")[1:]
    assert cell_formats[1].startswith('numFmtId="164"')
    assert '<col min="3" max="3" width="16.7109375" style="1"' in sheet  # 期間 is column 3, style 1 is "@"


@pytest.fixture(scope="module")
def scheme_count():
    return make_scheme({}, BODIES, [{"id": "6.1", "applies_to": ["city"], "points": 4,
                                     "rules": [{"kind": "count", "min": 2}]}])


BIG5_TEXT = "單位,任務編號,發佈時間,備註\n濟南市,2.1,2017-05-31,在門戶網站發佈工作要點\n"


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (BIG5_TEXT.encode("big5"), "BIG5"),
        ("body,obligation,published_at\n濟南市,2.1,2017-05-31\n".encode("big5"), "BIG5"),
        (BIG5_TEXT.encode("utf-16"), "UTF-16"),            # with a byte-order mark
        (BIG5_TEXT.encode("utf-16-le"), "UTF-16"),         # without
    ],
)
def test_big5_and_utf16_are_refused_by_name(scheme, data, found):
    with pytest.raises(EvidenceError) as caught:
        load(scheme, data)
    problem = caught.value.problems[0]
    assert (problem.row, problem.column) == (1, "file")
    assert problem.reason.startswith(f"the file is {found} text; accepted: UTF-8 (with or without BOM) or GB18030/GBK")


@pytest.mark.parametrize("text", [BIG5_TEXT, BIG5_TEXT.replace("濟南市", "济南市"),
                                  "body,obligation,published_at\n濟南,2.1,2017-05-31\n",
                                  "body,obligation,published_at\n济南,2.1,2017-05-31\n"])
def test_gb18030_is_never_taken_for_big5(scheme, text):
    ev = load(scheme, text.encode("gb18030"))
    assert ev["body"].iloc[0] == "jinan"


def test_xlsx_date_cells_as_plain_numbers_are_the_dates_they_show(scheme):
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf)
    sheet = book.add_worksheet()
    rows = [["單位", "任務編號", "發佈時間", "事件編號", "發生時間", "環節"],
            ["濟南市", "2.1", 42886, "", "", ""],                 # 2017-05-31, its date format lost
            ["濟南市", "6.3", 42930.5, "E1", 42930.375, "release"]]  # 2017-07-14 12:00 and 09:00
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            sheet.write(r, c, v)
    book.close()
    table = read_table(buf.getvalue(), "serial.xlsx")
    assert table["published_at"].tolist() == ["2017-05-31", "2017-07-14 12:00"]
    assert table["event_at"].tolist() == ["", "2017-07-14 09:00"]
    ev = validate(table, scheme, "serial.xlsx")
    assert str(ev["published_at"].iloc[0].date()) == "2017-05-31"
