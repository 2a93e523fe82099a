"""`collect crawl --screenshots` on the fixture site (127.0.0.1 only): every proposed page has a real
full-page PNG of the page (1280 px wide, decoded), accepting the proposals makes each PNG its evidence
row's file, a page's request to another host never leaves the browser, and a missing browser is one
clear line before anything is crawled."""

from __future__ import annotations

import io
import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from sqlmodel import Session, select

from scoring.store import collect as stored
from scoring.store.attachments import LocalStore
from scoring.store.db import engine_for
from scoring.store.models import AuditEntry
from scoring.synthetic.site import SiteServer, write_site
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

pytest.importorskip("playwright")
needs_chromium = pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed")
ENV = {"GONGKAI_COLLECT_ALLOW_PRIVATE": "1", "GONGKAI_COLLECT_TIMEOUT": "2", "GONGKAI_COLLECT_MAX_BYTES": "1000000"}


class _Spy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def other_host():
    """A server on 127.0.0.2 (another host than the site's 127.0.0.1) that logs what reaches it."""
    server = ThreadingHTTPServer(("127.0.0.2", 0), _Spy)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@needs_chromium
def test_every_proposal_has_a_png_of_its_page_and_accept_carries_it(tmp_path, scheme_2017, other_host):
    from PIL import Image

    folder = tmp_path / "site"
    write_site(scheme_2017, folder, body="tongji", seed=7, filler=3)
    truth = pd.read_csv(folder / "truth.csv", dtype=str, keep_default_na=False)
    page, leaving = [u for u in truth["url"] if u.endswith(".html")][:2]
    spy = f"http://127.0.0.2:{other_host.server_address[1]}"
    # WebRTC: a STUN request to an IP literal passes neither the route nor the resolver rules (UDP)
    stun = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    stun.bind(("127.0.0.2", 0))
    stun.setblocking(False)
    rtc = ("<script>try { const pc = new RTCPeerConnection({iceServers: [{urls: 'stun:127.0.0.2:"
           f"{stun.getsockname()[1]}'}}]}});"
           " pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o)); } catch (e) {}"
           "</script>")
    for url, extra in ((page, f'<img src="{spy}/img.png"><img src="/img/moved.png"><script>fetch("{spy}/js")</script>'
                              '<img src="/private/shot.png">' + rtc),   # robots.txt: Disallow: /private/
                       (leaving, f'<script>location.href = "{spy}/away"</script>')):
        html = (folder / url.lstrip("/")).read_text(encoding="utf-8")
        (folder / url.lstrip("/")).write_text(html.replace("</body>", extra + "</body>"), encoding="utf-8")
    # an image of the site's own that the server redirects to the other host (a redirect the route does
    # not see: the browser's pinned resolver has no address for it)
    behaviour = json.loads((folder / "_server.json").read_text(encoding="utf-8"))
    behaviour["redirects"]["/img/moved.png"] = f"{spy}/moved.png"
    (folder / "_server.json").write_text(json.dumps(behaviour), encoding="utf-8")
    server = SiteServer(folder).start()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=clean_env(**ENV)).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0", "--screenshots",
                    "--db", db, env=clean_env(**ENV))
        assert r.returncode == 0, r.stderr
    finally:
        server.shutdown()
    assert any("/img/moved.png" in str(r) for r in server.requests)  # the redirect was served …
    assert not any("/private/" in str(r) for r in server.requests)  # … the image robots.txt disallows was not asked for
    assert other_host.seen == []  # … and the images, the script's fetch and its navigation never left the browser
    with pytest.raises(BlockingIOError):  # nor did a STUN packet
        stun.recv(2048)
    stun.close()
    with Session(engine_for(db)) as session:
        captures = {c.id: c for c in stored.captures(session, crawl_id=1)}
        props = stored.proposals(session, crawl_ids=[1])
        [audited] = session.exec(select(AuditEntry.detail).where(AuditEntry.action == "collect_screenshots")).all()
    assert audited.endswith(", 4 requests of the pages refused (another host, a refused address, or robots.txt)")
    # the other host's image, fetch and navigation; the disallowed image
    by_capture = {c.response_sha256: c for c in captures.values()}
    proposed = [by_capture[s] for s in props["capture"].unique() if by_capture[s].kind == "html"]
    assert len(proposed) >= 5 and f"{len(proposed) - 1} screenshots, 1 pages not rendered" in r.stdout
    # a page whose script sends the browser to another host: refused, and recorded as not rendered
    gone = next(c for c in proposed if c.url.endswith(leaving))
    assert gone.screenshot_sha256 == ""
    assert gone.screenshot_error == f"screenshot failed: the page went on to a refused address ({spy}/away)"
    proposed.remove(gone)
    store = LocalStore(tmp_path / "attachments")
    for c in proposed:
        assert c.screenshot_error == "" and len(c.screenshot_sha256) == 64, (c.url, c.screenshot_error)
        png = store.get(c.screenshot_sha256)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        image = Image.open(io.BytesIO(png))
        assert image.format == "PNG" and image.width == 1280 and image.height >= 800
        dark, light = image.convert("L").getextrema()
        assert light - dark > 100  # the page's text drawn, not a blank frame
    # pages that were not proposed were not rendered
    assert all(c.screenshot_sha256 == "" for c in captures.values() if c not in proposed)
    # `collect proposals` keeps the contract's columns
    listed = gongkai("collect", "proposals", "--crawl", "1", "--format", "csv", "--db", db, env=clean_env(**ENV))
    assert listed.stdout.splitlines()[0] == "body,obligation,period,published_at,url,title,confidence,reason,capture"
    # accepted: each evidence row's file is its page's screenshot; its note names the WARC record
    acc = gongkai("collect", "accept", "--crawl", "1", "--db", db, env=clean_env(**ENV))
    assert acc.returncode == 0, acc.stderr
    from scoring import workflows
    from scoring.store.accounts import Actor

    ev = workflows.evidence(db, actor=Actor("t", None), scheme_id="shandong-2017")
    ev = ev[ev["body"] == "tongji"].merge(props[["url", "capture"]], on="url")
    assert len(ev) == len(props)
    for row in ev.itertuples():
        shot = by_capture[row.capture].screenshot_sha256
        assert row.attachment == (shot or row.capture)  # a PDF keeps its WARC record
        if shot:  # captured when the screenshot was taken (in the scheme's time; a zip's clock ticks in 2 s)
            taken = pd.Timestamp(by_capture[row.capture].screenshot_at, tz="UTC").tz_convert("Asia/Shanghai")
            assert abs(pd.Timestamp(row.captured_at) - taken.tz_localize(None)) <= pd.Timedelta(seconds=2)
        assert row.note.endswith(f"capture {row.capture}")


