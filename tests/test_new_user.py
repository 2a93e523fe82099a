"""What a new user tripped over (issue 26), each as the user meets it: the CLI without GONGKAI_USER,
`result` in two decimals, `runs list` naming the published runs, flag help, dates on the
assessment's clock (Asia/Shanghai), not the server's UTC."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from sqlmodel import Session, select

from scoring import workflows
from scoring.errors import GongkaiError
from scoring.local_time import local_column, local_day
from scoring.store.accounts import Actor
from scoring.store.db import engine_for
from scoring.store.models import Publication
from tests.cli import clean_env, gongkai
from tests.conftest import fresh_database
from tests.test_accounts import run
from tests.test_cycle import _site

EVA, QD = Actor("eva", "evaluator"), Actor("qd", "body")


@pytest.fixture
def final(tmp_path, monkeypatch):
    """The two-body site: a preliminary result (run 1), then the final one (run 2)."""
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    url, drop = fresh_database("sqlite", tmp_path)
    _site(url, tmp_path)
    prelim = workflows.publish(url, actor=EVA, stage="preliminary", today=dt.date(2018, 2, 1))
    workflows.score_current(url, actor=EVA, as_of=dt.date(2017, 12, 1))   # a working run between the two
    workflows.import_file(url, actor=Actor("root", "admin"), name="late.csv",   # 复核 evidence: the final's own run
                          data="單位,任務編號,發佈時間\n青島市,6.7,2017-12-10\n".encode())
    pub = workflows.publish(url, actor=EVA, stage="final", rectify_days=11, today=dt.date(2018, 2, 1))
    assert len({prelim.run_id, pub.run_id}) == 2
    yield url, prelim, pub
    drop()


def test_without_gongkai_user_the_cli_names_the_variable_and_counts_no_failed_sign_in(final):
    url, _, _ = final
    before = workflows.audit_entries(url, actor=EVA)
    r = gongkai("runs", "list", "--db", url, env=clean_env(GONGKAI_PASSWORD="whatever"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "set GONGKAI_USER to your account's name" in r.stderr and "wrong password" not in r.stderr
    after = workflows.audit_entries(url, actor=EVA)
    assert not set(after["action"]) & {"login_failed", "login_refused"}
    assert len(after) == len(before)


def test_result_prints_scores_in_two_decimals(final):
    url, _, _ = final
    r = run(url, "qd", "result")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if "qingdao" in line)
    score = workflows.body_result(url, actor=QD, body=None).scores.set_index("body").loc["qingdao", "score"]
    assert re.search(rf"\b{score:.2f}\b", row), row
    assert not re.search(r"\d\.\d{3,}", row), row   # never 65.176316


def test_runs_list_names_the_preliminary_and_the_final_run(final):
    url, prelim, pub = final
    r = run(url, "eva", "runs", "list")
    assert r.returncode == 0, r.stderr
    stages = {}
    for line in r.stdout.splitlines():
        if m := re.match(r"\s*(\d+)\s+\S+\s+\S+\s+(\S+)\s", line):
            stages[int(m[1])] = m[2]
    working = ({*stages} - {prelim.run_id, pub.run_id})
    assert stages[prelim.run_id] == "preliminary" and stages[pub.run_id] == "final", r.stdout
    assert working and {stages[w] for w in working} == {"—"}, r.stdout


def test_flags_show_no_type_in_help():
    r = gongkai("publish", "--help", env=clean_env(COLUMNS="120"))
    assert r.returncode == 0
    final = next(line for line in r.stdout.splitlines() if "--final" in line)
    assert "<bool>" not in r.stdout and "<int>" in r.stdout, r.stdout   # valued options keep their type
    assert "freeze the final result" in final


def test_local_time_is_the_assessments_clock():
    # 2026-12-04 17:30 UTC is 01:30 on 5 December in Jinan
    assert local_day(dt.datetime(2026, 12, 4, 17, 30)) == dt.date(2026, 12, 5)
    assert local_day(dt.datetime(2026, 12, 4, 15, 59)) == dt.date(2026, 12, 4)
    shown = local_column(pd.Series([dt.datetime(2026, 12, 4, 17, 30), None]))
    assert shown.iloc[0] == pd.Timestamp("2026-12-05 01:30") and pd.isna(shown.iloc[1])


def test_dates_a_user_reads_are_asia_shanghai_dates(final):
    """The final result published at 01:30 on 5 December (Beijing time; 17:30 on the 4th in UTC, as
    stored) says 5 December, as its notice is dated; the audit trail and the runs read the same clock."""
    url, _, pub = final
    with Session(engine_for(url)) as session:
        row = session.exec(select(Publication).where(Publication.id == pub.id)).one()
        row.published_at = dt.datetime(2026, 12, 4, 17, 30)
        session.add(row)
        session.commit()
    with pytest.raises(GongkaiError, match="the final result was published on 2026-12-05; appeals are closed"):
        workflows.add_appeal(url, actor=QD, body="qingdao", obligation="6.7", item="deadline", reason="x")
    with pytest.raises(GongkaiError, match="was published on 2026-12-05 "):
        workflows.publish(url, actor=EVA, stage="final", today=dt.date(2018, 2, 1))
    trail = workflows.audit_entries(url, actor=EVA)
    runs = workflows.runs(url, actor=EVA)
    now_here = pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None)
    # written moments ago: within minutes of the wall clock in Jinan (8 hours from UTC's)
    for when in (trail["at"].iloc[0], runs["created_at"].iloc[0]):
        assert abs(now_here - pd.Timestamp(when)) < pd.Timedelta(minutes=10), when


def _workbook(rows: list[list[str | None]], merged: bool = True) -> bytes:
    import io

    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out)
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v is not None:
                sheet.write(r, c, v)
    if merged:   # the title merged across the columns, as offices make them
        sheet.merge_range(0, 0, 0, 2, rows[0][0])
    book.close()
    return out.getvalue()


def test_an_xlsx_with_a_merged_title_above_the_header_is_read_with_its_own_row_numbers(scheme_2017):
    from scoring.errors import EvidenceError
    from scoring.intake.evidence import validate
    from scoring.intake.tables import read_table

    data = _workbook([["2017年政務公開證據匯總表", None, None], ["單位", "任務編號", "發佈時間"],
                      ["濟南市", "6.7", "2017-06-10"], ["上海市", "6.7", "2017-06-11"]])
    table = read_table(data, "匯總.xlsx")
    assert table[["row", "body", "obligation", "published_at"]].astype(str).values.tolist() == [
        ["3", "濟南市", "6.7", "2017-06-10"], ["4", "上海市", "6.7", "2017-06-11"]]
    with pytest.raises(EvidenceError) as refused:   # a problem names the row the spreadsheet shows
        validate(table, scheme_2017, "匯總.xlsx")
    assert [(p.row, p.value) for p in refused.value.problems] == [(4, "上海市")]


def test_an_xlsx_with_no_header_says_where_the_header_must_be():
    from scoring.errors import EvidenceError
    from scoring.intake.tables import read_table

    with pytest.raises(EvidenceError) as refused:
        read_table(_workbook([["標題", None, None], ["甲", "乙", "丙"]]), "x.xlsx")
    message = str(refused.value)
    assert "row 1, file = '標題': no header row: row 1 must name the columns (單位, 任務編號, 發佈時間 …)" in message
    assert "TypeError" not in message
