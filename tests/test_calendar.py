"""The working-day calendar past the package (issues 30 and 25, "Time"): a year's holiday notice loaded,
shown and audited; the cycle run with the clock at the end of a year computes its dates on the
estimated holidays and marks them 暂定 in every place they appear, exact once the year is loaded;
scoring in a year nobody covers refuses and names the command that fixes it.

NOTICE_2027 is made for these tests, not the State Council's notice of 2027: its 元旦 break runs to
Monday 4 January so that loading it must move a provisional date."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
import yaml
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.errors import CalendarError, EvidenceError
from scoring.intake.calendar import read_calendar
from scoring.method.calendar import PACKAGE_YEARS, WorkCalendar, estimated_holidays, package_days
from tests.cli import clean_env, gongkai
from tests.conftest import BACKENDS, HEADER, SCHEME_2017, fresh_database
from tests.test_accounts import _build, run
from tests.test_cycle import ok, refused

CITY = {"id": "jinan", "name": "濟南市", "kind": "city"}
NOTICE_2027 = """date,type,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-01-04,holiday,元旦
2027-02-05,holiday,春节
2027-02-06,holiday,春节
2027-02-07,holiday,春节
2027-02-08,holiday,春节
2027-02-09,holiday,春节
2027-02-10,holiday,春节
2027-02-11,holiday,春节
2027-01-30,workday,春节
2027-02-20,workday,春节
"""


def cli(url, *args, clock=None, unset_clock=False):
    env = clean_env(**({"GONGKAI_CLOCK": clock} if clock else {}))
    if unset_clock:
        env.pop("GONGKAI_CLOCK", None)
    return gongkai(*args, "--db", url, env=env)


def docx_text(path) -> str:
    return "\n".join(p.text for p in Document(str(path)).paragraphs)


# ---- the notice file -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, problem", [
    ("date,type\n2027-13-01,holiday\n", (2, "date", "2027-13-01", "not a date")),
    ("date,type\n2027-01-01,off\n", (2, "type", "off", "not holiday (放假) or workday")),
    ("date,type\n2027-01-01,holiday\n2027/1/1,holiday\n", (3, "date", "2027/1/1", "listed twice (also row 2)")),
    ("date,type\n2027-01-05,workday\n", (2, "type", "workday", "2027-01-05 is a weekday (星期二)")),
    ("date,type\n1899-01-01,holiday\n", (2, "date", "1899-01-01", "a year between 1901 and 2099")),
    ("day,kind\n2027-01-01,holiday\n", (1, "date", "day,kind", "missing column")),
    ("date,type\n", (1, "file", "n.csv", "no days")),
])
def test_every_bad_row_is_named(text, problem):
    with pytest.raises(EvidenceError) as caught:
        read_calendar(text.encode(), "n.csv")
    row, column, value, reason = problem
    assert [(p.row, p.column, p.value) for p in caught.value.problems] == [(row, column, value)]
    assert reason in caught.value.problems[0].reason


def test_the_notice_reads_alike_as_gbk_csv_chinese_words_and_yaml():
    csv = read_calendar(NOTICE_2027.encode(), "n.csv")
    assert (len(csv), sorted(set(csv["type"]))) == (13, ["holiday", "workday"])
    words = NOTICE_2027.replace("date,type,name", "日期,类型,名称").replace(",holiday,", ",放假,").replace(",workday,", ",上班,")
    assert read_calendar(words.encode("gb18030"), "n.csv").equals(csv)
    by_year = {2027: {"holidays": list(csv.loc[csv["type"] == "holiday", "date"]),
                      "workdays": list(csv.loc[csv["type"] == "workday", "date"])}}
    assert read_calendar(yaml.safe_dump(by_year).encode(), "n.yaml")[["date", "type"]].equals(csv[["date", "type"]])


# ---- the calendar as data ------------------------------------------------------------------------

def test_estimated_holidays_are_the_statutory_days():
    # 2027: 春节 is 2月6日 (除夕 2月5日), 清明 4月5日, 端午 6月9日, 中秋 9月15日
    days = dict(estimated_holidays(2027))
    assert [d.isoformat() for d in days] == [
        "2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-04-05", "2027-05-01",
        "2027-05-02", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-02", "2027-10-03"]
    assert days[dt.date(2027, 2, 5)] == "春節" and days[dt.date(2027, 9, 15)] == "中秋節"


def test_a_year_nobody_covers_is_refused_for_scoring_and_estimated_for_the_cycle():
    cal = WorkCalendar()
    with pytest.raises(CalendarError, match=r"no data for 2027 .*`gongkai calendar load FILE`"):
        cal.add_working_days(np.array(["2026-12-04"], dtype="datetime64[D]"), 20)
    # 12-07..12-31 are 19 working days; 2027-01-01 is 元旦 (estimated): the 20th is Monday 01-04
    assert cal.cycle_date(dt.date(2026, 12, 4), 20) == (dt.date(2027, 1, 4), True)
    assert cal.cycle_date(dt.date(2026, 12, 4), 5) == (dt.date(2026, 12, 11), False)
    loaded = WorkCalendar({2027: {"holidays": [dt.date(2027, 1, d) for d in (1, 2, 3, 4)], "workdays": []}})
    assert loaded.cycle_date(dt.date(2026, 12, 4), 20) == (dt.date(2027, 1, 5), False)


@settings(max_examples=300, deadline=None)
@given(st.integers(2004, 2040), st.integers(-12, 12), st.integers(1, 30))
def test_cycle_dates_around_new_year(year, offset, n):
    """From the last days of a year to the first of the next: the date is n working days on, a working
    day itself, and provisional exactly when it reaches a year nobody covers."""
    day = dt.date(year, 12, 31) + dt.timedelta(days=offset)
    cal = WorkCalendar()
    end, provisional = cal.cycle_date(day, n)
    assert provisional == any(y not in PACKAGE_YEARS for y in range(day.year, end.year + 1))
    used = cal.estimated() if provisional else cal
    work = used._workdays(day.year, end.year)
    between = work[(work > np.datetime64(day)) & (work <= np.datetime64(end))]
    assert len(between) == n and between[-1] == np.datetime64(end)


# ---- loading and showing, as users do ------------------------------------------------------------

def test_load_show_and_every_wrong_role_or_bad_file(tmp_path):
    url, _, _ = _build(fresh_database("sqlite", tmp_path)[0], tmp_path)
    notice = tmp_path / "notice-2027.csv"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    assert "2027: nobody: not loaded" in ok(run(url, "vic", "calendar", "show", "2027"))
    for who in ("vic", "acme"):
        refused(run(url, who, "calendar", "load", str(notice)), "may not")
    bad = tmp_path / "bad.csv"
    bad.write_text(NOTICE_2027 + "2027-03-02,workday,\n", encoding="utf-8")
    refused(run(url, "eva", "calendar", "load", str(bad)), "row 15, column type, value 'workday': 2027-03-02 is a weekday")
    assert "2027: nobody: not loaded" in ok(run(url, "eva", "calendar", "show", "2027"))  # nothing half-loaded
    assert ok(run(url, "eva", "calendar", "load", str(notice))) == \
        "2027: 11 holidays, 2 make-up working days loaded from notice-2027.csv\n"
    shown = ok(run(url, "vic", "calendar", "show", "2027"))
    assert shown.startswith("2027: loaded notice notice-2027.csv (eva, ")
    assert ok(run(url, "vic", "calendar", "show", "2027", "--format", "csv")).splitlines()[:3] == [
        "date,weekday,type,name", "2027-01-01,星期五,holiday,元旦", "2027-01-02,星期六,holiday,元旦"]
    assert "2017: the chinesecalendar package" in ok(run(url, "vic", "calendar", "show", "2017"))
    trail = ok(run(url, "root", "audit"))
    assert re.search(r"eva\s+calendar_load\s+notice-2027\.csv: 2027: 11 holidays", trail)
    assert "vic calendar_load_refused" in re.sub(r"\s+", " ", trail) and "acme calendar_load_refused" in re.sub(r"\s+", " ", trail)


# ---- the cycle at the end of a year --------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_the_cycle_in_december_is_provisional_until_the_year_is_loaded(backend, tmp_path):
    url, drop = fresh_database(backend, tmp_path)
    try:
        ok(cli(url, "demo"))
        today = "2026-12-04T10:00+08:00"
        assert "appeals until 2026-12-11\n" in ok(cli(url, "publish", "--preliminary", clock=today))
        final = cli(url, "publish", "--final", clock=today)
        assert "466 整改 problems opened, due 2027-01-04（暂定）" in ok(final)
        assert "暂定 (provisional)" in final.stderr and "gongkai calendar load FILE" in final.stderr
        listed = ok(cli(url, "problem", "list"))
        assert listed.count("2027-01-04（暂定）") == 466
        ok(cli(url, "notice", "--out", str(tmp_path / "n.docx"), clock=today))
        assert "于2027年1月4日（暂定）前" in docx_text(tmp_path / "n.docx")
        if backend == "sqlite":  # 67 documents (≈ 10 s, issue 26): once is enough to read one as its body does
            ok(cli(url, "rectify", "--out", str(tmp_path / "r"), clock=today))
            assert "请于2027年1月4日（暂定）前完成整改" in docx_text(tmp_path / "r" / "jinan-整改通知书.docx")

        notice = tmp_path / "notice-2027.csv"
        notice.write_text(NOTICE_2027, encoding="utf-8")
        loaded = ok(cli(url, "calendar", "load", str(notice)))
        assert "publication 2: 整改 due 2027-01-04 (暂定) → 2027-01-05" in loaded  # 01-04 is off in this notice
        listed = ok(cli(url, "problem", "list"))
        assert "暂定" not in listed and listed.count("2027-01-05") == 466
        ok(cli(url, "notice", "--out", str(tmp_path / "n2.docx"), clock=today))
        assert "于2027年1月5日前" in docx_text(tmp_path / "n2.docx") and "暂定" not in docx_text(tmp_path / "n2.docx")
        assert "calendar_recompute" in ok(cli(url, "audit", "--limit", "3"))
    finally:
        drop()


def test_a_feedback_window_across_new_year(tmp_path):
    """Published on 2026-12-28 with 5 working days: 12-29, 12-30, 12-31, (元旦) 01-04, 01-05 — provisional;
    appeals on 01-05 are in time; the loaded notice (01-04 off) moves the end to 01-06, exactly."""
    url, _ = fresh_database("sqlite", tmp_path)
    ok(cli(url, "demo"))
    assert "appeals until 2027-01-05（暂定）" in ok(cli(url, "publish", "--preliminary", clock="2026-12-28T10:00"))
    appeal = ("appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline", "--reason", "已公开")
    assert "appeals are no longer accepted" in cli(url, *appeal, clock="2027-01-06T09:00").stderr
    notice = tmp_path / "notice-2027.csv"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    assert "publication 1: feedback window closes 2027-01-05 (暂定) → 2027-01-06" in ok(cli(url, "calendar", "load", str(notice)))
    assert "appeals until 2027-01-06\n" in ok(cli(url, "result", "--body", "qingdao"))
    assert "appeal 1 filed" in ok(cli(url, *appeal, clock="2027-01-06T09:00"))


@pytest.mark.parametrize("clock, exact", [
    ("2025-12-31T17:00+08:00", True),    # the last working day of a year the package covers
    ("2026-12-31T17:00+08:00", False),   # the last working day of 2026: everything ends in 2027
    ("2027-01-04T09:00+08:00", False),   # the first (estimated) working day of 2027
])
def test_the_cycle_with_the_clock_at_the_turn_of_a_year(tmp_path, clock, exact):
    url, _ = fresh_database("sqlite", tmp_path)
    ok(cli(url, "demo"))
    prelim = ok(cli(url, "publish", "--preliminary", clock=clock))
    final = ok(cli(url, "publish", "--final", clock=clock))
    assert ("暂定" not in prelim + final) == exact
    ok(cli(url, "notice", "--out", str(tmp_path / "n.docx"), clock=clock))
    issued = dt.datetime.fromisoformat(clock).date()
    assert f"{issued:%Y年%-m月%-d日}" in docx_text(tmp_path / "n.docx")


def test_the_real_clock_runs_the_cycle_whatever_the_day(tmp_path):
    """This test uses the real clock on purpose: whatever today is, the cycle completes, and its dates
    are marked 暂定 exactly when they fall past the years the package covers."""
    url, _ = fresh_database("sqlite", tmp_path)
    ok(cli(url, "demo", unset_clock=True))
    ok(cli(url, "publish", "--preliminary", unset_clock=True))
    final = ok(cli(url, "publish", "--final", unset_clock=True))
    due = dt.date.fromisoformat(re.search(r"due (\d{4}-\d\d-\d\d)", final).group(1))
    assert ("暂定" in final) == (due.year not in PACKAGE_YEARS)


# ---- scoring: exact or refused -------------------------------------------------------------------

def test_scoring_in_a_year_nobody_covers_refuses_and_names_the_command(tmp_path):
    deadline = {"id": "1", "section": ["一"], "title": "t", "source": "—", "applies_to": ["city"], "points": 5,
                "rules": [{"kind": "deadline", "due": {"after": "issued", "within": {"working_days": 3}}}]}
    doc = {"scheme": {**HEADER, "id": "y2031", "issued": "2031-04-28",
                      "period": {"start": "2031-01-01", "end": "2031-12-31"}},
           "bodies": [CITY], "obligations": [deadline]}
    scheme = tmp_path / "y2031.yaml"
    scheme.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    url, _ = fresh_database("sqlite", tmp_path)
    ok(cli(url, "criteria", "load", str(scheme)))
    refused(cli(url, "score"), "no data for 2031")
    refused(cli(url, "score"), "`gongkai calendar load FILE`")
    # 2031-04-28 is a Monday; with 04-29..05-01 off, 3 working days on is 05-06 (Tue)
    notice = tmp_path / "2031.csv"
    notice.write_text("date,type\n2031-04-29,holiday\n2031-04-30,holiday\n2031-05-01,holiday\n", encoding="utf-8")
    ok(cli(url, "calendar", "load", str(notice)))
    findings = ok(cli(url, "score", "--level", "finding", "--format", "csv"))
    assert ",1,deadline,deadline,2031-05-06," in findings


def test_a_loaded_year_takes_precedence_and_a_run_says_its_calendar_moved(tmp_path):
    """The 2017 notice as the package has it, but 2017-06-16 made a holiday: 6.7 (30 working days after
    2017-05-04) is then due 06-19, and 青島's publication of 06-17 turns from late to on time."""
    url, _ = fresh_database("sqlite", tmp_path)
    ok(cli(url, "criteria", "load", str(SCHEME_2017)))
    ev = tmp_path / "ev.csv"
    ev.write_text("單位,任務編號,發佈時間\n青島市,6.7,2017-06-17\n", encoding="utf-8")
    ok(cli(url, "import", str(ev)))
    before = ok(cli(url, "score", "--level", "finding", "--format", "csv"))
    assert "qingdao,6.7,deadline,deadline,2017-06-16,2017-06-17,late," in before
    days = package_days(2017)
    notice = tmp_path / "2017.csv"
    notice.write_text(days[["date", "type"]].to_csv(index=False) + "2017-06-16,holiday\n", encoding="utf-8")
    ok(cli(url, "calendar", "load", str(notice)))
    refused(cli(url, "runs", "verify", "1"), "run 1 cannot be reproduced: the working-day calendar changed since run 1")
    after = ok(cli(url, "score", "--level", "finding", "--format", "csv"))
    assert "qingdao,6.7,deadline,deadline,2017-06-19,2017-06-17,on_time," in after
