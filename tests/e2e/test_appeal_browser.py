"""One appeal from submission to decision in a real browser (Debian chromium, Playwright) against
`gongkai serve`: the body 青島 signs in, sees its preliminary result, files an appeal with a screenshot;
the evaluator signs in and rejects it with a reason; the body's page shows the decision."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.serve import serving
from tests.e2e.test_browser import ARGS, CHROMIUM, OUT

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from scoring import workflows
    from scoring.store.accounts import Actor

    folder = tmp_path_factory.mktemp("appeal")
    db = f"sqlite:///{folder / 'cycle.db'}"
    workflows.load_demo(db, actor=Actor("setup", None))
    workflows.add_user(db, actor=None, name="root", password="root-password", role="admin")
    root = Actor("root", "admin")
    for name, role in (("eva", "evaluator"), ("qd", "body")):
        workflows.add_user(db, actor=root, name=name, password=f"{name}-password", role=role)
    workflows.tie_body(db, actor=root, name="qd", body="qingdao")
    workflows.publish(db, actor=Actor("eva", "evaluator"), stage="preliminary", days=5)
    from scoring.store.db import dispose

    dispose(db)
    with serving(db, folder, env={**os.environ, "GONGKAI_ATTACHMENTS": str(folder / "store")}) as url:
        shot = folder / "qingdao.png"
        shot.write_bytes(_png())
        yield url, db, shot


def _settle(page) -> None:
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)


def _sign_in(page, url: str, name: str) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(f"{name}-password")
    page.get_by_role("button", name="登录").click()
    try:
        page.wait_for_selector("h1", timeout=90_000)
    except Exception:
        page.screenshot(path=str(OUT / f"sign-in-{name}.png"), full_page=True)
        raise
    _settle(page)


def test_one_appeal_from_submission_to_decision(site):
    from playwright.sync_api import sync_playwright

    from scoring import workflows
    from scoring.store.accounts import Actor

    url, db, shot = site
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        body = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="zh-CN")
        _sign_in(body, url, "qd")
        assert body.locator("h1").first.inner_text() == "申诉"
        assert body.get_by_text("初评结果（评分运行").count() >= 1  # the stage, marked plainly
        body.get_by_label("申诉理由").fill("该事项已于规定时间内公开，见截图")
        body.locator("[data-testid=stForm] input[type=file]").set_input_files(str(shot))
        body.wait_for_timeout(1000)
        body.get_by_role("button", name="提交申诉").click()
        body.get_by_text("申诉已提交，编号 1").wait_for(timeout=90_000)
        body.screenshot(path=str(OUT / "appeal-filed.png"), full_page=True)

        evaluator = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="zh-CN")
        _sign_in(evaluator, url, "eva")
        evaluator.locator("[data-testid=stSidebarNav]").get_by_text("申诉", exact=True).click()  # a reload would sign out
        evaluator.get_by_role("heading", name="申诉").first.wait_for(timeout=90_000)
        _settle(evaluator)
        evaluator.locator("[data-testid=stRadio]").get_by_text("驳回", exact=True).click()
        evaluator.get_by_label("复核意见").fill("截图未显示发布日期")
        assert evaluator.locator("[data-testid=stImage] img").count() == 1  # the screenshot, inline
        evaluator.get_by_role("button", name="提交复核结果").click()
        evaluator.get_by_text("没有待复核的申诉。").wait_for(timeout=90_000)
        evaluator.screenshot(path=str(OUT / "appeal-decided.png"), full_page=True)
        browser.close()
    decided = workflows.appeals(db, actor=Actor("eva", "evaluator")).iloc[0]
    assert (decided["body"], decided["filed_by"], decided["status"], decided["decision"], decided["decided_by"]) == (
        "qingdao", "qd", "rejected", "截图未显示发布日期", "eva")
    assert decided["attachment"] != ""  # the screenshot stays on file with the rejected appeal
    trail = workflows.audit_entries(db, actor=Actor("eva", "evaluator"))
    assert trail[trail["action"].str.startswith("appeal")][["actor", "action"]].values.tolist() == [
        ["eva", "appeal_rejected"], ["qd", "appeal_add"]]


def test_the_gaps_page_shows_findings_files_safely(site, monkeypatch):
    """An evaluator on the gaps page: 青島's 6.7 finding with its screenshot inline; 濟南's saved HTML
    page (with a script in it) is only a download — served as octet-stream with Content-Disposition
    attachment, so it is never rendered as HTML in the dashboard's origin."""
    from playwright.sync_api import sync_playwright

    from tests.test_dashboard_cycle import _attach_evidence

    url, db, shot = site
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(shot.parent / "store"))  # the server's store
    png, saved = _attach_evidence(db)
    OUT.mkdir(parents=True, exist_ok=True)
    media: dict[str, dict[str, str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="zh-CN", accept_downloads=True)
        page.on("response", lambda r: media.__setitem__(r.url, r.headers) if "/media/" in r.url else None)
        _sign_in(page, url, "eva")
        page.locator("[data-testid=stSidebarNav]").get_by_text("差距", exact=True).click()
        page.get_by_role("heading", name="差距").first.wait_for(timeout=90_000)
        _settle(page)

        def pick(city: str) -> None:
            page.locator("[data-testid=stSelectbox]").filter(has_text="选择设区市").click()
            page.get_by_role("option").filter(has_text=f"（{city}）").click()
            page.wait_for_timeout(1500)
            _settle(page)
            # the obligation title in 简体, as the 简体 UI shows it (issue 26)
            found = page.locator("[data-testid=stExpander]").filter(has_text="6.7 制定具体实施方案")
            if found.locator("details").get_attribute("open") is None:
                found.locator("summary").click()
            page.wait_for_timeout(500)

        pick("qingdao")
        inline = page.locator("[data-testid=stExpander]").filter(has_text="6.7").locator("[data-testid=stImage] img")
        try:
            inline.wait_for(timeout=30_000)
        except Exception:
            page.screenshot(path=str(OUT / "gaps-attachment-failed.png"), full_page=True)
            raise
        assert inline.evaluate("i => i.complete && i.naturalWidth") == 120  # the screenshot itself, shown
        assert page.get_by_text(f"qingdao.png · sha256 {png}").count() == 1
        page.locator("[data-testid=stExpander]").filter(has_text="6.7").screenshot(path=str(OUT / "gaps-attachment.png"))

        pick("jinan")
        assert page.locator("[data-testid=stExpander]").filter(has_text="6.7").locator("[data-testid=stImage]").count() == 0
        with page.expect_download() as download:
            page.get_by_role("button", name="下载 jinan.html").click()
        assert download.value.suggested_filename == "jinan.html"
        page.screenshot(path=str(OUT / "gaps-saved-page.png"), full_page=True)
        browser.close()
    served = {h["content-disposition"]: h["content-type"] for h in media.values() if "content-disposition" in h}
    assert served['attachment; filename="jinan.html"'] == "application/octet-stream"  # never text/html
    assert "text/html" not in {h.get("content-type", "").split(";")[0] for h in media.values()}
    assert any(h.get("content-type") == "image/png" for h in media.values())  # the inline screenshot
