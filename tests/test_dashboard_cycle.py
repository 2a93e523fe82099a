"""The appeals and 整改 pages through streamlit's AppTest: a body sees only its own result and these
pages, files an appeal; an evaluator decides it; the published stage is marked."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from scoring import workflows
from scoring.store.accounts import Actor
from tests.test_dashboard import APP, page, sign_in


@pytest.fixture()
def cycle_app(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    monkeypatch.setenv("GONGKAI_DATABASE_URL", url)
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    workflows.load_demo(url, actor=Actor("setup", None))
    workflows.add_user(url, actor=None, name="root", password="root-password", role="admin")
    root = Actor("root", "admin")
    for name, role in (("eva", "evaluator"), ("qd", "body")):
        workflows.add_user(url, actor=root, name=name, password=f"{name}-password", role=role)
    workflows.tie_body(url, actor=root, name="qd", body="qingdao")
    workflows.publish(url, actor=Actor("eva", "evaluator"), stage="preliminary", days=5)
    return url, AppTest.from_file(APP, default_timeout=120).run()


def test_a_body_sees_only_its_pages_and_files_an_appeal(cycle_app):
    url, at = cycle_app
    at = sign_in(at, "qd")
    assert at.title[0].value == "申诉"
    assert "初评结果" in at.warning[0].value  # the preliminary stage, with its window, in plain words
    for forbidden in ("rankings", "gaps", "evidence", "audit"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"app_pages/{forbidden}.py")
    assert [m.value for m in at.metric][:1] == [f"{workflows.body_result(url, actor=Actor('qd', 'body')).scores.iloc[0]['score']:.2f}"]
    lost = workflows.body_result(url, actor=Actor("qd", "body")).findings.query("lost > 1e-12")
    first = lost[lost["obligation"] == sorted(lost["obligation"].unique())[0]].iloc[0]  # the form's first choice
    at.text_area[0].input("已按时公开，见网址")
    next(b for b in at.button if b.label == "提交申诉").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value == "申诉已提交，编号 1"
    filed = workflows.appeals(url, actor=Actor("eva", "evaluator")).iloc[0]
    assert (filed["body"], filed["obligation"], filed["item"], filed["filed_by"]) == (
        "qingdao", first["obligation"], str(first["item"]), "qd")


def test_an_evaluator_decides_on_the_page(cycle_app):
    url, at = cycle_app
    workflows.add_appeal(url, actor=Actor("qd", "body"), body="qingdao", obligation="6.7", item="deadline",
                         reason="见截图")
    at = page(sign_in(at, "eva"), "appeals")
    assert at.title[0].value == "申诉"
    at.radio(key="decide_choice").set_value("驳回")
    next(i for i in at.text_input if i.label == "复核意见").input("未提供证据")
    next(b for b in at.button if b.label == "提交复核结果").click().run()
    assert not at.error, [e.value for e in at.error]
    decided = workflows.appeals(url, actor=Actor("eva", "evaluator")).iloc[0]
    assert (decided["status"], decided["decision"], decided["decided_by"]) == ("rejected", "未提供证据", "eva")
    at = page(at, "rectify")
    assert at.info[-1].value == "终评结果发布后才有整改问题。"


@pytest.mark.parametrize(("utc", "closed"), [("15:30", False), ("16:30", True)])
def test_the_appeal_window_closes_on_shanghai_time_not_the_servers(cycle_app, monkeypatch, utc, closed):
    """The closing day at 15:30 UTC is 23:30 in Shanghai (still open); at 16:30 UTC it is already the
    next day there (closed) — the page and the CLI's workflow say the same, whatever the server's date."""
    import datetime as dt

    url, at = cycle_app
    closes_on = workflows.publications(url, actor=Actor("eva", "evaluator"))[0].closes_on
    now = dt.datetime.combine(closes_on, dt.time.fromisoformat(utc), dt.UTC)
    monkeypatch.setattr(workflows.cycle, "_clock", lambda: now)  # the cycle reads its clock there
    at = sign_in(at, "qd")
    forms = [s.value for s in at.subheader]
    if closed:
        assert at.info[0].value == f"反馈期已于 {closes_on} 结束，不再受理申诉。"
        assert "提出申诉" not in forms
        with pytest.raises(workflows.GongkaiError, match=f"closed on {closes_on}"):
            workflows.add_appeal(url, actor=Actor("qd", "body"), body="qingdao", obligation="6.7",
                                 item="deadline", reason="见截图")
    else:
        assert "提出申诉" in forms and not at.info
        assert workflows.add_appeal(url, actor=Actor("qd", "body"), body="qingdao", obligation="6.7",
                                    item="deadline", reason="见截图") == 1


def _attach_evidence(url):
    """青島's and 濟南's 6.7 publications, late, preserved as a screenshot and a saved page."""
    import hashlib
    import io
    import zipfile

    from tests.e2e.test_appeal_browser import _png

    png, saved = _png(), b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("evidence.csv", "單位,任務編號,發佈時間,附件\n青島市,6.7,2017-12-01,qingdao.png\n"
                                   "濟南市,6.7,2017-12-01,jinan.html\n")
        z.writestr(zipfile.ZipInfo("qingdao.png", (2017, 12, 2, 9, 0, 0)), png)
        z.writestr(zipfile.ZipInfo("jinan.html", (2017, 12, 2, 9, 0, 0)), saved)
    workflows.import_file(url, actor=Actor("root", "admin"), name="shots.zip", data=out.getvalue())
    return hashlib.sha256(png).hexdigest(), hashlib.sha256(saved).hexdigest()


def test_the_gaps_page_shows_each_findings_file_beside_it(cycle_app):
    """An evaluator picks 青島 on the gaps page: its 6.7 finding names the screenshot, shown inline and
    offered as a PNG download; 濟南's saved page is a download served as octet-stream, never as HTML."""
    url, at = cycle_app
    png, saved = _attach_evidence(url)
    at = page(sign_in(at, "eva"), "gaps")
    at.selectbox(key="pick_city").set_value("qingdao").run()
    assert not at.exception and not at.error
    named = [f for d in at.dataframe if "留存附件" in d.value.columns for f in d.value["留存附件"]]
    assert sorted(set(named)) == [f"sha256 {png[:12]}…", "无附件"], named
    images = at.get("image")
    assert [i.proto.imgs[0].caption for i in images] == [f"qingdao.png · sha256 {png}"]
    downloads = [(b.proto.label, b.proto.url) for b in at.get("download_button")]
    assert [label for label, _ in downloads] == ["下载 qingdao\\.png"]
    assert "事项：限期完成 · 留存附件" in [c.value for c in at.caption]
    at.selectbox(key="pick_city").set_value("jinan").run()
    downloads = [b.proto for b in at.get("download_button")]
    assert [b.label for b in downloads] == ["下载 jinan\\.html"] and not at.get("image")
    assert any(f"sha256 {saved}" in c.value for c in at.caption)


