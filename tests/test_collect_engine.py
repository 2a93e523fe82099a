"""The collector at scale: one crawl as two worker processes over Dramatiq and Redis (127.0.0.1:6379;
skipped when it does not answer), on the fixture site served on 127.0.0.1 with a timed request log.
Every URL is fetched once (robots.txt once), no two requests to the host come closer than 1/rate,
both workers fetch, and the stored crawl — captures, proposals, WARC records — is the one a
single-process crawl of the same site stores. Each test has its own queue and key prefix, removed after."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pandas as pd
import pytest
from sqlmodel import Session

from scoring.store import collect as stored
from scoring.store.db import engine_for
from scoring.synthetic.site import SiteServer, write_site
from tests.cli import clean_env, gongkai
from tests.conftest import SCHEME_2017

REDIS = "redis://127.0.0.1:6379/0"
RATE = 20.0  # requests per second to the host: 50 ms apart
JITTER = 0.005  # Redis keeps expiry times in whole ms; the slot frees only after a request has ended


def _redis():
    try:
        import redis

        client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
        client.ping()
        return client
    except Exception:  # noqa: BLE001 — any failure to reach it: the service is not here
        return None


needs_redis = pytest.mark.skipif(_redis() is None, reason="no Redis at 127.0.0.1:6379")


@pytest.fixture
def queue():
    """A queue (and key prefix) of this test's own, every key of it removed afterwards."""
    name = f"gongkai-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = _redis()
    if client is not None:
        keys = [*client.scan_iter(f"gongkai:collect:{name}:*"), *client.scan_iter(f"dramatiq:{name}*")]
        if keys:
            client.delete(*keys)


def env(queue: str = "gongkai-test-none", **extra: str) -> dict[str, str]:
    return clean_env(**{"GONGKAI_COLLECT_ALLOW_PRIVATE": "1", "GONGKAI_COLLECT_TIMEOUT": "1",
                        "GONGKAI_COLLECT_MAX_BYTES": "1000000", "GONGKAI_COLLECT_BROKER": REDIS,
                        "GONGKAI_COLLECT_QUEUE": queue, "GONGKAI_COLLECT_MAX_VARIANTS": "5"} | extra)


class Worker:
    """`gongkai collect worker` as a real process (Dramatiq's worker command), its log kept."""

    def __init__(self, queue: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "scoring.cli", "collect", "worker", "--processes", "1",
                                      "--threads", "2"], env=env(queue), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def ready(self) -> bool:
        return any("Worker process is ready for action" in line for line in self.log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the worker and its forked process
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def proposals(db: str, crawl_id: int, e: dict[str, str]) -> pd.DataFrame:
    r = gongkai("collect", "proposals", "--crawl", str(crawl_id), "--format", "csv", "--db", db, env=e)
    assert r.returncode == 0, r.stderr
    return pd.read_csv(io.StringIO(r.stdout), dtype=str, keep_default_na=False)


def captured(db: str, crawl_id: int) -> tuple[set[tuple], dict]:
    """The crawl's captures as what a user reads of them (the WARC digests aside: records differ in their
    times), and the crawl's settings."""
    with Session(engine_for(db)) as session:
        rows = {(c.url, c.depth, c.status, c.kind, c.title, c.published_at, c.date_source, c.channel,
                 c.referrer_channel, c.is_list, c.error, c.note, c.redirect,
                 None if c.error.endswith("truncated") else c.size)  # where a truncated read stops varies
                for c in stored.captures(session, crawl_id=crawl_id)}
        crawl = stored.get_crawl(session, crawl_id=crawl_id)
        return rows, json.loads(crawl.settings) | {"pages": crawl.pages}


@pytest.fixture(scope="module")
def workers():
    """Two `gongkai collect worker` processes on a queue of this module's own (each crawl has its own
    key prefix), ready; stopped and every key of the queue removed afterwards."""
    if _redis() is None:
        pytest.skip("no Redis at 127.0.0.1:6379")
    name = f"gongkai-test-{uuid.uuid4().hex[:12]}"
    pair = [Worker(name), Worker(name)]
    try:
        deadline = time.monotonic() + 60
        while not all(w.ready() for w in pair):
            assert time.monotonic() < deadline, "".join(w.log[-1:] for w in pair)
            assert all(w.proc.poll() is None for w in pair), "".join("".join(w.log) for w in pair)
            time.sleep(0.1)
        yield name
    finally:
        for w in pair:
            w.stop()
        client = _redis()
        if client is not None:
            keys = [*client.scan_iter(f"gongkai:collect:{name}:*"), *client.scan_iter(f"dramatiq:{name}*")]
            if keys:
                client.delete(*keys)


def crawl_queued(tmp_path, queue: str, rate: float, *args: str, **extra: str):
    """The fixture site served and crawled through the queue: (the crawl's output, the server's log as
    (path, time) pairs, seconds taken, db, env)."""
    from scoring.method.scheme import load_scheme

    folder = tmp_path / "site"
    write_site(load_scheme(SCHEME_2017), folder, body="tongji", seed=7, filler=0)
    server = SiteServer(folder).start()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    e = env(queue, **extra)
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=e).returncode == 0
        started = time.monotonic()
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", f"{rate:g}",
                    "--engine", "redis", *args, "--db", db, env=e)
        took = time.monotonic() - started
        assert r.returncode == 0, r.stderr
        log = [(p, t) for (p, _), t in zip(server.requests, server.times, strict=True)]
        if not args:  # the same site crawled by this process alone, into the same database (crawl 2)
            local = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--rate", "0", "--db", db,
                            env=e)
            assert local.returncode == 0, local.stderr
    finally:
        server.shutdown()
    return r, log, took, db, e


