"""The dashboard in a real browser: Debian's chromium driven by Playwright against `gongkai serve`.

Screenshots of every page go to out/e2e/ (or $GONGKAI_TEST_OUTPUT). Skips only where chromium is
not installed (CI installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli import gongkai
from tests.e2e.serve import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUT = Path(os.environ.get("GONGKAI_TEST_OUTPUT", Path(__file__).resolve().parents[2] / "out")) / "e2e"
PAGES = [("", "排名"), ("gaps", "差距"), ("departments", "部门"), ("evidence", "证据"), ("import", "导入"),
         ("scheme", "指标"), ("report", "报告"), ("audit", "审计")]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


HOSTILE = '<img src=x id=injected onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    db = f"sqlite:///{folder / 'dash.db'}"
    assert gongkai("demo", "--db", db).returncode == 0
    hostile = folder / "hostile.csv"
    hostile.write_text('單位,任務編號,發佈時間,備註,網址\n濟南市,6.7,2017-06-10,"' + HOSTILE.replace('"', '""')
                       + '","javascript:alert(3)"\n', encoding="utf-8")
    assert gongkai("import", str(hostile), "--db", db).returncode == 0
    with serving(db, folder) as url:
        yield url


def test_every_page_renders_in_chinese(server):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        for path, title in PAGES:
            page.goto(f"{server}/{path}")
            page.wait_for_selector("h1", timeout=60_000)
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
            assert page.locator("h1").first.inner_text() == title
            assert page.locator("[data-testid=stException]").count() == 0, path
            assert "Page not found" not in page.content()
            page.screenshot(path=str(OUT / f"{path or 'rankings'}.png"), full_page=True)
        browser.close()
    assert len(list(OUT.glob("*.png"))) >= len(PAGES)


@pytest.mark.parametrize(("width", "height", "prefix"), [(1400, 1000, "wide-"), (390, 844, "phone-")])
def test_pages_read_well_at_desk_and_phone_widths(server, width, height, prefix):
    """What a person sees: no Deploy button or developer menu, nothing wider than the screen, the
    upload limit of the CLI; screenshots of every page at both widths are kept in out/e2e/."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    wide: dict[str, int] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height}, locale="zh-CN")
        for path, _ in PAGES:
            page.goto(f"{server}/{path}")
            page.wait_for_selector("h1", timeout=60_000)
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
            page.wait_for_function("!document.querySelector('[data-testid=stSkeleton]')", timeout=60_000)
            page.wait_for_timeout(800)
            assert page.locator("[data-testid=stAppDeployButton]").count() == 0
            assert page.locator("[data-testid=stMainMenu]").count() == 0
            overflow = page.evaluate("document.documentElement.scrollWidth") - width
            if overflow > 2:
                wide[path or "rankings"] = overflow
            if path == "import":
                uploader = page.locator("[data-testid=stFileUploader]").inner_text()
                assert "每个文件不超过 512 MB" in uploader and "1GB" not in uploader
            page.screenshot(path=str(OUT / f"{prefix}{path or 'rankings'}.png"), full_page=True)
        assert page.title().startswith("政务公开考核")
        browser.close()
    assert wide == {}


def test_evidence_text_cannot_inject_markup(server):
    """A firm's note with markup and script is shown as text: no element appears, no dialog opens."""
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{server}/evidence")
        page.wait_for_selector("h1", timeout=60_000)
        page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
        page.wait_for_timeout(1500)
        injected = page.locator("#injected").count()
        browser.close()
    assert injected == 0 and dialogs == []


def test_cjk_fonts_installed():
    """Chinese text needs a CJK font on the machine (fonts-noto-cjk), or it renders as boxes."""
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert "Noto" in fonts


def test_an_upload_name_is_shown_as_text(server):
    """A file name with Markdown (bold, an image pointing at a listener) shows as written: no <strong>,
    no <img>, and the listener is never asked for anything."""
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    asked: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    listener = http.server.HTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    name = (f"**bold** ![x](http://127.0.0.1:{listener.server_port}/pixel.png) [a](http://example.invalid) "
            "www.example.invalid a@example.invalid.csv")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server}/import")
            page.wait_for_selector("h1", timeout=60_000)
            page.locator("input[type=file]").set_input_files(
                {"name": name, "mimeType": "text/csv", "buffer": "單位,任務編號\n不存在市,6.7\n".encode()})
            page.wait_for_selector("[data-testid=stAlertContentError]", timeout=60_000)
            page.wait_for_timeout(1500)
            alert = page.locator("[data-testid=stAlertContentError]").first
            shown, markup = alert.inner_text().replace("\u2060", ""), alert.locator("strong, img, a").count()
            html = alert.inner_html()
            browser.close()
    finally:
        listener.shutdown()
    assert shown.startswith(name) and asked == [], (shown, asked)
    assert markup == 0, html
