"""The collector at scale: one crawl as many workers over Dramatiq and Redis. One message per URL to
fetch (the crawl's key and the queued URL); a worker (`gongkai collect worker`, which runs this
module under Dramatiq's worker) takes the crawler's own per-URL step with its politeness and
frontier shared in Redis (scoring/collect/engine.py), puts the WARC records in the attachment store
and hands its capture rows back through Redis; the coordinator (`gather`, called by
`collect.crawl(engine="redis")`) queues the start URL, waits for the last message to be handled and
returns the rows for the crawl to be stored exactly as a single-process one is.

Importing this module sets Dramatiq's broker (GONGKAI_COLLECT_BROKER) and declares the actor on
GONGKAI_COLLECT_QUEUE: only workers and a queued crawl import it."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from scoring.collect.engine import Frontier, Plan, SharedCrawler, connect, queued_from, queued_json
from scoring.collect.fetch import Capture as Fetched
from scoring.collect.fetch import CollectSettings, Crawler, Queued, Step, fingerprint
from scoring.errors import GongkaiError
from scoring.store.attachments import AttachmentStore, LocalStore
from scoring.store.models import Capture
from scoring.workflows.collect import Gathered, _capture_row, cdxj_lines

SETTINGS = CollectSettings()
broker = RedisBroker(url=SETTINGS.broker)
dramatiq.set_broker(broker)
_threads = threading.local()


def _worker() -> str:
    """Who handled a URL: host and process (read when it is asked: worker processes are forked)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _crawler(key: str) -> tuple[Frontier, SharedCrawler, Plan] | None:
    """This thread's crawler of a crawl (one HTTP connection per host and thread), made on its first
    URL; None once the crawl is over (its plan gone: finished, or given up by its coordinator)."""
    mine: dict[str, tuple[Frontier, SharedCrawler, Plan]] = _threads.__dict__.setdefault("crawlers", {})
    if key in mine:
        if mine[key][0].plan() is not None:
            return mine[key]
        mine.pop(key)[1].close()
        return None
    frontier = Frontier(broker.client, key)
    plan = frontier.plan()
    if plan is None:
        return None
    while len(mine) >= 4:  # threads move on to other crawls: the oldest crawler closes
        mine.pop(next(iter(mine)))[1].close()
    mine[key] = (frontier, plan.crawler(frontier), plan)
    return mine[key]


def _kept(f: Fetched, store: AttachmentStore, robots: bool) -> dict[str, Any]:
    """A capture handed back: its WARC records stored, its row and CDXJ lines, and who fetched it."""
    for record in (f.request, f.response):
        if record is not None:
            store.put(record.data)
    return {"row": _capture_row(f).model_dump(mode="json", exclude={"id"}), "cdxj": cdxj_lines(f),
            "robots": robots, "worker": _worker()}


@dramatiq.actor(queue_name=SETTINGS.queue, max_retries=3, min_backoff=1000, time_limit=30 * 60 * 1000)
def crawl_url(key: str, queued: dict[str, Any]) -> None:
    """Crawl one URL of a crawl: robots.txt and the politeness of its host shared with every worker,
    the URL fetched once, the new links it has queued (each its own message)."""
    got = _crawler(key)
    if got is None:
        return  # the crawl is over
    frontier, crawler, plan = got
    q = queued_from(queued)
    if frontier.handled(q.url):
        return  # a message redelivered after it was handled
    if not frontier.reserve_page(plan.max_pages):
        frontier.finish(q.url, [])  # past --max-pages: not fetched
        return
    try:
        step = crawler.step(q)
    except Exception as e:  # noqa: BLE001 — a page that breaks the reader is a recorded error, not a lost URL
        step = Step([], Fetched(q.url, q.depth, dt.datetime.now(dt.UTC), anchor=q.anchor, referrer_channel=q.referrer_channel,
                                  error=f"the worker failed on it: {type(e).__name__}: {e}"), [])
    if step.capture.response is None:
        frontier.release_page()
    store = LocalStore(Path(plan.attachments))
    kept = [_kept(robots, store, True) for robots in step.robots]
    kept.append(_kept(step.capture, store, False))
    for f in step.found:
        if frontier.admit(f, crawler.settings.max_variants):
            frontier.sent()
            crawl_url.send(key, queued_json(f))
    frontier.finish(q.url, kept)


def gather(*, site: str, hosts: set[str], max_pages: int, rate: float, settings: CollectSettings,
           store: AttachmentStore, progress: Callable[[str], None] | None = None) -> Gathered:
    """Crawl `site` through the workers' queue and wait for it: the rows the crawl stores. Gives up
    (and says what to check) when no URL is handled for GONGKAI_COLLECT_STALL_TIMEOUT seconds."""
    if not isinstance(store, LocalStore):
        raise GongkaiError("the redis engine needs an attachment store the workers share (a local or mounted folder)")
    checked = Crawler(site, hosts, settings=settings, max_pages=max_pages, rate=rate)  # the address, before anything is sent
    checked.close()
    client = connect(settings.broker)
    frontier = Frontier(client, f"gongkai:collect:{settings.queue}:{uuid4().hex}")
    plan = Plan(site, sorted(checked.hosts), max_pages, rate, settings.model_dump(), str(store.root.resolve()))
    start = Queued(site, 0)
    try:
        frontier.open(plan, start)
        frontier.sent()
        # on the settings' broker and queue (this module's own are those of its first import)
        RedisBroker(client=client).enqueue(crawl_url.message(frontier.key, queued_json(start)).copy(queue_name=settings.queue))
        seen, moved = 0, time.monotonic()
        while frontier.outstanding() > 0:
            time.sleep(0.1)
            n = frontier.captured()
            if n > seen:
                if progress:
                    for c in frontier.captures(seen, n - 1):
                        progress(c["row"]["url"])
                seen, moved = n, time.monotonic()
            elif time.monotonic() - moved > settings.stall_timeout:
                raise GongkaiError(
                    f"crawl of {site}: no URL handled for {settings.stall_timeout:g} s (GONGKAI_COLLECT_STALL_TIMEOUT): "
                    f"is a worker running on queue {settings.queue!r} of {settings.broker}? (gongkai collect worker)")
        handed = frontier.captures()
    finally:
        frontier.delete()
    return _gathered(handed, set(checked.hosts))


def _gathered(handed: list[dict[str, Any]], hosts: set[str]) -> Gathered:
    """The rows handed back, each URL once (a message handled twice — a worker presumed dead that
    was not — gives its captures twice: the first are kept)."""
    rows, lines, workers, kept = [], [], Counter[str](), set()
    for h in handed:
        key = (h["robots"], fingerprint(h["row"]["url"]))
        if key in kept:
            continue
        kept.add(key)
        rows.append(Capture.model_validate(h["row"]))
        lines += h["cdxj"]
        workers[h["worker"]] += 1
    return Gathered(rows, lines, hosts, dict(workers))


def run_workers(processes: int, threads: int) -> None:
    """Become Dramatiq's worker command on this module and queue (does not return)."""
    settings = CollectSettings()  # this environment's (the module's own are those of its first import)
    connect(settings.broker)
    args = [sys.executable, "-m", "dramatiq", __name__, "--processes", str(processes), "--threads", str(threads),
            "--queues", settings.queue]
    sys.stdout.flush()
    os.execv(sys.executable, args)
