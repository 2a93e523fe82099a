"""The zh-Hans dashboard in one script (issue 26): no Traditional-only character in what the server
sends a 简体 reader — names (濟南市), grades (優秀), obligation titles, quotations, in tables (drawn on a
canvas, so read from the websocket frames the page receives), charts and text — but the language
chooser, which names 繁體中文 in its own script. And a page opened by its own URL is that page, with
no "Page not found"."""

from __future__ import annotations

import time

import opencc
import pytest

from tests.cli import gongkai
from tests.e2e.serve import serving
from tests.e2e.test_browser import ARGS, CHROMIUM, pytestmark  # noqa: F401  (skipped without chromium)

# (page, its heading, a name or title it shows in 简体: the tables did arrive)
MAIN = [("rankings", "排名", "济南市"), ("gaps", "差距", "济南市"), ("departments", "部门", "省"), ("evidence", "证据", "济南市"),
        ("scheme", "指标", "公开"), ("audit", "审计", "示例评估机构")]
AS_WRITTEN = "语言 / 語言 / Language", "繁體中文"   # the language chooser


def traditional_only(text: str) -> set[str]:
    """Characters of `text` that Simplified Chinese writes otherwise (濟 → 济, 優 → 优)."""
    t2s = opencc.OpenCC("t2s")
    return {c for c in set(text) if "\u3400" <= c <= "\u9fff" and t2s.convert(c) != c}


def test_the_check_sees_traditional():
    assert traditional_only("濟南市 優秀 萊蕪市") == {"濟", "優", "萊", "蕪"}
    assert traditional_only("济南市 优秀 莱芜市 政务公开") == set()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("script")
    db = f"sqlite:///{folder / 'dash.db'}"
    assert gongkai("demo", "--db", db).returncode == 0
    with serving(db, folder) as url:
        yield url


def _settled(page) -> None:
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    time.sleep(1)   # the last frames of a finished run


def test_the_zh_hans_pages_are_in_one_script(server):
    from playwright.sync_api import sync_playwright

    frames: list[bytes] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(
            f if isinstance(f, bytes) else f.encode())))
        for path, title, name in MAIN:
            frames.clear()
            page.goto(f"{server}/{path}")
            _settled(page)
            assert page.locator("h1").first.inner_text() == title
            sent = b"".join(frames).decode("utf-8", errors="replace")
            assert name in sent, path
            for kept in AS_WRITTEN:
                sent = sent.replace(kept, "")
            shown = page.locator("[data-testid=stMain]").inner_text()
            assert not traditional_only(sent), (path, sorted(traditional_only(sent)))
            assert not traditional_only(shown), (path, sorted(traditional_only(shown)))
        browser.close()


def test_a_page_opened_by_its_own_url_is_that_page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        for path, title in [("rankings", "排名"), ("gaps", "差距"), ("", "排名")]:
            page.goto(f"{server}/{path}")
            _settled(page)
            assert page.locator("h1").first.inner_text() == title
            assert "Page not found" not in page.content() and "找不到" not in page.content(), path
            assert page.url.endswith(f"/{path or 'rankings'}"), page.url   # the root goes on to /rankings
        browser.close()