def polite(log: list[tuple[str, float]], rate: float) -> list[str]:
    """Every URL once, robots.txt once, nothing disallowed, and no two requests closer than 1/rate:
    the paths requested (asserted)."""
    paths, times = [p for p, _ in log], [t for _, t in log]
    assert len(paths) == len(set(paths)), [p for p in paths if paths.count(p) > 1]
    assert paths.count("/robots.txt") == 1 and not [p for p in paths if p.startswith("/private/")]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    close = [(round(g, 4), paths[i:i + 2]) for i, g in enumerate(gaps) if g < 1 / rate - JITTER]
    assert not close, close
    print(f"{len(paths)} requests; gaps: min {min(gaps) * 1000:.1f} ms, median {sorted(gaps)[len(gaps) // 2] * 1000:.1f} ms")
    return paths


def trap_apart(rows: set[tuple]) -> tuple[set[tuple], int]:
    """Captures outside the endless calendar, and how many of its pages: the variant cap takes as many
    of a trap's pages in any order, but which ones depends on the order they were found in."""
    return {r for r in rows if "/calendar/" not in r[0]}, sum("/calendar/" in r[0] for r in rows)


@needs_redis
def test_two_workers_crawl_once_politely_and_store_what_one_process_stores(tmp_path, workers):
    _, log, took, db, e = crawl_queued(tmp_path, workers, RATE)
    paths = polite(log, RATE)
    assert len(paths) > 30 and took >= (len(paths) - 1) / RATE
    mine, settings = captured(db, 1)
    theirs, _ = captured(db, 2)
    print(f"{took:.1f} s; URLs per worker: {settings['workers']}")
    # both workers fetched; the crawl records who did what
    assert settings["engine"] == "redis" and settings["queue"] == workers
    assert len(settings["workers"]) == 2 and min(settings["workers"].values()) >= 1, settings["workers"]
    assert sum(settings["workers"].values()) == len(mine) == len(paths) + 1  # and /private/, not fetched
    # the same crawl a single process makes: the same captures, the same proposals
    assert trap_apart(mine) == trap_apart(theirs)
    ours, single = proposals(db, 1, e), proposals(db, 2, e)
    assert len(ours) >= 10
    assert ours.drop(columns="capture").sort_values("url").to_numpy().tolist() == \
        single.drop(columns="capture").sort_values("url").to_numpy().tolist()
    # the workers' WARC records are in the database's attachment store, every one sound
    checked = gongkai("collect", "verify", "1", "--db", db, env=e)
    assert checked.returncode == 0, checked.stderr
    assert f"crawl 1: {2 * settings['pages']} WARC records verified" in checked.stdout.replace(",", "")
    # and the crawl's shared state is gone from Redis
    client = _redis()
    assert client is not None and not list(client.scan_iter(f"gongkai:collect:{workers}:*"))


