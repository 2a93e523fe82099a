"""Every dashboard page through streamlit's AppTest, on a fresh database with the demo loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring.method.engine import score
from scoring.method.explain import explained

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_DATABASE_URL", f"sqlite:///{tmp_path / 'dash.db'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


def page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture(scope="module")
def demo_card(scheme_2017, demo_evidence):
    return score(scheme_2017, demo_evidence)


def test_rankings_show_the_demo_leader(app, demo_card):
    cities = demo_card.scores[demo_card.scores["kind"] == "city"]
    table = app.dataframe[0].value
    assert table.iloc[0]["单位"] == cities.iloc[0]["name"]
    assert table.iloc[0]["得分"] == pytest.approx(round(cities.iloc[0]["score"], 2))
    assert table["名次"].tolist() == cities["rank"].tolist()
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["参评单位"] == "17"
    assert metrics["4%规则达标"] == "16 / 17"  # 聊城市's own assessment gives 3%
    assert table.set_index("单位").loc["聊城市", "4%规则"] == "未达标"


def test_rankings_compare_with_an_earlier_run(app):
    runs = app.selectbox[0].options
    assert len(runs) == 2  # (none) and the run stored when the dashboard first scored
    app.selectbox[0].select_index(1).run()
    table = app.dataframe[0].value
    assert set(table["较所选运行变化"]) == {0.0}


def test_city_gaps_open_to_their_findings(app, demo_card):
    at = page(app, "gaps")
    at.selectbox[0].set_value("linyi").run()
    found = explained(demo_card, "linyi")
    worst = demo_card.gaps_of("linyi").iloc[0]
    labels = [e.label for e in at.expander]
    assert labels[0].startswith(f"{worst['obligation']} ")
    assert labels[0].endswith(f"失分 {worst['gap']:.2f}")
    # the late press conference after 臨沂's emergency is named with how late it was
    late = found[(found["obligation"] == "6.3") & (found["outcome"] == "late")].iloc[0]
    tables = [d.value for d in at.dataframe]
    rows = [r for t in tables if "事项" in t for r in t.to_dict("records") if r["事项"] == late["item"]]
    assert rows and rows[0]["结果"] == "逾期" and rows[0]["逾期"] == "6小时"


def test_departments_page(app, demo_card):
    at = page(app, "departments")
    depts = demo_card.scores[demo_card.scores["kind"] == "department"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["名次"] == f"1 / {len(depts)}"
    assert metrics["得分"] == f"{depts.iloc[0]['score']:.2f}"


def test_evidence_page_shows_provenance(app, demo_evidence):
    at = page(app, "evidence")
    table = at.dataframe[0].value
    assert len(table) == len(demo_evidence)
    assert set(table["导入机构"]) == {"示例評估機構（合成數據）"}
    assert table["文件"].iloc[0] == "demo（合成數據 synthetic）"
    assert list(table.columns[:8]) == ["记录编号", "单位", "任务编号", "期间", "事件编号", "环节", "发布时间", "分值"]
    assert table["发布时间"].iloc[0] == "2017-03-19 00:00" and table["分值"].iloc[0] == ""  # no "None"


def test_import_page_reports_bad_rows_and_imports_good_ones(app):
    at = page(app, "import_evidence")
    bad = "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n上海市,6.7,2017-06-10\n".encode("gb18030")
    at.file_uploader[0].upload("firm.csv", bad, "text/csv").run()
    assert at.error[0].value.startswith("firm.csv: 1")
    assert at.dataframe[0].value.to_dict("records") == [
        {"row": 3, "column": "body", "value": "上海市", "reason": "unknown body"}]
    good = "單位,任務編號,分值,評估機構\n濟南市,6.4,55,另一機構\n".encode("gb18030")
    at.file_uploader[0].upload("ok.csv", good, "text/csv").run()
    assert "新增 1" in at.success[0].value
    at.button[0].click().run()
    at = page(at, "evidence")
    assert "另一機構" in set(at.dataframe[0].value["导入机构"])


def test_scheme_page_what_if_refuses_a_share_below_4_percent(app):
    at = page(app, "scheme")
    assert at.metric[0].value == "4%"
    assert any("「按月公開全省財政收支情況" in t.value for t in at.text)
    at.number_input(key="whatif_share").set_value(0.03).run()
    assert "transparency_share 0.03 is below min_transparency_share 0.04" in at.error[0].value


def test_what_if_points_rerank_without_new_findings(demo_card):
    """The what-if editor's computation: 6.6 (the 4% share) weighted 60 sinks 聊城市, whose own
    assessment gives 政務公開 3%, to the last city rank; nothing else about the findings changes."""
    from scoring.method.engine import rescore

    heavy = demo_card.scheme.with_changes({"6.6": 60.0})
    _, after = rescore(heavy, demo_card.findings)
    cities = after[after["kind"] == "city"].set_index("body")
    assert cities.loc["liaocheng", "rank"] == 17
    before = demo_card.scores.set_index("body")
    assert before.loc["liaocheng", "rank"] < 17


def test_scheme_page_what_if_table_starts_unchanged(app):
    at = page(app, "scheme")
    table = at.dataframe[-1].value
    assert table["新名次"].tolist() == table["原名次"].tolist()
    assert table["新得分"].tolist() == table["原得分"].tolist()


def test_report_page_offers_the_workbook(app):
    at = page(app, "report")
    at.multiselect[0].set_value([".xlsx"]).run()
    at.button[0].click().run()
    assert not at.error
    assert "下载 .xlsx" in [b.label for b in at.get("download_button")]


def test_audit_page_shows_the_demo_import_and_the_run(app):
    at = page(app, "audit")
    trail = at.dataframe[0].value
    assert list(trail.columns) == ["编号", "时间", "用户", "操作", "方案", "详情", "文件哈希（SHA-256）"]
    assert trail["操作"].tolist()[-3:] == ["score", "import", "scheme_load"]
    assert "demo（合成數據 synthetic）" in trail.loc[trail["操作"] == "import", "详情"].iloc[0]


@pytest.mark.parametrize(("lang", "title"), [("zh-Hant", "指標"), ("en", "Scheme"), ("zh-Hans", "指标")])
def test_languages(app, lang, title):
    app.radio(key="lang").set_value(lang).run()
    at = page(app, "scheme")
    assert at.title[0].value == title


@pytest.fixture()
def accounts_app(tmp_path, monkeypatch):
    """The dashboard on a database with accounts: the login form comes first."""
    from sqlmodel import Session

    from scoring.store import accounts
    from scoring.store.db import engine_for

    url = f"sqlite:///{tmp_path / 'acc.db'}"
    monkeypatch.setenv("GONGKAI_DATABASE_URL", url)
    AppTest.from_file(APP, default_timeout=120).run()  # loads the demo into the empty database
    with Session(engine_for(url)) as s:
        root = accounts.Actor("root", None)
        for name, role in (("root", "admin"), ("vic", "viewer"), ("acme", "firm"), ("eva", "evaluator")):
            accounts.add_user(s, name=name, password=f"{name}-password", role=role, by=root)
            root = accounts.Actor("root", "admin")
        s.commit()
    return AppTest.from_file(APP, default_timeout=120).run()


def sign_in(at: AppTest, name: str, password: str | None = None) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password or f"{name}-password")
    at.button[0].click().run()
    return at


def test_login_is_required_and_wrong_passwords_refused(accounts_app):
    at = accounts_app
    assert not at.title and at.text_input[1].proto.type == at.text_input[1].proto.PASSWORD
    sign_in(at, "vic", "not-the-password")
    assert at.error[0].value == "用户名或密码错误。"  # in the UI language; no word of environment variables
    assert not at.title
    sign_in(at, "nobody", "whatever-it-is")
    assert at.error[0].value == "用户名或密码错误。" and "GONGKAI" not in at.error[0].value


def test_viewer_reads_but_cannot_import_or_reject(accounts_app):
    at = sign_in(accounts_app, "vic")
    assert at.title[0].value == "排名"
    at = page(at, "evidence")
    assert not at.get("form")  # no rejection form for a viewer
    for forbidden in ("import_evidence", "report", "audit"):  # not offered to a viewer at all
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{forbidden}.py")


def test_firm_sees_only_its_imports_and_no_rankings(accounts_app):
    at = sign_in(accounts_app, "acme")
    assert at.title[0].value == "证据"  # a firm's first page: the demo was not its import
    assert len(at.dataframe[0].value) == 0
    for forbidden in ("rankings", "gaps", "departments", "scheme", "report", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{forbidden}.py")
    at = page(at, "import_evidence")
    assert at.file_uploader


def test_evaluator_rejects_evidence_with_a_reason(accounts_app):
    at = page(sign_in(accounts_app, "eva"), "evidence")
    at.number_input[-1].set_value(1)
    at.text_input[-1].input("网址无法打开")
    next(b for b in at.button if b.label == "驳回").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success and "已驳回" in at.success[0].value
    at = page(at, "evidence")
    assert at.dataframe[0].value.set_index("记录编号").loc[1, "驳回理由"] == "网址无法打开"


@pytest.mark.parametrize(("page_file", "role"), [("import_evidence", "viewer"), ("report", "viewer"),
                                                 ("audit", "firm"), ("rankings", "firm"), ("scheme", "firm")])
def test_every_page_checks_the_role_itself(app, page_file, role):
    """Even reached directly (not through the menu), a page refuses a role it does not serve."""
    from dashboard.ui import Context
    from scoring.store.accounts import Actor

    ctx = app.session_state["ctx"]
    at = AppTest.from_file(str(Path(APP).parent / "app_pages" / f"{page_file}.py"), default_timeout=60)
    at.session_state["ctx"] = Context(ctx.lang, ctx.db, ctx.scheme_id, ctx.as_of, ctx.state, Actor("x", role))
    at.run()
    assert at.error[0].value == "您的角色无权使用此页面。"
    assert not at.title and not at.file_uploader and not at.dataframe
