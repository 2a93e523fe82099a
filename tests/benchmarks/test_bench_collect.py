"""The web collector against a bare fetch loop: crawling the fixture site on 127.0.0.1 (rate
unlimited; robots.txt, WARC records into a content-addressed store, page reading, link following)
beside plain httpx GETs of the same URLs. The site has `GONGKAI_BENCH_SITE_PAGES` filler pages
(default 200; 10,000 with GONGKAI_BENCH=full). Its slow-page trap is left out: both would wait."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import httpx
import pytest

from scoring.collect.fetch import CollectSettings, Crawler
from scoring.store.attachments import LocalStore
from scoring.synthetic.site import SiteServer, write_site
from scoring.workflows.collect import Archiver

PAGES = int(os.environ.get("GONGKAI_BENCH_SITE_PAGES", "10000" if os.environ.get("GONGKAI_BENCH") == "full" else "200"))
SETTINGS = CollectSettings(allow_private=True, timeout=5, max_bytes=1_000_000, max_depth=50)


def _serve(folder: str, address: multiprocessing.Queue) -> None:
    server = SiteServer(Path(folder))
    address.put(server.url)
    server.serve_forever()


@pytest.fixture(scope="module")
def site(tmp_path_factory, scheme_2017):
    """The fixture site served from a process of its own, as a real site is: in this process its
    server threads would compete with the crawler's (and the archive writer's) for the interpreter."""
    folder = tmp_path_factory.mktemp("bench-site")
    write_site(scheme_2017, folder, body="tongji", seed=7, filler=PAGES)
    config = json.loads((folder / "_server.json").read_text(encoding="utf-8"))
    config.pop("slow")
    (folder / "_server.json").write_text(json.dumps(config), encoding="utf-8")
    address: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(str(folder), address), daemon=True)
    server.start()
    yield address.get(timeout=60), folder
    server.terminate()
    server.join(10)


def crawl(url: str, store: LocalStore) -> list[str]:
    """What `collect crawl` does before its one database write: fetch, archive, read, store."""
    fetched = []
    with Archiver(store) as keep:
        for cap in Crawler(url, set(), settings=SETTINGS, max_pages=PAGES + 1000, rate=0).run():
            keep(cap)
            if cap.response is not None:
                fetched.append(cap.url)
    return fetched


def test_crawl_fixture_site(benchmark, site, tmp_path):
    url, _ = site
    rounds = iter(range(1000))
    fetched = benchmark.pedantic(lambda: crawl(url, LocalStore(tmp_path / f"store{next(rounds)}")),
                                 rounds=3, iterations=1)
    assert len(fetched) >= PAGES


def test_bare_httpx_loop_over_the_same_urls(benchmark, site, tmp_path):
    site_url, _ = site
    urls = crawl(site_url, LocalStore(tmp_path / "urls"))

    def bare() -> int:
        total = 0
        with httpx.Client(trust_env=False, timeout=5, headers={"Accept-Encoding": "identity"}) as client:
            for url in urls:
                got = 0
                with client.stream("GET", url) as r:  # the same size cap as the crawl's
                    for chunk in r.iter_raw():
                        got += len(chunk)
                        if got > 1_000_000:
                            break
                total += got
        return total

    assert benchmark.pedantic(bare, rounds=3, iterations=1) > 0
