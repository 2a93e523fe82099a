"""The 质量 page in a real browser (chromium): a sample of the demo is drawn and blindly re-read by a
second firm that found nothing; an evaluator settles one item in dispute on the page — take the second
reading — and the first reading's record is then rejected with the reason (issue 28)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from scoring import workflows
from scoring.store.accounts import Actor
from scoring.workflows import quality as workflows_quality
from tests.e2e.serve import serving
from tests.e2e.test_browser import ARGS, CHROMIUM, OUT

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
OPEN = Actor("setup", None)


def test_the_whole_flow_on_the_page(tmp_path):
    """Draw (seed 42) → download the blind file → upload it as another firm's readings that found
    nothing → the disputes appear, all on the page, through the same workflows as the CLI."""
    from playwright.sync_api import sync_playwright

    db = f"sqlite:///{tmp_path / 'flow.db'}"
    workflows.load_demo(db, actor=OPEN)
    with serving(db, tmp_path) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
        page.goto(f"{url}/quality")
        page.get_by_text("抽取样本").first.click()
        seed = page.get_by_label("随机种子（0：随机）")
        seed.wait_for(timeout=60_000)
        seed.fill("42")
        seed.press("Tab")  # the value is the widget's before the form is sent (a loaded machine raced it)
        page.wait_for_timeout(500)
        page.get_by_role("button", name="抽取").click()
        page.get_by_text("样本 1（随机种子 42）：自 1106 个评估事项中抽取 80 个。").wait_for(timeout=120_000)
        with page.expect_download() as got:
            page.get_by_role("button", name="下载盲评文件（不含第一次评估结果）").click()
        blind = pd.read_csv(got.value.path(), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        assert len(blind) >= 80 and (blind[["published_at", "value", "url"]] == "").all().all()
        second = tmp_path / "second.csv"
        second.write_bytes(blind.assign(assessor="乙公司").to_csv(index=False).encode())
        page.locator("input[type=file]").set_input_files(str(second))
        page.get_by_text("条第二次评估").first.wait_for(timeout=60_000)
        page.get_by_text("裁定争议事项").first.wait_for(timeout=60_000)
        browser.close()
    assert len(workflows_quality.disagreements(db, actor=OPEN)) > 5


def test_an_evaluator_settles_a_disagreement_on_the_page(tmp_path):
    from playwright.sync_api import sync_playwright

    from scoring.store.db import dispose

    db = f"sqlite:///{tmp_path / 'quality.db'}"
    workflows.load_demo(db, actor=OPEN)
    workflows_quality.draw_sample(db, actor=OPEN, seed=42)
    blind = pd.read_csv(io.BytesIO(workflows_quality.export_blind(db, actor=OPEN)), dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    workflows_quality.import_second(db, actor=OPEN, name="second.csv",
                                    data=blind.assign(assessor="乙公司").to_csv(index=False).encode())
    disputes = workflows_quality.disagreements(db, actor=OPEN)
    first = disputes.iloc[0]
    assert first["settled"] == "" and first["second"] == "missing"
    dispose(db)
    OUT.mkdir(parents=True, exist_ok=True)
    with serving(db, tmp_path) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(f"{url}/quality")
        page.get_by_text("裁定争议事项").first.wait_for(timeout=60_000)
        page.get_by_text("采用第二次评估").click()
        page.get_by_label("理由").fill("复核：网站上未见该信息")
        page.get_by_role("button", name="提交裁定").click()
        page.get_by_text(f"事项 {first['id']} 已裁定。").wait_for(timeout=60_000)
        page.screenshot(path=str(OUT / "quality-settled.png"), full_page=True)
        browser.close()
    after = workflows_quality.disagreements(db, actor=OPEN).set_index("id").loc[first["id"]]
    assert (after["settled"], after["reason"]) == ("take", "复核：网站上未见该信息")
    ev = workflows.evidence(db, actor=OPEN, scheme_id="shandong-2017")
    mine = ev[(ev["body"] == first["body"]) & (ev["obligation"] == first["obligation"])]
    assert mine["rejected"].str.contains("复核：网站上未见该信息").any()
