"""The 采集 page through streamlit's AppTest: the crawls, a crawl's proposals above a confidence,
accepting them as one import, one proposal reviewed as its screenshot beside its text and date, and
the page refusing a role without the collect permission."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring.synthetic.site import SiteServer, write_site
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _collect_page(tmp_path, monkeypatch, scheme_2017, *, filler: int, timeout: str, crawl: tuple[str, ...] = ()):
    """The fixture site crawled (served on 127.0.0.1) into a fresh database, and the 採集 page open."""
    db = f"sqlite:///{tmp_path / 'dash.db'}"
    write_site(scheme_2017, tmp_path / "site", body="tongji", seed=7, filler=filler)
    server = SiteServer(tmp_path / "site").start()
    env = clean_env(GONGKAI_COLLECT_ALLOW_PRIVATE="1", GONGKAI_COLLECT_TIMEOUT=timeout, GONGKAI_COLLECT_MAX_BYTES="1000000")
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0", *crawl, "--db", db,
                    env=env)
        assert r.returncode == 0, r.stderr
    finally:
        server.shutdown()
    monkeypatch.setenv("GONGKAI_DATABASE_URL", db)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/collect.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_collect_page_lists_proposals_and_accepts_them(tmp_path, monkeypatch, scheme_2017):
    at = _collect_page(tmp_path, monkeypatch, scheme_2017, filler=5, timeout="1")
    assert at.title[0].value == "采集"
    crawls, proposals = at.dataframe[0].value, at.dataframe[1].value
    assert crawls.iloc[0]["单位"] == "tongji" and crawls.iloc[0]["页面"] > 20
    assert len(proposals) >= 10 and (proposals["置信度"] >= 0.8).all()
    assert set(proposals["状态"]) == {"proposed"}
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.success[0].value.startswith(f"已接受 {len(proposals)} 条：导入批次 1（新增 {len(proposals)}")
    assert set(at.dataframe[1].value["状态"]) == {"accepted"}
    # reached directly by a viewer: refused
    from dashboard.ui import Context
    from scoring.store.accounts import Actor

    ctx = at.session_state["ctx"]
    direct = AppTest.from_file(str(Path(APP).parent / "app_pages" / "collect.py"), default_timeout=60)
    direct.session_state["ctx"] = Context(ctx.lang, ctx.db, ctx.scheme_id, ctx.as_of, ctx.state, Actor("x", "viewer"))
    direct.run()
    assert direct.error[0].value == "您的角色无权使用此页面。" and not direct.dataframe


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed")
def test_a_proposal_is_reviewed_as_its_screenshot_beside_its_text_and_date(tmp_path, monkeypatch, scheme_2017):
    pytest.importorskip("playwright")
    at = _collect_page(tmp_path, monkeypatch, scheme_2017, filler=0, timeout="2", crawl=("--screenshots",))
    first = at.dataframe[1].value.iloc[0]
    images = at.get("image")
    assert len(images) == 1 and images[0].proto.imgs[0].caption == first["网址"]
    text = at.text_area[0].value
    assert first["标题"] in text or first["标题"] in at.markdown[0].value
    assert any(first["发布时间"] in m.value for m in at.markdown)
    assert not any("<html" in m.value.lower() for m in at.markdown)  # the archived page is not rendered here