def test_no_browser_is_one_clear_line_before_the_crawl(tmp_path, scheme_2017):
    folder = tmp_path / "site"
    write_site(scheme_2017, folder, body="tongji", seed=7, filler=0)
    server = SiteServer(folder).start()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    env = clean_env(**ENV, GONGKAI_CHROMIUM=str(tmp_path / "no-chromium"), PATH=str(tmp_path))
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--screenshots", "--db", db, env=env)
    finally:
        server.shutdown()
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "error: --screenshots needs a chromium browser, none found: install Debian's chromium and CJK fonts: "
        "apt-get install chromium fonts-noto-cjk fonts-wqy-zenhei (or set GONGKAI_CHROMIUM)"]
    assert server.requests == []  # refused before anything was sent


def test_resolver_rules_pin_checked_names_and_refuse_the_rest():
    from scoring.collect.shots import resolver_rules

    assert resolver_rules({"www.example.gov.cn": "203.0.113.5", "v6.example.gov.cn": "2001:db8::1",
                           "127.0.0.1": "127.0.0.1", "山东.政府.cn": "203.0.113.6"}) == \
        ("EXCLUDE 127.0.0.1, MAP v6.example.gov.cn [2001:db8::1], MAP www.example.gov.cn 203.0.113.5, "
         "MAP xn--xhq326a.xn--mxtq1m.cn 203.0.113.6, MAP * ~NOTFOUND")


def test_a_browser_that_does_not_start_keeps_the_crawl_and_says_why_on_each_page(tmp_path, scheme_2017):
    folder = tmp_path / "site"
    write_site(scheme_2017, folder, body="tongji", seed=7, filler=0)
    server = SiteServer(folder).start()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    env = clean_env(**ENV, GONGKAI_CHROMIUM="/bin/false")
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0", "--screenshots",
                    "--db", db, env=env)
    finally:
        server.shutdown()
    assert r.returncode == 0, r.stderr
    with Session(engine_for(db)) as session:
        pages = [c for c in stored.captures(session, crawl_id=1) if c.screenshot_error]
        proposed = stored.proposals(session, crawl_ids=[1])
    assert f"; 0 screenshots, {len(pages)} pages not rendered" in r.stdout and len(proposed) >= len(pages) > 0
    assert all(c.screenshot_error.startswith("--screenshots: the browser /bin/false did not start (") for c in pages)
