"""Every dashboard page through streamlit's AppTest, on a fresh database with the demo loaded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring.i18n import script
from scoring.method.engine import score
from scoring.method.explain import explained

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture()
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_DATABASE_URL", f"sqlite:///{tmp_path / 'dash.db'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


def unescaped(markdown: str) -> str:
    """Markdown source as the reader sees it (user text in it is escaped by `dashboard.ui.plain`)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def shown(element) -> str:
    return unescaped(element.value)


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
    assert table.iloc[0]["单位"] == script(cities.iloc[0]["name"], "zh-Hans")   # 萊蕪市 shown 莱芜市
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
    labels = [unescaped(e.label) for e in at.expander]
    assert labels[0].startswith(f"{worst['obligation']} ")
    assert labels[0].endswith(f"失分 {worst['gap']:.2f}")
    # the late press conference after 臨沂's emergency is named with how late it was
    late = found[(found["obligation"] == "6.3") & (found["outcome"] == "late")].iloc[0]
    tables = [d.value for d in at.dataframe]
    rows = [r for t in tables if "事项" in t for r in t.to_dict("records") if r["事项"] == late["item"]]
    assert rows and rows[0]["结果"] == "逾期" and rows[0]["逾期"] == "6小时"
    # the dates are whole, not cut at their header's width (issue 26): each date column 150 px wide
    import json

    widths = [{k: v.get("width") for k, v in json.loads(d.proto.columns).items() if k in ("期限", "发布时间")}
              for d in at.dataframe if "事项" in d.value]
    assert widths and all(w == {"期限": 150, "发布时间": 150} for w in widths), widths


