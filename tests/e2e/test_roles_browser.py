"""Who may read what never depends on the dashboard's cache (issue 29): a firm that is the first to
sign in on a freshly started server browses its evidence without error and is refused the scores; an
evaluator warming the cache afterwards changes nothing for the firm."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.serve import serving
from tests.e2e.test_browser import ARGS, CHROMIUM, OUT

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def _sign_in(page, url: str, name: str) -> None:
    page.goto(url)
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(f"{name}-password")
    page.get_by_role("button", name="登录").click()
    page.wait_for_selector("h1", timeout=90_000)
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)


def test_a_firm_first_on_a_cold_server_browses_evidence_and_never_reads_scores(tmp_path):
    from playwright.sync_api import sync_playwright

    from scoring import workflows
    from scoring.store.accounts import Actor
    from scoring.store.db import dispose

    db = f"sqlite:///{tmp_path / 'roles.db'}"
    workflows.load_demo(db, actor=Actor("setup", None))
    workflows.add_user(db, actor=None, name="root", password="root-password", role="admin")
    root = Actor("root", "admin")
    workflows.add_user(db, actor=root, name="acme", password="acme-password", role="firm", firm="甲公司")
    workflows.add_user(db, actor=root, name="eva", password="eva-password", role="evaluator")
    dispose(db)
    OUT.mkdir(parents=True, exist_ok=True)
    with serving(db, tmp_path, env=dict(os.environ)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        firm = browser.new_page(viewport={"width": 1400, "height": 1000})
        _sign_in(firm, url, "acme")  # nobody has signed in yet: every cache is cold
        firm.screenshot(path=str(OUT / "firm-cold.png"), full_page=True)
        assert firm.locator("h1").first.inner_text() == "证据"
        assert firm.locator("[data-testid=stException]").count() == 0
        assert firm.locator("[data-testid=stAlertContentError]").count() == 0
        assert "0条证据" in firm.locator("body").inner_text()

        evaluator = browser.new_page(viewport={"width": 1400, "height": 1000})
        _sign_in(evaluator, url, "eva")  # the scorecard is now in the server's cache
        assert evaluator.locator("h1").first.inner_text() == "排名"
        evaluator.wait_for_selector("[data-testid=stDataFrame]", timeout=120_000)  # the ranking, scored
        assert evaluator.locator("[data-testid=stException]").count() == 0

        session = firm.url.split("?", 1)[1]  # the signed-in session (its token is in the address)
        firm.goto(f"{url}/rankings?{session}")  # typed by hand: the page is not in the firm's menu
        firm.wait_for_selector("h1", timeout=90_000)
        firm.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
        firm.screenshot(path=str(OUT / "firm-rankings.png"), full_page=True)
        assert firm.locator("h1").first.inner_text() == "证据"  # signed in still, and shown no ranking
        assert firm.locator("[data-testid=stException]").count() == 0
        browser.close()
