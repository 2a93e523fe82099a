"""Year over year in a real browser (chromium): the demo with its synthetic second year — the 排名 page
shows each body's change against 2017's final result (较上年, ▲/▼, 可比得分变化), the most improved and
the trend over the years; the 差距 page marks the points lost in both years (反复出现)."""

from __future__ import annotations

import pytest

from tests.cli import gongkai
from tests.e2e.serve import serving
from tests.e2e.test_browser import ARGS, CHROMIUM, OUT

pytestmark = pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def two_year_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("years")
    db = f"sqlite:///{folder / 'years.db'}"
    assert gongkai("demo", "--years", "2", "--db", db).returncode == 0
    with serving(db, folder) as url:
        yield url


def test_rankings_and_gaps_show_the_year_before(two_year_server):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(two_year_server)
        page.get_by_text("与上一年度（shandong-2017）终评结果比较").first.wait_for(timeout=60_000)
        for header in ("较上年", "名次变化", "可比得分变化"):  # the table's columns (a canvas grid: its headers are hidden cells)
            page.locator("th", has_text=header).first.wait_for(state="attached", timeout=30_000)
        assert "进步最大：" in page.inner_text("body")
        page.get_by_text("历年得分").first.wait_for(timeout=30_000)
        page.screenshot(path=str(OUT / "years-rankings.png"), full_page=True)
        page.goto(f"{two_year_server}/gaps")
        page.get_by_text("反复出现").first.wait_for(timeout=60_000)
        assert "也曾失分（反复出现）" in page.inner_text("body")
        page.screenshot(path=str(OUT / "years-gaps.png"), full_page=True)
        browser.close()