def test_departments_page(app, demo_card):
    at = page(app, "departments")
    depts = demo_card.scores[demo_card.scores["kind"] == "department"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["名次"] == f"1 / {len(depts)}"
    assert metrics["得分"] == f"{depts.iloc[0]['score']:.2f}"


def test_departments_page_labels_a_central_unit(app):
    """Issue 11: 人民銀行濟南分行 is not part of the provincial government; the page says so."""
    at = page(app, "departments")
    assert not any(c.value.startswith("中央垂直管理单位") for c in at.caption)
    at.selectbox[0].set_value("renhang").run()
    assert any(c.value.startswith("中央垂直管理单位：不属于省政府") for c in at.caption)


def test_evidence_page_shows_provenance(app, demo_evidence):
    at = page(app, "evidence")
    table = at.dataframe[0].value
    assert len(table) == len(demo_evidence)
    assert set(table["导入机构"]) == {"示例评估机构（合成数据）"}   # one script: 示例評估機構 shown in 简体
    assert table["文件"].iloc[0] == "demo（合成数据 synthetic）"
    assert list(table.columns[:8]) == ["记录编号", "单位", "任务编号", "期间", "事件编号", "环节", "发布时间", "分值"]
    first = demo_evidence.sort_values("row").iloc[0]
    assert table["发布时间"].iloc[0] == first["published_at"].strftime("%Y-%m-%d %H:%M")  # to the minute
    assert table["分值"].iloc[0] == ""  # no "None"


def test_import_page_reports_bad_rows_and_imports_good_ones(app):
    at = page(app, "import_evidence")
    bad = "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n上海市,6.7,2017-06-10\n".encode("gb18030")
    at.file_uploader[0].upload("firm.csv", bad, "text/csv").run()
    assert shown(at.error[0]).startswith("firm.csv: 1")
    assert at.dataframe[0].value.to_dict("records") == [
        {"row": 3, "column": "body", "value": "上海市", "reason": "unknown body"}]
    good = "單位,任務編號,分值,評估機構\n濟南市,6.4,55,另一機構\n".encode("gb18030")
    at.file_uploader[0].upload("ok.csv", good, "text/csv").run()
    assert "新增 1" in at.success[0].value
    at.button[0].click().run()
    at = page(at, "evidence")
    assert "另一机构" in set(at.dataframe[0].value["导入机构"])


def test_scheme_page_what_if_refuses_a_share_below_4_percent(app):
    at = page(app, "scheme")
    assert at.metric[0].value == "4%"
    assert any("「按月公开全省财政收支情况" in t.value for t in at.text)
    at.number_input(key="whatif_share").set_value(0.03).run()
    assert "transparency_share 0.03 is below min_transparency_share 0.04" in shown(at.error[0])


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


def test_report_page_offers_each_part_written_apart(app, monkeypatch):
    """A nation's body sections are CSVs beside the report: the page offers each under its own name."""
    from scoring.report import write as writer

    monkeypatch.setattr(writer, "BODIES_INLINE", 5)
    at = page(app, "report")
    at.multiselect[0].set_value([".html"]).run()
    at.button[0].click().run()
    assert not at.error
    assert [b.label for b in at.get("download_button")] == ["下载 .html", "下载 各单位失分指标 (CSV)",
                                                            "下载 各单位失分事项 (CSV)"]


def test_audit_page_shows_the_demo_import_and_the_run(app):
    at = page(app, "audit")
    trail = at.dataframe[0].value
    assert list(trail.columns) == ["编号", "时间", "用户", "操作", "方案", "详情", "文件哈希（SHA-256）"]
    assert trail["操作"].tolist()[-4:] == ["score", "notice_settings", "import", "scheme_load"]  # the demo's example letterhead
    assert "demo（合成数据 synthetic）" in trail.loc[trail["操作"] == "import", "详情"].iloc[0]


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
            accounts.add_user(s, name=name, password=f"{name}-password", role=role, by=root,
                              firm="甲公司" if role == "firm" else None)
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
    assert not [b for b in at.button if b.label in ("驳回", "接受（重新提交的值）")]  # no rejection form for a viewer
    for forbidden in ("import_evidence", "report", "audit"):  # not offered to a viewer at all
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{forbidden}.py")


def test_firm_sees_only_its_imports_and_no_rankings(accounts_app):
    at = sign_in(accounts_app, "acme")
    assert at.title[0].value == "证据"  # a firm's first page: the demo was not its import
    assert len(at.dataframe[0].value) == 0
    for forbidden in ("rankings", "gaps", "departments", "scheme", "report", "audit", "self_assessment"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{forbidden}.py")
    at = page(at, "import_evidence")
    assert at.file_uploader


def test_evaluator_rejects_evidence_with_a_reason(accounts_app):
    at = page(sign_in(accounts_app, "eva"), "evidence")
    at.number_input[-1].set_value(1)
    next(i for i in at.text_input if i.label == "驳回理由").input("网址无法打开")
    next(b for b in at.button if b.label == "驳回").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success and "已驳回" in at.success[0].value
    at = page(at, "evidence")
    assert at.dataframe[0].value.set_index("记录编号").loc[1, "驳回理由"] == "网址无法打开"


@pytest.mark.parametrize(("page_file", "role"), [("import_evidence", "viewer"), ("report", "viewer"),
                                                 ("audit", "firm"), ("rankings", "firm"), ("scheme", "firm"),
                                                 ("appeals", "firm"), ("rectify", "firm"), ("gaps", "body")])
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


# ---- issue 12: the open session follows the account; sessions survive a reload; lockout; magic off ----

def login_form(at: AppTest) -> bool:
    return any(i.label == "用户名" for i in at.text_input)


def _url(at: AppTest) -> str:
    return at.session_state["ctx"].db


def _audit(url):
    from sqlmodel import Session

    from scoring.store.audit import audit_trail
    from scoring.store.db import engine_for

    with Session(engine_for(url)) as s:
        return audit_trail(s)


def test_upload_preview_makes_the_import_checks_and_audits_the_refusal(accounts_app, monkeypatch):
    """The preview of a firm's upload refuses rows outside its assignments (it used to say "valid"
    and fail on confirm with a traceback), and the refusal is in the audit trail under the firm."""
    import os

    from dashboard import data
    from scoring.store.accounts import Actor
    from scoring.workflows import ImportRefused

    url = os.environ["GONGKAI_DATABASE_URL"]
    upload = "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n".encode()
    with pytest.raises(ImportRefused) as refused:
        data.check_upload(url, "shandong-2017", "firm.csv", upload, Actor("acme", "firm"))
    assert [(p.row, p.column, p.reason) for p in refused.value.problems] == [
        (2, "body", "firm acme is not assigned this body and obligation")]
    assert refused.value.rows["問題 problems"].tolist() == ["body: firm acme is not assigned this body and obligation"]
    last = _audit(url).iloc[0]
    assert (last["action"], last["actor"]) == ("import_refused", "acme")


def test_dashboard_actions_are_audited_under_the_signed_in_account(accounts_app):
    import os

    from dashboard import data
    from scoring.store.accounts import Actor

    url = os.environ["GONGKAI_DATABASE_URL"]
    done = data.do_import(url, "shandong-2017", "root.csv", "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-12\n".encode(),
                          Actor("root", "admin"))
    assert done.new == 1
    at = sign_in(accounts_app, "eva")  # the rankings page scores the new evidence state and stores a run
    assert at.title[0].value == "排名" and not at.exception
    trail = _audit(url)
    assert trail.loc[trail["action"] == "import", "actor"].iloc[0] == "root"
    assert trail.loc[trail["action"] == "score", "actor"].iloc[0] == "eva"


def test_rankings_show_rank_intervals_and_flag_uncertain_grades(app, demo_card):
    from scoring.method.robustness import robustness

    robust = robustness(demo_card, draws=1000, seed=0)
    unsure = robust[(robust["kind"] == "city") & (robust["p_same_grade"] < 0.8)]
    names = {b: script(n, "zh-Hans") for b, n in zip(demo_card.scores["body"], demo_card.scores["name"], strict=True)}
    assert len(unsure)  # the demo has cities near a grade boundary
    # the first view does not run the simulation (Streamlit runs a collapsed expander's body)
    assert not [c for c in app.get("plotly_chart") if "rank_intervals" in str(c.proto.id)]
    assert not app.warning
    toggle = app.toggle(key="robustness_on")
    assert toggle.label == "计算排名稳健性（1000 次扰动）" and not toggle.value
    app = toggle.set_value(True).run()
    assert not app.exception
    warning = app.warning[0].value
    assert all(names[b] in warning for b in unsure["body"])
    chart = [c for c in app.get("plotly_chart") if "rank_intervals" in str(c.proto.id)]
    assert chart


def test_a_disabled_evaluator_is_refused_at_the_next_action(accounts_app):
    from scoring import workflows
    from scoring.store.accounts import Actor

    at = page(sign_in(accounts_app, "eva"), "evidence")
    url = _url(at)
    at.number_input[-1].set_value(1)
    next(i for i in at.text_input if i.label == "驳回理由").input("网址无法打开")
    workflows.disable_user(url, actor=Actor("root", "admin"), name="eva")  # `gongkai user disable eva`
    next(b for b in at.button if b.label == "驳回").click().run()
    assert [shown(e) for e in at.error] == ["登录已过期或已失效，请重新登录"]   # in the UI language (issue 26)
    assert not at.title and not at.success
    trail = _audit(url)
    assert not ((trail["actor"] == "eva") & (trail["action"] == "reject")).any()
    assert workflows.evidence(url, actor=Actor("root", "admin"), scheme_id="shandong-2017") \
        .set_index("id").loc[1, "rejected"] == ""
    at.run()  # and stays signed out: the login form
    assert login_form(at) and not at.title


def test_a_role_change_ends_an_open_session_and_the_new_role_signs_in(accounts_app):
    from scoring import workflows
    from scoring.store.accounts import Actor

    at = page(sign_in(accounts_app, "eva"), "audit")
    assert at.title[0].value == "审计"
    workflows.set_role(_url(at), actor=Actor("root", "admin"), name="eva", role="viewer")
    at.run()  # the next view: the session has ended
    assert not at.title and login_form(at) and shown(at.error[0]) == "登录已结束（已退出，或账号已变更），请重新登录"
    sign_in(at, "eva")  # signed in again: a viewer's pages only (the audit trail is gone)
    assert at.title[0].value == "排名"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/audit.py")


def _reused(token: str) -> AppTest:
    """A fresh browser session holding `token` (as if it had been copied out of another one)."""
    other = AppTest.from_file(APP, default_timeout=120)
    other.session_state["token"] = token
    return other.run()


def test_no_address_carries_the_session_token(accounts_app):
    """The token lives in the tab's Streamlit session only: signing in, switching pages, changing the
    password put nothing in the address; an old `?session=` address signs nobody in and is cleared."""
    at = sign_in(accounts_app, "vic")
    token = at.session_state["token"]
    assert at.title[0].value == "排名" and not dict(at.query_params)
    page(at, "gaps")
    assert at.title and not login_form(at) and not dict(at.query_params)  # switching pages keeps the session
    assert token not in repr(dict(at.query_params))
    old = AppTest.from_file(APP, default_timeout=120)
    old.query_params["session"] = token  # a link from before: the token in the address is never read
    old.run()
    assert not old.title and login_form(old) and "session" not in dict(old.query_params)


def test_signing_out_ends_the_session_even_a_copied_token(accounts_app):
    """退出登录 ends the session server-side: its token, reused by another browser session afterwards,
    signs nobody in."""
    at = sign_in(accounts_app, "vic")
    token = at.session_state["token"]
    assert _reused(token).title[0].value == "排名"  # the token signs in while its session is open
    next(b for b in at.sidebar.button if b.label == "退出登录").click().run()
    assert login_form(at) and "token" not in at.session_state and not dict(at.query_params)
    copied = _reused(token)
    assert not copied.title and login_form(copied)
    assert [shown(e) for e in copied.error] == ["登录已结束（已退出，或账号已变更），请重新登录"]


def test_a_session_is_refused_when_forged_or_after_a_password_change(accounts_app):
    from scoring import workflows
    from scoring.store.accounts import Actor

    at = sign_in(accounts_app, "vic")
    token = at.session_state["token"]
    forged = _reused(token[:-3] + "AAA")
    assert not forged.title and shown(forged.error[0]) == "登录已过期或已失效，请重新登录" and login_form(forged)
    workflows.set_password(_url(at), actor=Actor("root", "admin"), name="vic", password="vic-other-password")
    again = _reused(token)
    assert not again.title and shown(again.error[0]) == "登录已过期或已失效，请重新登录"
    at.run()  # the open session ends too
    assert not at.title


def test_dashboard_sign_ins_lock_out_and_are_audited(accounts_app, monkeypatch):
    monkeypatch.setenv("GONGKAI_LOGIN_MAX_FAILURES", "3")
    at = accounts_app
    for _ in range(3):
        sign_in(at, "vic", "wrong-password")
        assert at.error[0].value == "用户名或密码错误。"  # the UI language, no word of environment variables
    sign_in(at, "vic")
    assert shown(at.error[0]).startswith("too many failed sign-ins for account vic: locked; try again in 15 minute(s)")
    assert not at.title
    url = at.session_state["ctx"].db if "ctx" in at.session_state else None
    import os

    trail = _audit(url or os.environ["GONGKAI_DATABASE_URL"])
    failed = trail[trail["action"] == "login_failed"]
    assert len(failed) == 3 and set(failed["actor"]) == {"vic"}
    assert failed["detail"].str.startswith("client web ").all()


def test_user_text_is_plain_text_in_markdown_elements():
    """What `plain` makes of hostile text renders (CommonMark, as Streamlit's renderer) as the text itself."""
    import html

    from markdown_it import MarkdownIt

    from dashboard.ui import WORD_JOINER, plain

    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    for hostile in ("**bold** ![x](http://127.0.0.1:9/pixel.png).csv", "[link](javascript:alert(1))",
                    "<img src=x onerror=alert(1)>", "# heading", "`code` ~~gone~~ $x$ &amp; | a | b |",
                    "1. list", "> quote", "a\\b_c_*d*", "see https://x.cn/a, www.x.cn, a@b.cn"):
        rendered = md.render(plain(hostile)).strip().replace(WORD_JOINER, "")
        assert rendered == f"<p>{html.escape(hostile, quote=False)}</p>", (hostile, rendered)


def test_no_page_has_a_bare_expression_and_magic_is_off():
    """Streamlit "magic" renders a bare expression (it once dumped a DeltaGenerator docstring): off in
    the config `gongkai serve` uses, and no page relies on it."""
    import ast
    import tomllib

    root = Path(APP).parents[1]
    for file in (root / "dashboard").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Expr):
                assert isinstance(node.value, ast.Call | ast.Constant), f"{file}:{node.lineno}"
    assert tomllib.loads((root / ".streamlit" / "config.toml").read_text())["runner"]["magicEnabled"] is False
    assert '"--runner.magicEnabled", "false"' in (root / "scoring" / "cli.py").read_text(encoding="utf-8")


def test_scheme_page_shows_a_draft_beside_the_scheme(app):
    """The synthetic second year uploaded as a draft beside 2017: 7.1 added, 2.3 dropped, 4.2.1 and 4.2.2
    changed (their lead 省環保廳 is now 省生態環境廳); a file that is no scheme is named."""
    from scoring.synthetic.second_year import second_year

    at = page(app, "scheme")
    from tests.conftest import SCHEME_2017

    draft = second_year(SCHEME_2017.read_text(encoding="utf-8")).encode()
    at.file_uploader(key="draft_upload").upload("draft-2018.yaml", draft, "application/yaml").run()
    counts = {m.label: m.value for m in at.metric}
    assert (counts["新增"], counts["修改"], counts["删除"], counts["待定事项"]) == ("1", "2", "1", "0")
    table = at.dataframe[0].value
    assert table[["任务编号", "变化", "修改内容"]].values.tolist() == [
        ["4.2.1", "修改", "leads"], ["4.2.2", "修改", "leads"], ["7.1", "新增", ""], ["2.3", "删除", ""]]
    at.file_uploader(key="draft_upload").upload("x.yaml", b"- just a list\n", "application/yaml").run()
    assert shown(at.error[0]) == "x.yaml: not a scheme file (no obligations:)"


def test_rankings_read_on_while_an_import_holds_the_database(app, tmp_path, monkeypatch):
    """Another import holds SQLite's write lock: a date whose run is not stored yet is still scored and
    shown (the run is not stored), no raw OperationalError."""
    import datetime as dt
    import sqlite3

    from scoring.store.db import dispose

    monkeypatch.setenv("GONGKAI_BUSY_TIMEOUT_MS", "200")
    dispose(_url(app))  # connections open again with the short busy timeout
    holder = sqlite3.connect(str(tmp_path / "dash.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        app.date_input(key="as_of").set_value(dt.date(2017, 11, 30)).run()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not app.exception, [e.message for e in app.exception]
    assert not app.error and app.title[0].value == "排名" and len(app.dataframe[0].value)


def test_a_warm_cache_never_lets_a_firm_read_scores(accounts_app, monkeypatch):
    """Issue 29: the cache key never decides who may see what. An evaluator warms every cached read;
    a firm asking the same (same database, scheme, date, state) is still refused, and a viewer reads."""
    import os

    from dashboard import data
    from scoring.store.accounts import Actor, PermissionDenied

    url = os.environ["GONGKAI_DATABASE_URL"]
    state = data.token(url, "shandong-2017")
    reads = {
        "scorecard": lambda a: data.scorecard(url, "shandong-2017", None, state, a),
        "explained": lambda a: data.explained_body(url, "shandong-2017", None, state, "jinan", a),
        "share": lambda a: data.share_status(url, "shandong-2017", None, state, "zh-Hans", a),
        "what-if": lambda a: data.whatif(url, "shandong-2017", None, state, (("1.1.1", 3.0),), 0.05, a),
        "years": lambda a: data.year_over_year(url, "shandong-2017", None, state, a),
    }
    warm = {name: read(Actor("eva", "evaluator")) for name, read in reads.items()}
    assert warm["what-if"][1] == "" and len(warm["explained"]) > 0
    for read in reads.values():
        with pytest.raises(PermissionDenied, match="acme"):
            read(Actor("acme", "firm"))
        read(Actor("vic", "viewer"))  # a reader is served (year over year: None, no earlier final)