@needs_redis
def test_a_queued_crawl_without_workers_gives_up_and_says_why(tmp_path, queue):
    folder = tmp_path / "site"
    from scoring.method.scheme import load_scheme

    write_site(load_scheme(SCHEME_2017), folder, body="tongji", seed=7, filler=0)
    server = SiteServer(folder).start()
    db = f"sqlite:///{tmp_path / 'g.db'}"
    e = env(queue, GONGKAI_COLLECT_STALL_TIMEOUT="1")
    try:
        assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=e).returncode == 0
        r = gongkai("collect", "crawl", "--body", "tongji", "--site", server.url, "--engine", "redis", "--db", db, env=e)
    finally:
        server.shutdown()
    assert r.returncode == 1
    assert (f"no URL handled for 1 s (GONGKAI_COLLECT_STALL_TIMEOUT): is a worker running on queue {queue!r} "
            f"of {REDIS}? (gongkai collect worker)") in r.stderr
    assert server.requests == []
    client = _redis()
    assert client is not None and not list(client.scan_iter(f"gongkai:collect:{queue}:*"))  # the crawl's keys removed


@pytest.mark.parametrize("args,extra,message", [
    (["--engine", "cluster"], {}, "--engine 'cluster': one of local, redis"),
    (["--engine", "redis"], {"GONGKAI_COLLECT_BROKER": "redis://127.0.0.1:1/0"},
     "GONGKAI_COLLECT_BROKER 'redis://127.0.0.1:1/0': Redis does not answer"),
])
def test_a_wrong_engine_or_an_absent_broker_is_named(tmp_path, args, extra, message):
    db = f"sqlite:///{tmp_path / 'g.db'}"
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db, env=env()).returncode == 0
    r = gongkai("collect", "crawl", "--body", "tongji", "--site", "http://127.0.0.1:9/", *args, "--db", db,
                env=env() | extra)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_a_worker_without_its_broker_says_so(tmp_path):
    r = gongkai("collect", "worker", env=env(GONGKAI_COLLECT_BROKER="redis://127.0.0.1:1/0"))
    assert r.returncode == 1 and "Redis does not answer" in r.stderr and "Traceback" not in r.stderr


@needs_redis
def test_a_message_delivered_again_is_handled_once(tmp_path, queue):
    """Redis acknowledges a message after it is handled, so a worker that dies after handling it but
    before the acknowledgement has it delivered again: the second delivery fetches nothing, stores
    nothing and does not count the message off twice."""
    from scoring.collect.engine import Frontier, Plan, queued_json
    from scoring.collect.fetch import CollectSettings, Queued, netloc
    from scoring.method.scheme import load_scheme
    from scoring.store.attachments import LocalStore
    from scoring.workflows.collect_engine import crawl_url

    folder = tmp_path / "site"
    write_site(load_scheme(SCHEME_2017), folder, body="tongji", seed=7, filler=0)
    server = SiteServer(folder).start()
    client = _redis()
    assert client is not None
    frontier = Frontier(client, f"gongkai:collect:{queue}:again")
    settings = CollectSettings(allow_private=True, max_depth=0)  # the page's links are not followed: no message sent
    plan = Plan(server.url, [netloc(server.url)], 10, 0, settings.model_dump(), str(tmp_path / "attachments"))
    start = Queued(server.url + "index.html", 0)
    try:
        frontier.open(plan, start)
        frontier.sent()
        for _ in range(2):
            crawl_url.fn(frontier.key, queued_json(start))
        assert [p for p, _ in server.requests] == ["/robots.txt", "/index.html"]
        assert frontier.outstanding() == 0
        handed = frontier.captures()
        assert [(h["row"]["url"], h["robots"]) for h in handed] == [(server.url + "robots.txt", True),
                                                                     (start.url, False)]
        store = LocalStore(tmp_path / "attachments")
        assert all(store.has(h["row"]["response_sha256"]) and store.has(h["row"]["request_sha256"]) for h in handed)
    finally:
        server.shutdown()
        frontier.delete()
