"""The collector against a bare httpx loop, interleaved, on a fixture site served from a process of
its own (127.0.0.1 only): least wall and CPU time of each over the rounds, and the load average.

    .venv/bin/python tools/crawl_vs_bare.py PAGES ROUNDS
    PYTHONPATH=/path/to/other/checkout .venv/bin/python tools/crawl_vs_bare.py 2000 5   # another version

CPU time is this process's (the server apart): steadier than wall time on a busy machine."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import httpx

import scoring
from scoring.collect.fetch import CollectSettings, Crawler
from scoring.method.scheme import load_scheme
from scoring.store.attachments import LocalStore
from scoring.synthetic.site import SiteServer, write_site
from scoring.workflows.collect import Archiver

SCHEME = Path(__file__).resolve().parent.parent / "criteria" / "shandong-2017.yaml"
SETTINGS = CollectSettings(allow_private=True, timeout=5, max_bytes=1_000_000, max_depth=50)


def _serve(folder: str, address: multiprocessing.Queue) -> None:
    server = SiteServer(Path(folder))
    address.put(server.url)
    server.serve_forever()


def crawl(url: str, pages: int) -> list[str]:
    """The benchmark's crawl: Crawler and Archiver into a new LocalStore; the URLs fetched."""
    fetched = []
    with Archiver(LocalStore(Path(tempfile.mkdtemp()))) as keep:
        for cap in Crawler(url, set(), settings=SETTINGS, max_pages=pages + 1000, rate=0).run():
            keep(cap)
            if cap.response is not None:
                fetched.append(cap.url)
    return fetched


def bare(urls: list[str]) -> None:
    with httpx.Client(trust_env=False, timeout=5, headers={"Accept-Encoding": "identity"}) as client:
        for url in urls:
            with client.stream("GET", url) as r:
                for _ in r.iter_raw():
                    pass


def main(pages: int, rounds: int) -> None:
    print(scoring.__file__)
    folder = Path(tempfile.mkdtemp()) / "site"
    write_site(load_scheme(SCHEME), folder, body="tongji", seed=7, filler=pages)
    config = json.loads((folder / "_server.json").read_text(encoding="utf-8"))
    config.pop("slow")  # both would only wait
    (folder / "_server.json").write_text(json.dumps(config), encoding="utf-8")
    address: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(str(folder), address), daemon=True)
    server.start()
    url = address.get(timeout=60)
    urls = crawl(url, pages)
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    print("load average", os.getloadavg())
    for _ in range(rounds):
        for name, run in (("bare", lambda: bare(urls)), ("crawl", lambda: crawl(url, pages))):
            before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            run()
            took, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
            wall[name] = min(wall.get(name, took), took)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu[name] = min(cpu.get(name, used), used)
    print("load average", os.getloadavg())
    print(f"{len(urls)} pages; wall: crawl {wall['crawl']:.2f} s, bare {wall['bare']:.2f} s, "
          f"{wall['crawl'] / wall['bare']:.2f}×; CPU: crawl {cpu['crawl']:.2f} s, bare {cpu['bare']:.2f} s, "
          f"{cpu['crawl'] / cpu['bare']:.2f}×")
    server.terminate()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3)
