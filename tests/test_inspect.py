"""The website inspection (網站檢查) on the fixture site served as of chosen dates with chosen faults:
each check at its boundary (4.9% vs 5.0% failed polls, 4 vs 5 blank or stale columns, 13 vs 14 days
without a home-page update, an undated item, a navigation-only home page), a veto over deductions,
the exact 75 → ×4/3 scaling of a department without public services, the indicators file's faults,
the CLI's columns and a 不合格 site imported as evidence of 6.4."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlmodel import Session

from scoring.collect.fetch import CollectSettings
from scoring.errors import SchemeError
from scoring.inspect import judge as j
from scoring.inspect.indicators import CRITERIA, load_inspection, parse_inspection
from scoring.store.accounts import Actor
from scoring.store.db import engine_for
from scoring.store.models import Evidence, Poll, PollPage
from scoring.synthetic.inspect_site import Column, Faults, InspectionSite, Item, every
from scoring.workflows import inspection as wi
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

ME = Actor("inspector", None)
FAST = CollectSettings(allow_private=True, timeout=3.0)  # generous: a loaded CI machine answers late
DAY = dt.date(2017, 6, 30)   # the inspection date of most tests
START = dt.date(2017, 1, 1)


def fresh(*extra: Column) -> list[Column]:
    """A well-kept site (news daily up to DAY, a consultation column) plus `extra` columns."""
    return [Column("gzdt", "工作动态", every("工作动态", START, DAY, 1)),
            Column("zxly", "咨询留言", every("留言答复", START, DAY, 7)), *extra]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'inspect.db'}"
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", url, env=clean_env()).returncode == 0
    return url


@pytest.fixture
def any_db(db_url: str) -> str:
    """The 2017 scheme in an empty database of each backend (SQLite; PostgreSQL when configured)."""
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db_url, env=clean_env()).returncode == 0
    return db_url


@pytest.fixture
def site():
    servers: list[InspectionSite] = []

    def serve(columns: list[Column], faults: Faults | None = None, as_of: dt.date = DAY) -> InspectionSite:
        servers.append(InspectionSite("省统计局", columns, as_of=as_of, faults=faults).start())
        return servers[-1]

    yield serve
    for s in servers:
        s.stop()


def poll(db: str, s: InspectionSite, at: dt.datetime, body: str = "tongji") -> int:
    s.as_of = at.date()
    return wi.poll(db, actor=ME, body=body, site=s.url, at=at, settings=FAST).id


def judged(db: str, as_of: dt.date = DAY, **overrides) -> dict[str, j.Finding]:
    _, _, [result] = wi.inspect(db, actor=ME, as_of=as_of, overrides=overrides or None)
    return {f.check: f for f in result.judgement.findings}


def verdict(db: str, as_of: dt.date = DAY, **overrides) -> j.Judgement:
    _, _, [result] = wi.inspect(db, actor=ME, as_of=as_of, overrides=overrides or None)
    return result.judgement


# ---- 站點無法訪問: 5% of a week's polls, at least 20 a day --------------------------------------------

def test_failed_polls_veto_at_five_percent_and_not_at_four_point_nine(db, site):
    s = site(fresh())
    ids, failed = [], []
    for day in range(7):
        for k in range(20):
            at = dt.datetime.combine(DAY - dt.timedelta(days=6 - day), dt.time(8)) + dt.timedelta(minutes=30 * k)
            n = day * 20 + k
            s.faults = Faults(down=n in (3, 40, 77, 101, 139), slow=3.5 if n in (20, 60) else 0.0)
            ids.append(poll(db, s, at))
            if s.faults.down or s.faults.slow:
                failed.append(ids[-1])
    f = judged(db)["unreachable"]
    assert (f.result, f.shown, f.threshold, f.polls) == ("veto", "7/140 = 5.00%", "≥ 5%", sorted(failed))
    assert len(f.captures) == 5  # the 503 answers are archived; the two slow polls got no answer in time
    assert verdict(db).verdict == "failed"
    s.faults = Faults()
    for k in range(3):  # three more polls that load: 7 of 143 = 4.895%
        poll(db, s, dt.datetime.combine(DAY, dt.time(20)) + dt.timedelta(minutes=10 * k))
    f = judged(db)["unreachable"]
    assert (f.result, f.shown, f.measured) == ("pass", "7/143 = 4.90%", 7 / 143)
    assert verdict(db).verdict == "qualified"
    # the day after: a day of the window has no poll, so a share under 5% decides no pass
    f = judged(db, DAY + dt.timedelta(days=1))["unreachable"]
    assert (f.result, f.shown) == ("insufficient", "6/123 = 4.88%; 07-01 0 polls (< 20 a day)")
    assert verdict(db, DAY + dt.timedelta(days=1)).verdict == "insufficient"


def _polls(elapsed: list[float], loaded: list[bool] | None = None, day: dt.date = DAY) -> list[j.Poll]:
    """A week of polls, spread evenly, with the given times (pure judging, no site)."""
    per_day = len(elapsed) // 7
    return [j.Poll(i, dt.datetime.combine(day - dt.timedelta(days=6 - i // per_day), dt.time(0))
                   + dt.timedelta(minutes=i % per_day), (loaded or [True] * len(elapsed))[i], e)
            for i, e in enumerate(elapsed)]


@pytest.mark.parametrize(("slow", "total", "result"), [
    (49, 1000, "pass"),     # 4.9%
    (50, 1000, "veto"),     # 5.0%, inclusive
    (7, 140, "veto"),
    (6, 140, "pass"),
])
def test_the_share_boundary_is_exact(slow, total, result):
    insp = load_inspection()
    polls = _polls([15.0] * slow + [1.0] * (total - slow))  # 15 s counts as not loaded (超過（含）15秒)
    f = j.judge(insp, polls, DAY).findings[0]
    assert (f.check, f.result, len(f.polls)) == ("unreachable", result, slow)


def test_a_page_in_just_under_fifteen_seconds_loaded():
    f = j.judge(load_inspection(), _polls([14.999] * 140), DAY).findings[0]
    assert (f.result, f.shown) == ("pass", "0/140 = 0.00%")


# ---- 首頁不更新: 2 weeks; an undated item is not an update; a navigation-only home page ---------------

@pytest.mark.parametrize(("faults", "where"), [
    (Faults(), "首页 home page"),
    (Faults(nav_only=True), "二级页面 second-level pages"),
])
def test_home_page_not_updated_vetoes_at_fourteen_days(db, site, faults, where):
    last = dt.date(2017, 6, 10)
    s = site([Column("gzdt", "工作动态", every("工作动态", START, last, 1)),
              Column("zxly", "咨询留言", every("留言答复", START, last, 1))], faults)
    poll(db, s, dt.datetime.combine(last + dt.timedelta(days=13), dt.time(9)))
    poll(db, s, dt.datetime.combine(last + dt.timedelta(days=14), dt.time(9)))
    f13 = judged(db, last + dt.timedelta(days=13))["home_not_updated"]
    f14 = judged(db, last + dt.timedelta(days=14))["home_not_updated"]
    assert (f13.result, f13.measured, f13.shown) == ("pass", 13, f"{where}: 13 days (newest 2017-06-10)")
    assert (f14.result, f14.measured, f14.threshold) == ("veto", 14, "≥ 14")
    assert verdict(db, last + dt.timedelta(days=14)).vetoes == ["home_not_updated"]


def test_an_undated_item_counts_as_not_updated(db, site):
    s = site(fresh(), Faults(undated_home=True))  # today's items on the home page, without their dates
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)["home_not_updated"]
    assert (f.result, f.shown, f.measured) == ("veto", "首页 home page: no dated item", float("inf"))
    home = _home_items(db)
    assert home and all(date is None for _, _, date, _ in home)


def test_a_stale_home_page_vetoes_although_its_columns_are_fresh(db, site):
    s = site(fresh(), Faults(home_frozen=DAY - dt.timedelta(days=20)))
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)
    assert (f["home_not_updated"].result, f["home_not_updated"].measured) == ("veto", 20)
    assert f["columns_not_updated"].result == "pass"


def _home_items(db: str) -> list:
    with Session(engine_for(db)) as session:
        page = session.execute(select(PollPage).where(PollPage.role == "home")).scalars().first()  # type: ignore[arg-type]
        return json.loads(page.items) if page else []


# ---- 欄目不更新 and 空白欄目: 5 or more veto -------------------------------------------------------------

def _stale_news(n: int) -> list[Column]:
    names = ["部门动态", "县区动态", "要闻", "图片要闻", "基层动态", "工作动态二"]
    return [Column(f"s{k}", names[k], every(names[k], START, DAY - dt.timedelta(days=14), 1)) for k in range(n)]


@pytest.mark.parametrize(("stale", "result"), [(4, "pass"), (5, "veto")])
def test_stale_news_columns_veto_at_five(db, site, stale, result):
    # one 要聞-type column 13 days old (updated within 2 weeks) never counts
    s = site(fresh(Column("xw", "新闻动态", every("新闻", START, DAY - dt.timedelta(days=13), 1)), *_stale_news(stale)))
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)["columns_not_updated"]
    assert (f.result, f.measured) == (result, stale)
    assert f.shown == f"{stale}: " + "、".join(["部门动态", "县区动态", "要闻", "图片要闻", "基层动态"][:stale])
    assert len(f.captures) == stale


def test_notices_are_stale_after_six_calendar_months(db, site):
    edge = DAY - relativedelta(months=6)  # 2016-12-30: six months before the inspection date
    s = site(fresh(Column("tz1", "通知公告", [Item("通知", edge + dt.timedelta(days=1))]),
                   Column("tz2", "政策文件", [Item("文件", edge)])), as_of=DAY)
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)
    assert f["columns_not_updated"].shown == "1: 政策文件"
    assert (f["policy_stale"].result, f["policy_stale"].deduction) == ("deduct", 5)


@pytest.mark.parametrize(("blank", "result"), [(4, "pass"), (5, "veto")])
def test_blank_columns_veto_at_five(db, site, blank, result):
    s = site(fresh(*[Column(f"b{k}", f"专栏{k}") for k in range(blank)]))
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)
    assert (f["blank_columns"].result, f["blank_columns"].measured) == (result, blank)
    assert f["columns_not_updated"].measured == 0  # a blank column is not also counted as not updated


def test_a_site_without_a_consultation_channel_fails(db, site):
    s = site([Column("gzdt", "工作动态", every("工作动态", START, DAY, 1))])
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)["no_consultation"]
    assert (f.result, f.shown, f.threshold) == ("veto", "0", "≤ 0")


@pytest.mark.parametrize(("overdue", "result"), [(False, "pass"), (True, "veto")])
def test_a_message_unanswered_over_three_months_vetoes(db, site, overdue, result):
    three = DAY - relativedelta(months=3)  # 2017-03-30
    messages = [Item("问：办事时限", three, "未回复"),                      # waited exactly 3 months: not over
                Item("问：申请材料", three - dt.timedelta(days=40), "已回复"),  # answered
                Item("问：去年的问题", DAY - relativedelta(months=12) - dt.timedelta(days=1), "未回复")]  # over a year ago
    if overdue:
        messages.append(Item("问：收费标准", three - dt.timedelta(days=1), "未回复"))
    s = site([Column("gzdt", "工作动态", every("工作动态", START, DAY, 1)), Column("zxly", "咨询留言", messages)])
    poll(db, s, dt.datetime.combine(DAY, dt.time(9)))
    f = judged(db)["unanswered_messages"]
    assert (f.result, f.measured, f.shown) == (result, int(overdue), "1: 咨询留言" if overdue else "0")


# ---- deductions, the department scaling, a veto over everything ------------------------------------

def _deducting() -> list[Column]:
    """3 broken columns (1 point each), a policy column 7 months old (5), a broken service column (5)."""
    return fresh(*[Column(f"x{k}", name, every(name, START, DAY, 3), broken=True)
                   for k, name in enumerate(["专题专栏", "数据发布", "人事信息"])],
                 Column("zc", "政策文件", [Item("文件", DAY - relativedelta(months=7))]),
                 Column("bs", "网上办事", every("办事指南", START, DAY, 3), broken=True))


def test_deductions_add_up_to_the_score(db, site):
    poll(db, site(_deducting()), dt.datetime.combine(DAY, dt.time(9)))
    v = verdict(db)
    by = {f.check: f for f in v.findings}
    assert [(c, by[c].outcome) for c in ("broken_links", "policy_stale", "services_down")] == [
        ("broken_links", "deduct 3"), ("policy_stale", "deduct 5"), ("services_down", "deduct 5")]
    # one poll: the week of polls 站點無法訪問 needs is missing, so no pass is decided
    assert (v.out_of, v.deductions, v.score, v.verdict) == (100, 13, 87.0, "insufficient")
    assert by["broken_links"].settings == ["broken_link_cap", "broken_link_points"]


def test_a_department_without_public_services_is_scored_out_of_75_scaled_by_four_thirds(db, site):
    poll(db, site(_deducting()), dt.datetime.combine(DAY, dt.time(9)))
    v = verdict(db, without_services=["tongji"])
    by = {f.check: f for f in v.findings}
    assert by["services_down"].result == "not_applicable"
    # (75 − 3 − 5) × 4/3 = 67 × 4/3 = 89.333…
    assert (v.out_of, v.deductions, v.score) == (75, 8, 89.33)
    # a deduction stops at its cap: 20 a broken link, at most 50 → (75 − 50 − 5) × 4/3 = 26.67: under 60 fails
    v = verdict(db, without_services=["tongji"], broken_link_points=20, broken_link_cap=50)
    assert (v.deductions, v.score, v.verdict, v.vetoes) == (55, 26.67, "failed", [])


def test_a_veto_makes_the_site_fail_whatever_its_deductions(db, site):
    poll(db, site([*_deducting(), *[Column(f"b{k}", f"专栏{k}") for k in range(5)]]), dt.datetime.combine(DAY, dt.time(9)))
    v = verdict(db)
    assert (v.score, v.vetoes, v.verdict) == (87.0, ["blank_columns"], "failed")


# ---- the indicators file -------------------------------------------------------------------------------

def test_the_indicators_file_states_the_documents_numbers():
    insp = load_inspection()
    u = insp.check("unreachable")
    assert (u.window.days, u.check.min_polls_per_day, u.check.timeout_seconds, u.threshold, u.check.inclusive) == (7, 20, 15, 0.05, True)
    assert [(g.words, g.window.days, g.window.months) for g in insp.check("columns_not_updated").check.columns] == [
        (["動態", "要聞"], 14, None), (["通知公告", "公告", "政策文件"], None, 6)]
    assert (insp.check("columns_long_stale").threshold, insp.check("columns_long_stale").settings) == (10, {"window": "long_stale_days"})
    assert (insp.header.total, insp.header.services_points, insp.header.fail_below) == (100, 25, 60)


def test_a_faulty_indicators_file_is_refused_naming_each_fault():
    text = CRITERIA.read_text(encoding="utf-8")
    text = text.replace("measure: blank_columns", "measure: blank_colums")
    text = text.replace("points: {setting: policy_stale_points}", "points: {setting: policy_points}")
    text = text.replace("    cap: {setting: service_down_cap}\n", "")
    with pytest.raises(SchemeError) as e:
        parse_inspection(text, "w.yaml", {"long_stale_days": "a year"})
    assert e.value.faults == [
        "setting long_stale_days: override 'a year' is not a int",
        "check blank_columns: measure blank_colums is not one of failed_poll_share, days_since_home_update, "
        "stale_columns, long_stale_columns, blank_columns, consultation_channels, broken_columns, "
        "service_columns_down, unanswered_messages, not_observed",
        "check policy_stale: points: no setting 'policy_points' (settings: without_services, long_stale_days, "
        "static_columns, consultation_columns, service_columns, unanswered_words, broken_link_points, broken_link_cap, "
        "service_down_points, service_down_cap, policy_stale_points, policy_stale_cap)",
        "check services_down: measure service_columns_down (deduct) needs cap",
    ]


# ---- the commands, and a 不合格 site as evidence of 6.4 ------------------------------------------------

def test_the_commands_and_the_evidence_they_feed(any_db, site, tmp_path):
    db = any_db
    env = clean_env(GONGKAI_COLLECT_ALLOW_PRIVATE="1", GONGKAI_COLLECT_TIMEOUT="3")
    s = site(fresh(*[Column(f"b{k}", f"专栏{k}") for k in range(5)]))
    r = gongkai("collect", "poll", "--body", "tongji", "--site", s.url, "--at", "2017-06-30T09:00", "--db", db, env=env)
    assert (r.returncode, r.stdout) == (0, "poll 1: home page loaded in " + r.stdout.split(" in ")[1])
    assert r.stdout.endswith("s; 7 columns, 0 did not load\n")
    r = gongkai("inspect", "--as-of", "2017-06-30", "--format", "csv", "--db", db, env=env)
    table = pd.read_csv(io.StringIO(r.stdout), dtype=str, keep_default_na=False)
    assert list(table.columns) == wi.FINDING_COLUMNS
    row = table.set_index("check").loc["blank_columns"]
    assert (row["result"], row["value"], row["threshold"], row["verdict"], row["polls"]) == ("veto", "5.0", "≥ 5", "failed", "1")
    assert len(row["captures"].split()) == 5
    r = gongkai("inspect", "--as-of", "2017-06-30", "--as-evidence", "--db", db, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("1 不合格 site imported as evidence: 1 new")
    with Session(engine_for(db)) as session:
        [e] = session.execute(select(Evidence).where(Evidence.obligation == "6.4")).scalars().all()  # type: ignore[arg-type]
        assert (e.body, e.period, e.value, e.url) == ("tongji", "2017-Q2", 0.0, s.url)
        assert e.attachment == row["captures"].split()[0]  # the first blank column's WARC record
        assert e.note == "网站检查 2017-06-30: 不合格 (单项否决 blank_columns) · polls 1"
        assert session.execute(select(Poll)).scalars().one().at == dt.datetime(2017, 6, 30, 1, 0)  # 09:00 in Shanghai
    r = gongkai("inspect", "--as-of", "2017-06-3", "--db", db, env=env)
    assert (r.returncode, r.stderr.strip()) == (1, "error: --as-of '2017-06-3' is not a date (YYYY-MM-DD)")
    bad = tmp_path / "bad.yaml"
    bad.write_text(CRITERIA.read_text(encoding="utf-8").replace("threshold: 0.05", "threshold: {setting: nope}"),
                   encoding="utf-8")
    r = gongkai("inspect", "--criteria", str(bad), "--db", db, env=env)
    assert r.returncode == 1, r.stderr
    assert r.stderr.splitlines()[1] == "  - " + (
        "check unreachable: threshold: no setting 'nope' (settings: without_services, long_stale_days, "
        "static_columns, consultation_columns, service_columns, unanswered_words, broken_link_points, broken_link_cap, "
        "service_down_points, service_down_cap, policy_stale_points, policy_stale_cap)")


def test_the_annual_report_has_the_inspection_section(db, site, tmp_path):
    from docx import Document

    s = site(fresh(*[Column(f"b{k}", f"专栏{k}") for k in range(5)]), as_of=dt.date(2018, 1, 31))
    poll(db, s, dt.datetime(2018, 1, 31, 9))
    html, xlsx, docx = (tmp_path / f"r.{x}" for x in ("html", "xlsx", "docx"))
    r = gongkai("report", "--out", str(html), "--out", str(xlsx), "--out", str(docx), "--as-of", "2018-01-31",
                "--db", db, env=clean_env())
    assert r.returncode == 0, r.stderr
    page = html.read_text(encoding="utf-8")
    assert '<h2 id="report_inspect">网站检查</h2>' in page and "（检查日期 2018-01-31）" in page
    sheet = pd.read_excel(xlsx, sheet_name="网站检查", header=None, dtype=str, engine="calamine")
    assert sheet.iloc[0, 0].endswith("（检查日期 2018-01-31）")  # the caption first, then the table
    assert sheet.iloc[2].tolist() == ["单位", "网站", "得分", "结论", "单项否决", "扣分", "监测记录"]
    assert sheet.iloc[3].fillna("").tolist() == ["省统计局", s.url, "100", "不合格", "首页不更新、空白栏目", "", "1"]  # news stopped 2017-06-30
    doc = Document(str(docx))
    table = next(t for t in doc.tables if [c.text for c in t.rows[0].cells][:2] == ["单位", "网站"])
    assert table.rows[1].cells[3].text == "不合格"
    r = gongkai("report", "--out", str(html), "--as-of", "2018-01-31", "--lang", "en", "--db", db, env=clean_env())
    assert '<h2 id="report_inspect">Website inspection</h2>' in html.read_text(encoding="utf-8")
    assert "Blank columns" in html.read_text(encoding="utf-8")


def test_a_firm_polls_and_sees_only_the_bodies_it_is_assigned(db, site):
    s = site(fresh())
    env = clean_env(GONGKAI_COLLECT_ALLOW_PRIVATE="1", GONGKAI_COLLECT_TIMEOUT="3")

    def as_(who: str, *args: str, **extra: str):
        return gongkai(*args, "--db", db, env=env | {"GONGKAI_USER": who, "GONGKAI_PASSWORD": f"{who}-password", **extra})

    assert gongkai("user", "add", "root", "--role", "admin", "--db", db,
                   env=env | {"GONGKAI_NEW_PASSWORD": "root-password"}).returncode == 0
    assert as_("root", "user", "add", "acme", "--role", "firm", "--firm", "甲公司",
               GONGKAI_NEW_PASSWORD="acme-password").returncode == 0
    assert as_("root", "user", "add", "vic", "--role", "viewer", GONGKAI_NEW_PASSWORD="vic-password").returncode == 0
    assert as_("root", "user", "assign", "acme", "--body", "jinan", "--obligation", "*").returncode == 0
    refused = as_("acme", "collect", "poll", "--body", "tongji", "--site", s.url)
    assert (refused.returncode, s.requests) == (1, [])
    assert "user acme (firm) may not crawl body tongji" in refused.stderr
    assert as_("root", "collect", "poll", "--body", "tongji", "--site", s.url, "--at", "2017-06-30T09:00").returncode == 0
    assert as_("acme", "collect", "poll", "--body", "jinan", "--site", s.url, "--at", "2017-06-30T10:00").returncode == 0
    mine = pd.read_csv(io.StringIO(as_("acme", "inspect", "--as-of", "2017-06-30", "--format", "csv").stdout))
    assert set(mine["body"]) == {"jinan"}  # tongji's poll is not the firm's to see
    everyone = pd.read_csv(io.StringIO(as_("root", "inspect", "--as-of", "2017-06-30", "--format", "csv").stdout))
    assert set(everyone["body"]) == {"jinan", "tongji"}
    viewer = as_("vic", "inspect")
    assert viewer.returncode == 1 and "may not collect" in viewer.stderr
    trail = as_("root", "audit", "--limit", "50").stdout
    assert "inspect_poll_refused" in trail and "inspect_refused" in trail