def test_a_body_sees_its_own_findings_files_and_no_other_bodys(cycle_app):
    """青島's account: its 6.7 finding on the appeals page with its screenshot beside it; 濟南's saved
    page is nowhere, and asking for it by its hash is refused as if it did not exist."""
    url, at = cycle_app
    png, saved = _attach_evidence(url)
    at = sign_in(at, "qd")
    assert not at.exception and not at.error
    assert [i.proto.imgs[0].caption for i in at.get("image")] == [f"qingdao.png · sha256 {png}"]
    assert [b.proto.label for b in at.get("download_button")] == ["下载 qingdao\\.png"]
    assert not any(saved in c.value for c in at.caption)
    with pytest.raises(workflows.GongkaiError, match=f"no attachment {saved[:12]}"):
        workflows.attachment(url, actor=Actor("qd", "body"), sha256=saved)


def test_wrong_roles_on_the_cycle_pages(cycle_app):
    """A firm has no appeals or 整改 page; an untied body account is told plainly (the message as text,
    not markup) and the refusal is audited; a body's page never offers another body."""
    from tests.test_dashboard import unescaped

    url, at = cycle_app
    root = Actor("root", "admin")
    workflows.add_user(url, actor=root, name="yt", password="yt-password", role="body")
    workflows.add_user(url, actor=root, name="acme", password="acme-password", role="firm", firm="甲公司")
    firm = sign_in(AppTest.from_file(APP, default_timeout=120).run(), "acme")
    for forbidden in ("appeals", "rectify"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            firm.switch_page(f"app_pages/{forbidden}.py")
    at = sign_in(at, "yt")
    assert [unescaped(e.value) for e in at.error] == [
        "the body account yt is not tied to a body yet (gongkai user body NAME ID)"]
    trail = workflows.audit_entries(url, actor=root)
    assert ("yt", "result_refused") in set(zip(trail["actor"], trail["action"], strict=True))
    qd = sign_in(AppTest.from_file(APP, default_timeout=120).run(), "qd")
    assert qd.title[0].value == "申诉" and "单位" not in [s.label for s in qd.selectbox]  # no body to choose


def test_provisional_dates_are_marked_on_the_pages_until_the_year_is_loaded(tmp_path, monkeypatch):
    """Published on 2026-12-28 (GONGKAI_CLOCK): the preliminary banner says the window ends 2027-01-05（暂定）
    and why; after the final result, the 整改 page's due dates are 暂定 — and plain once 2027 is loaded."""
    url = f"sqlite:///{tmp_path / 'cycle.db'}"
    monkeypatch.setenv("GONGKAI_DATABASE_URL", url)
    monkeypatch.setenv("GONGKAI_CLOCK", "2026-12-28T10:00+08:00")
    workflows.load_demo(url, actor=Actor("setup", None))
    eva = Actor("setup", None)
    workflows.publish(url, actor=eva, stage="preliminary", days=5)
    at = page(AppTest.from_file(APP, default_timeout=120).run(), "appeals")
    assert at.warning[0].value == "初评结果（评分运行 1）：反馈期至 2027-01-05（暂定）"
    assert "暂定" in at.caption[0].value and "gongkai calendar load" in at.caption[0].value
    workflows.publish(url, actor=eva, stage="final")
    at = page(at, "rectify")
    due = at.dataframe[-1].value["整改期限"]
    assert set(due) == {"2027-01-26（暂定）"}
    workflows.load_calendar(url, actor=eva, data=b"date,type\n2027-01-01,holiday\n", name="2027.csv")
    at = page(at, "rectify")
    assert set(at.dataframe[-1].value["整改期限"]) == {"2027-01-26"}
    assert not [c.value for c in at.caption if "暂定" in c.value]


def test_the_cycle_tables_are_in_the_ui_language_and_the_lost_points_in_the_schemes_order(cycle_app):
    """Issue 26: the appeal and 整改 tables, their status values, came in English in the 简体 UI; a
    body's 失分事项 came in no order."""
    from scoring.method.scheme import natural_key

    url, at = cycle_app
    workflows.add_appeal(url, actor=Actor("qd", "body"), body="qingdao", obligation="6.7", item="deadline",
                         reason="见截图")
    qd = sign_in(AppTest.from_file(APP, default_timeout=120).run(), "qd")   # its 申诉 page
    lost = workflows.body_result(url, actor=Actor("qd", "body")).findings.query("lost > 1e-12")["obligation"]
    shown = [e.label.split(" — ")[0] for e in qd.expander if " — " in e.label]
    assert shown == sorted(lost.unique(), key=natural_key) and len(shown) > 2, shown
    at = page(sign_in(at, "eva"), "appeals")
    listed = at.dataframe[-1].value
    assert list(listed.columns)[:6] == ["编号", "发布编号", "单位", "任务", "事项", "申诉理由"]
    assert listed[["单位", "状态"]].values.tolist() == [["青岛市", "待复核"]]
    workflows.decide_appeal(url, actor=Actor("eva", "evaluator"), appeal_id=1, accept=False, reason="未提供证据")
    assert page(at, "appeals").dataframe[-1].value["状态"].tolist() == ["未采纳"]
    workflows.publish(url, actor=Actor("eva", "evaluator"), stage="final")
    at = page(at, "rectify")
    assert list(at.dataframe[0].value.columns) == ["单位", "未整改", "已整改", "已核验"]
    problems = at.dataframe[-1].value
    assert {"编号", "单位", "任务", "失分", "整改期限", "状态"} <= set(problems.columns)
    assert set(problems["状态"]) == {"未整改"} and "青岛市" in set(problems["单位"])
    status = next(s for s in at.selectbox if s.label == "状态")
    assert list(status.options) == ["已核验", "未整改", "已整改"]


def test_the_upload_widgets_say_the_limits_the_intake_holds(cycle_app):
    """Issue 26: the widgets said "1GB per file"; an attachment is refused over 25 MB, a table over 512 MB."""
    import tomllib
    from pathlib import Path

    from scoring.intake.attachments import MAX_ATTACHMENT_BYTES
    from scoring.intake.tables import MAX_FILE_BYTES

    config = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_FILE_BYTES // 2**20 == 512
    _, at = cycle_app
    qd = sign_in(at, "qd")   # the 申诉 page: the appeal's attachment
    assert [u.proto.max_upload_size_mb for u in qd.get("file_uploader")] == [MAX_ATTACHMENT_BYTES // 2**20] == [25]
    root = page(sign_in(AppTest.from_file(APP, default_timeout=120).run(), "root"), "import_evidence")
    assert [u.proto.max_upload_size_mb for u in root.get("file_uploader")] == [512]
