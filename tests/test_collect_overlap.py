"""Reading pages in other processes while the crawl fetches changes nothing a user sees: the same
URLs in the same order, with the same depth, anchors, errors, notes and what each page says (title,
text, date and its source, channel, links), as reading every page before the next fetch; and the
WARC records made in memory still read back and check."""

from __future__ import annotations

import json

import pytest

from scoring.collect import archive
from scoring.collect.fetch import CollectSettings, Crawler
from scoring.synthetic.site import SiteServer, write_site


@pytest.fixture(scope="module")
def site(tmp_path_factory, scheme_2017):
    """The fixture site with every trap (robots.txt, redirects, calendar, huge and gzip-bomb pages)
    and enough filler pages that the readers fall well behind the fetching. The slow page is left
    out: it only waits."""
    folder = tmp_path_factory.mktemp("overlap-site")
    write_site(scheme_2017, folder, body="jinan", seed=5, filler=150)
    config = json.loads((folder / "_server.json").read_text(encoding="utf-8"))
    config.pop("slow")
    (folder / "_server.json").write_text(json.dumps(config), encoding="utf-8")
    server = SiteServer(folder).start()
    yield server
    server.shutdown()


def crawl(server: SiteServer, readers: int) -> list[tuple]:
    """What a crawl found, capture by capture, in order (a truncated response's size is left out:
    where the size cap cuts depends on how the bytes arrive)."""
    settings = CollectSettings(allow_private=True, timeout=2, max_bytes=1_000_000, readers=readers)
    out = []
    for c in Crawler(server.url, set(), settings=settings, max_pages=600, rate=0).run():
        p = c.page
        page = None if p is None else (p.kind, p.title, p.text, p.published_at, p.has_time, p.date_source, p.channel,
                                       p.encoding, p.is_list, p.problem, [tuple(link) for link in p.links])
        out.append((c.url, c.depth, c.status, c.mime, None if "truncated" in c.error else c.size, c.error, c.note,
                    c.redirect, c.anchor, c.referrer_channel, c.response is not None, page))
    return out


def test_reading_elsewhere_finds_what_reading_in_turn_finds(site):
    in_turn, overlapped = crawl(site, readers=0), crawl(site, readers=2)
    assert len(in_turn) > 200
    assert sum(c[-1] is not None and c[-1][0] == "html" and c[-1][5] != "" for c in in_turn) > 100  # dated pages
    assert [c[0] for c in overlapped] == [c[0] for c in in_turn]
    assert overlapped == in_turn


def test_a_crawl_stops_at_its_page_cap_with_readers_too(site):
    settings = CollectSettings(allow_private=True, timeout=2, readers=1)
    caps = list(Crawler(site.url, set(), settings=settings, max_pages=25, rate=0).run())
    assert sum(c.response is not None for c in caps if not c.url.endswith("/robots.txt")) == 25
    in_turn = list(Crawler(site.url, set(), settings=settings.model_copy(update={"readers": 0}), max_pages=25, rate=0).run())
    assert [c.url for c in caps] == [c.url for c in in_turn]
    assert all(c.unread is None for c in caps)  # every body read (and let go)


def test_the_request_sent_ahead_is_the_next_the_crawl_fetches(site):
    """The next queued URL's request goes out while a page is read: the site sees exactly the crawl's
    requests, in the crawl's order, each once, none past the page cap."""
    before = len(site.requests)
    caps = list(Crawler(site.url, set(), settings=CollectSettings(allow_private=True, timeout=2, readers=0),
                        max_pages=40, rate=0).run())
    sent = [c.url.removeprefix(site.url.rstrip("/")) for c in caps if c.request is not None]
    assert sum(c.response is not None for c in caps if not c.url.endswith("/robots.txt")) == 40
    assert [path for path, _ in site.requests[before:]] == sent
    assert len(set(sent)) == len(sent)


def test_in_memory_warc_records_read_back(site):
    caps = list(Crawler(site.url, set(), settings=CollectSettings(allow_private=True, readers=0), max_pages=5, rate=0).run())
    records = [r for c in caps for r in (c.request, c.response) if r is not None]
    assert len(records) >= 10
    assert all(archive.check_record(r.data) == "" for r in records)
    html = next(c for c in caps if c.page is not None and c.page.kind == "html")
    assert html.response is not None
    url, payload = archive.payload(html.response.data)
    assert url == html.url and payload.startswith(b"<")


def test_the_crawl_is_stored_batch_by_batch_in_order_and_all_or_nothing(tmp_path, monkeypatch, site):
    """Capture rows wait in a temporary file and are stored in batches (here of 7) in the crawl's one
    transaction: every row, in crawl order, with its text; a failure while storing leaves nothing."""
    from sqlmodel import Session

    from scoring.store import collect as stored
    from scoring.store.accounts import Actor
    from scoring.store.db import engine_for
    from scoring.workflows import collect as workflow
    from scoring.workflows.schemes import load_scheme_file
    from tests.conftest import SCHEME_2017

    db, actor = f"sqlite:///{tmp_path / 'spool.db'}", Actor("t", None)
    load_scheme_file(db, actor=actor, path=SCHEME_2017)
    settings = CollectSettings(allow_private=True, timeout=2, max_bytes=1_000_000, readers=1)
    monkeypatch.setattr(workflow, "SPOOL_BATCH", 7)
    got = workflow.crawl(db, actor=actor, body="jinan", site=site.url, max_pages=60, rate=0, settings=settings)
    want = crawl_captures(site, max_pages=60)
    with Session(engine_for(db)) as session:
        rows = stored.captures(session, crawl_id=got.id)
        assert [(r.url, r.depth, r.title, r.text, r.published_at, r.error) for r in rows] == want
        assert got.pages == sum(r.response_sha256 != "" for r in rows) and got.proposals > 0

    def fail(*args, **kwargs):
        raise RuntimeError("the proposals cannot be stored")

    monkeypatch.setattr(workflow.stored, "add_proposals", fail)
    with pytest.raises(RuntimeError, match="cannot be stored"):
        workflow.crawl(db, actor=actor, body="jinan", site=site.url, max_pages=60, rate=0, settings=settings)
    with Session(engine_for(db)) as session:
        assert [c.id for c in stored.crawls(session)] == [got.id]
        assert stored.captures(session, crawl_id=got.id + 1) == []


def crawl_captures(server: SiteServer, max_pages: int) -> list[tuple]:
    settings = CollectSettings(allow_private=True, timeout=2, max_bytes=1_000_000, readers=0)
    return [(c.url, c.depth, c.page.title if c.page else "", c.page.text if c.page else "",
             c.page.published_at if c.page else None, c.error)
            for c in Crawler(server.url, set(), settings=settings, max_pages=max_pages, rate=0).run()]
