"""The web collector against a bare fetch loop: crawling the fixture site on 127.0.0.1 (rate
unlimited; robots.txt, WARC records into the crawl's one WARC file in a content-addressed store,
page reading, link following) beside plain httpx GETs of the same URLs; and the peak memory of a
whole `gongkai collect crawl` process (database included) at a fifth of the pages and at all of them. The site has
`GONGKAI_BENCH_SITE_PAGES` filler pages (default 200; 10,000 with GONGKAI_BENCH=full). Its slow-page
trap is left out: both would wait."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from scoring.collect.fetch import CollectSettings, Crawler
from scoring.store.attachments import LocalStore
from scoring.synthetic.site import SiteServer, write_site
from scoring.workflows.collect import Archiver

PAGES = int(os.environ.get("GONGKAI_BENCH_SITE_PAGES", "10000" if os.environ.get("GONGKAI_BENCH") == "full" else "200"))
ROUNDS = int(os.environ.get("GONGKAI_BENCH_ROUNDS", "3"))
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


def timed(benchmark, run):
    """`run` benchmarked over rounds, with the least CPU time this process spent in a round (the
    fixture site's server and any reader process apart: it varies less with the machine's load than
    the wall time) and the load average beside the figures."""
    cpu: list[float] = []

    def once():
        before = resource.getrusage(resource.RUSAGE_SELF)
        out = run()
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return out

    out = benchmark.pedantic(once, rounds=ROUNDS, iterations=1)
    benchmark.extra_info["cpu_s_min"] = round(min(cpu), 3)
    benchmark.extra_info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return out


def crawl(url: str, store: LocalStore, readers: int = 0) -> list[str]:
    """What `collect crawl` does before its one database write: fetch, archive, read, store."""
    fetched = []
    settings = SETTINGS.model_copy(update={"readers": readers})
    with Archiver(store) as keep:
        for cap in Crawler(url, set(), settings=settings, max_pages=PAGES + 1000, rate=0).run():
            keep(cap)
            if cap.response is not None:
                fetched.append(cap.url)
    return fetched


@pytest.mark.parametrize("readers", [0, 1])
def test_crawl_fixture_site(benchmark, site, tmp_path, readers):
    """The crawl reading each page in turn (the default), and with one reader process beside it."""
    url, _ = site
    rounds = iter(range(1000))
    fetched = timed(benchmark, lambda: crawl(url, LocalStore(tmp_path / f"store{next(rounds)}"), readers))
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

    assert timed(benchmark, bare) > 0


PEAK = """
import resource, sys, tracemalloc
from scoring.collect.fetch import CollectSettings
from scoring.store.accounts import Actor
from scoring.workflows.collect import crawl
db, url, pages = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = CollectSettings(allow_private=True, timeout=5, max_bytes=1_000_000, max_depth=50)
tracemalloc.start()
got = crawl(db, actor=Actor("bench", None), body="tongji", site=url, max_pages=pages, rate=0, settings=settings)
print(tracemalloc.get_traced_memory()[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, got.pages)
"""


def peak_memory(db: str, url: str, pages: int) -> tuple[float, float, int]:
    """The crawl use case (database included) in a process of its own: (peak of Python's allocations
    during the crawl, MB, by tracemalloc; the process's peak resident memory, MB, imports included;
    pages fetched). Its reader processes are apart: they hold one page at a time."""
    r = subprocess.run([sys.executable, "-c", PEAK, db, url, str(pages)], text=True, capture_output=True,
                       stdin=subprocess.DEVNULL, env={k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")})
    assert r.returncode == 0, r.stderr
    traced, rss_kb, fetched = map(int, r.stdout.split()[-3:])
    return traced / 2**20, rss_kb / 1024, fetched


def test_crawl_memory_is_flat_in_pages(benchmark, site, tmp_path):
    """The crawl use case at a fifth of the site and at all of it: the captures' text waits on disk,
    so the peak grows only by the frontier's own state (seen fingerprints, queued links), the CDXJ
    index and the pages' rows (without their text) matched into proposals."""
    from tests.cli import clean_env, gongkai
    from tests.conftest import SCHEME_2017

    url, _ = site
    db = f"sqlite:///{tmp_path / 'memory.db'}"
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=clean_env()).returncode == 0
    sizes = (PAGES // 5, PAGES + 1000)
    got = benchmark.pedantic(lambda: [peak_memory(db, url, n) for n in sizes], rounds=1, iterations=1)
    for (traced, rss, fetched) in got:
        benchmark.extra_info[f"pages_{fetched}_traced_peak_mb"] = round(traced, 1)
        benchmark.extra_info[f"pages_{fetched}_peak_rss_mb"] = round(rss, 1)
    (small, _, few), (large, _, many) = got
    growth = (large - small) / (many - few) * 1000
    benchmark.extra_info["traced_peak_growth_mb_per_1000_pages"] = round(growth, 2)
    assert many >= PAGES
    assert growth < 6  # 2.4–2.9 MB per 1,000 pages of this site from 2,000 to 10,758; 10.3 with every row kept
