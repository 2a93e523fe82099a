"""Who may read what never depends on the dashboard's cache (issue 29): a firm that is the first to
sign in on a freshly started server browses its evidence without error and is refused the scores; an
evaluator warming the cache afterwards changes nothing for the firm. And the session token never
travels in an address (issue 27 #8)."""

from __future__ import annotations

import base64
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
        firm.wait_for_selector("text=条证据", timeout=90_000)  # the page has run to its end
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

        assert "?" not in firm.url  # no session token in the address
        # typed by hand, the page not in the firm's menu: a new browser session, which signs in again
        _sign_in(firm, f"{url}/rankings", "acme")
        firm.screenshot(path=str(OUT / "firm-rankings.png"), full_page=True)
        assert firm.locator("h1").first.inner_text() == "证据"  # signed in still, and shown no ranking
        assert firm.locator("[data-testid=stException]").count() == 0
        browser.close()


# every address the page shows, as the browser's history records it (Streamlit changes it by the History API)
RECORD_ADDRESSES = """
window.__addresses = [location.href];
for (const name of ["pushState", "replaceState"]) {
  const original = history[name].bind(history);
  history[name] = (state, title, address) => {
    original(state, title, address);
    window.__addresses.push(location.href);
  };
}
"""


def test_no_address_or_page_script_ever_holds_the_session_token(tmp_path):
    """Signing in, switching pages and signing out: no address the browser shows or keeps in its
    history carries a token, no cookie a page script can read holds one; an old `?session=` address
    signs nobody in; after signing out the tab is signed out and stays so on the next page."""
    from playwright.sync_api import sync_playwright

    from scoring import workflows
    from scoring.store.accounts import Actor
    from scoring.store.db import dispose

    db = f"sqlite:///{tmp_path / 'sessions.db'}"
    workflows.load_demo(db, actor=Actor("setup", None))
    workflows.add_user(db, actor=None, name="root", password="root-password", role="admin")
    workflows.add_user(db, actor=Actor("root", "admin"), name="eva", password="eva-password", role="evaluator")
    token = workflows.session_token(db, actor=Actor("eva", "evaluator"))  # a valid token, as a sign-in makes one
    dispose(db)
    with serving(db, tmp_path, env=dict(os.environ)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.add_init_script(RECORD_ADDRESSES)
        _sign_in(tab, url, "eva")
        assert tab.locator("h1").first.inner_text() == "排名"
        tab.locator("[data-testid=stSidebarNav]").get_by_text("差距", exact=True).click()
        tab.wait_for_function("document.querySelector('h1') && document.querySelector('h1').innerText === '差距'",
                              timeout=90_000)
        assert tab.get_by_role("button", name="退出登录").count() == 1  # switching pages keeps the session
        addresses = tab.evaluate("window.__addresses")
        assert any(a.endswith("/gaps") for a in addresses)
        assert not [a for a in addresses if "session" in a or "?" in a], addresses
        # nothing a page script could read: Streamlit's own XSRF cookie only, no token in the tab's storage
        cookies = tab.evaluate("document.cookie")
        assert {c.split("=", 1)[0].strip() for c in cookies.split(";") if c.strip()} <= {"_streamlit_xsrf"}
        storage = tab.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
        assert base64.urlsafe_b64encode(b"eva\n").decode()[:5] not in storage + cookies  # a token's start
        tab.reload()  # a new Streamlit session: it asks to sign in again (the token was in the old one only)
        tab.wait_for_selector("text=用户名", timeout=90_000)
        assert tab.locator("h1").count() == 0
        _sign_in(tab, url, "eva")
        tab.get_by_role("button", name="退出登录").click()
        tab.wait_for_selector("text=用户名", timeout=90_000)
        assert not [a for a in tab.evaluate("window.__addresses") if "session" in a]

        old = browser.new_page(viewport={"width": 1400, "height": 1000})
        old.goto(f"{url}/rankings?session={token}")  # a link from before: the token in it is not read
        old.wait_for_selector("text=用户名", timeout=90_000)
        old.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=90_000)
        assert old.locator("h1").count() == 0 and "session" not in old.url
        browser.close()
