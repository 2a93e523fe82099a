"""The 网站检查 page through streamlit's AppTest: the verdicts as of a chosen date, one site's checks
with their polls and captures, the failed site imported as evidence of 6.4, and the page refusing a
role without the collect permission."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from scoring.collect.fetch import CollectSettings
from scoring.store.accounts import Actor
from scoring.synthetic.inspect_site import Column, InspectionSite, every
from scoring.workflows import inspection as wi
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
DAY = dt.date(2017, 6, 30)


def test_the_inspection_page_shows_verdicts_and_feeds_the_failed_site(tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'dash.db'}"
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=clean_env()).returncode == 0
    columns = [Column("gzdt", "工作动态", every("工作动态", dt.date(2017, 1, 1), DAY, 1)),
               *[Column(f"b{k}", f"专栏{k}") for k in range(5)]]  # five blank columns, no consultation channel
    site = InspectionSite("省统计局", columns, as_of=DAY).start()
    try:
        wi.poll(db, actor=Actor("t", None), body="tongji", site=site.url, at=dt.datetime(2017, 6, 30, 9),
                settings=CollectSettings(allow_private=True, timeout=1))
    finally:
        site.stop()
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "网站检查"
    # today (the clock's 2018-02-05): no poll in the two weeks before …
    assert at.info[0].value.startswith("检查日期前两周内无监测记录")
    at.date_input(key="inspect_as_of").set_value(DAY).run()  # … as of the poll's day, the site is judged
    assert not at.exception, [e.message for e in at.exception]
    verdicts, checks = at.dataframe[0].value, at.dataframe[1].value
    assert verdicts.iloc[0][["单位", "得分", "结论", "单项否决"]].tolist() == ["tongji", 100.0, "不合格",
                                                                        "blank_columns no_consultation"]
    assert checks.set_index("指标").loc["home_not_updated", "结果"] == "通过"
    blank = checks.set_index("指标").loc["blank_columns"]
    assert (blank["类型"], blank["结果"], blank["阈值"], blank["监测记录"]) == ("单项否决", "单项否决", "≥ 5", "1")
    assert len(blank["存档记录"].split()) == 5
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.success[0].value == "已导入：批次 1（新增 1，替换 0，未变 0）"
    from dashboard.ui import Context

    ctx = at.session_state["ctx"]
    direct = AppTest.from_file(str(Path(APP).parent / "app_pages" / "inspect.py"), default_timeout=60)
    direct.session_state["ctx"] = Context(ctx.lang, ctx.db, ctx.scheme_id, ctx.as_of, ctx.state, Actor("x", "viewer"))
    direct.run()
    assert direct.error[0].value == "您的角色无权使用此页面。" and not direct.dataframe
