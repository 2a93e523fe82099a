"""The crawl's shared state when several workers crawl one site (the engine for scale: Dramatiq over
Redis; the actor and the coordinator are scoring/workflows/collect_engine.py). Everything a
single-process crawl keeps in memory lives in Redis under one key prefix per crawl, so that any
worker may take any URL:

- the seen-set of request fingerprints (`SADD` answers 0: already queued — no page fetched twice),
- the query-variant counters of each path (the trap cap), the pages counter against max_pages,
- each host's robots.txt rules, fetched by one worker (a `SET NX` lock; the others wait for them),
- each host's request slot, taken atomically (`SET NX PX`, in a Lua script, on Redis's clock) before
  a request and held until it ends, then for 1/rate (or the Crawl-delay): one request to a host in
  flight across all workers, and never two starting closer than that,
- the messages still outstanding (+1 when one is sent, −1 when it is handled: 0 is the crawl's end),
  the URLs handled (a redelivered message is not handled twice) and the captures, in order.

A worker's per-URL step is the single-process crawler's own (`Crawler.step`): `SharedCrawler` only
replaces where its politeness and robots.txt rules are kept."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

import redis

from scoring.collect.fetch import (
    Capture,
    CollectSettings,
    Crawler,
    Queued,
    fingerprint,
    netloc,
    variant,
)
from scoring.errors import GongkaiError

# KEYS[1]: the host's slot; ARGV[1]: how long to hold it (ms); ARGV[2]: the holder's token. Takes
# the slot when no other request to the host is in flight or ended less than the interval ago
# (answers 0: send now), else answers the ms until it frees.
TAKE = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[1]) then
  return 0
end
return math.max(redis.call('PTTL', KEYS[1]), 1)
"""

# KEYS[1]: the host's slot; ARGV[1]: the interval (ms); ARGV[2]: the holder's token. The request has
# ended: the slot stays taken for the interval from now (if it is still this holder's).
FREE = """
if redis.call('GET', KEYS[1]) == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
  return 1
end
return 0
"""


KEPT = 7 * 24 * 3600  # seconds a crawl's keys outlive their last use (a crawl deletes its own when it ends)


def connect(url: str) -> redis.Redis:
    """A Redis client, checked: a one-line refusal naming the address when it does not answer."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.ping()
    except (redis.RedisError, ValueError) as e:
        raise GongkaiError(f"GONGKAI_COLLECT_BROKER {url!r}: Redis does not answer ({e})") from None
    return client


def queued_json(q: Queued) -> dict[str, Any]:
    """A queued URL as a message's JSON."""
    date = [q.list_date[0].isoformat(), q.list_date[1]] if q.list_date else None
    return {"url": q.url, "depth": q.depth, "anchor": q.anchor, "list_date": date, "referrer_channel": q.referrer_channel}


def queued_from(d: dict[str, Any]) -> Queued:
    date = (dt.datetime.fromisoformat(d["list_date"][0]), bool(d["list_date"][1])) if d.get("list_date") else None
    return Queued(d["url"], int(d["depth"]), d.get("anchor", ""), date, d.get("referrer_channel", ""))


@dataclass(frozen=True)
class Plan:
    """What every worker needs to crawl its share: the site, its hosts, the limits, the settings
    (the coordinator's, after the account's checks: a worker's own environment does not widen them)
    and where the WARC records go."""

    site: str
    hosts: list[str]
    max_pages: int
    rate: float
    settings: dict[str, Any]
    attachments: str

    def crawler(self, frontier: Frontier) -> SharedCrawler:
        return SharedCrawler(self.site, set(self.hosts), settings=CollectSettings(**self.settings),
                             max_pages=self.max_pages, rate=self.rate, frontier=frontier)


class Frontier:
    """One crawl's shared state in Redis, under `key` (gongkai:collect:QUEUE:CRAWL)."""

    def __init__(self, client: redis.Redis, key: str):
        self.r, self.key = client, key
        self._take, self._free = client.register_script(TAKE), client.register_script(FREE)

    def k(self, name: str) -> str:
        return f"{self.key}:{name}"

    # ---- the coordinator ----
    def open(self, plan: Plan, start: Queued) -> None:
        """Write the plan and queue the start URL (the caller sends its message)."""
        self.r.set(self.k("plan"), json.dumps(plan.__dict__, ensure_ascii=False))
        self.r.sadd(self.k("seen"), fingerprint(start.url))

    def outstanding(self) -> int:
        return int(cast(Any, self.r.get(self.k("outstanding"))) or 0)

    def captured(self) -> int:
        return int(cast(Any, self.r.llen(self.k("captures"))))

    def captures(self, start: int = 0, end: int = -1) -> list[dict[str, Any]]:
        """The captures handed back, in order (from `start` to `end`, inclusive)."""
        return [json.loads(x) for x in cast(list, self.r.lrange(self.k("captures"), start, end))]

    def delete(self) -> None:
        keys = list(self.r.scan_iter(f"{self.key}:*", count=1000))
        if keys:
            self.r.delete(*keys)

    # ---- the workers ----
    def plan(self) -> Plan | None:
        """The crawl's plan; None once the coordinator has finished (or given up on) the crawl."""
        raw = self.r.get(self.k("plan"))
        return Plan(**json.loads(cast(bytes, raw))) if raw else None

    def admit(self, q: Queued, max_variants: int) -> bool:
        """Whether a found link joins the frontier: never seen, and not past its path's variant cap."""
        if not self.r.sadd(self.k("seen"), fingerprint(q.url)):
            return False
        trap = variant(q.url)
        return trap is None or int(cast(Any, self.r.hincrby(self.k("variants"), " ".join(trap), 1))) <= max_variants

    def sent(self) -> None:
        self.r.incr(self.k("outstanding"))

    def handled(self, url: str) -> bool:
        return bool(self.r.sismember(self.k("handled"), fingerprint(url)))

    def reserve_page(self, max_pages: int) -> bool:
        """Take one of the crawl's max_pages (given back by `release_page` when nothing was fetched)."""
        if int(cast(Any, self.r.incr(self.k("pages")))) <= max_pages:
            return True
        self.r.decr(self.k("pages"))
        return False

    def release_page(self) -> None:
        self.r.decr(self.k("pages"))

    def finish(self, url: str, captures: list[dict[str, Any]]) -> None:
        """A message handled: its captures kept, the URL marked handled and the outstanding count
        lowered — together (MULTI), so a worker killed in between leaves the message to be redone whole.
        The crawl's keys live a week past their last use: a message still running when its crawl was
        given up (and its keys deleted) leaves nothing behind for longer."""
        with self.r.pipeline(transaction=True) as p:
            p.sadd(self.k("handled"), fingerprint(url))
            for c in captures:
                p.rpush(self.k("captures"), json.dumps(c, ensure_ascii=False))
            p.decr(self.k("outstanding"))
            for name in ("seen", "variants", "pages", "handled", "captures", "outstanding"):
                p.expire(self.k(name), KEPT)
            p.execute()

    def take_slot(self, host: str, token: str, hold: float) -> float:
        """Take the host's request slot for at most `hold` seconds (0: taken, send now), or the
        seconds until it frees."""
        return int(cast(Any, self._take(keys=[self.k(f"slot:{host}")], args=[math.ceil(hold * 1000), token]))) / 1000

    def free_slot(self, host: str, token: str, interval: float) -> None:
        """The request has ended: the slot frees `interval` seconds from now."""
        self._free(keys=[self.k(f"slot:{host}")], args=[math.ceil(interval * 1000), token])

    def robots(self, host: str) -> tuple[bool, str | None]:
        """(known, rules text) of a host's robots.txt, as the worker that fetched it left them."""
        raw = self.r.get(self.k(f"robots:{host}"))
        return (True, json.loads(cast(bytes, raw))["rules"]) if raw else (False, None)

    def lock_robots(self, host: str, seconds: float) -> bool:
        return bool(self.r.set(self.k(f"robots-lock:{host}"), "1", nx=True, px=round(seconds * 1000)))

    def set_robots(self, host: str, text: str | None) -> None:
        self.r.set(self.k(f"robots:{host}"), json.dumps({"rules": text}), ex=KEPT)


class SharedCrawler(Crawler):
    """The crawler of one worker thread: the same step, with its politeness and robots.txt rules
    kept in the crawl's Frontier so that they hold across workers."""

    def __init__(self, *args: Any, frontier: Frontier, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.frontier, self.token = frontier, uuid.uuid4().hex

    def _interval(self, host: str) -> float:
        return max(1 / self.rate if self.rate > 0 else 0.0, self._delay.get(host, 0.0))

    def _wait(self, host: str) -> None:
        """Take the host's slot: held while the request is in flight (at most as long as a request
        may take), freed `interval` after it ends — so a request's start is never closer than the
        interval to another worker's, however late a thread sends after taking the slot."""
        if self._interval(host):
            hold = self._interval(host) + 5 * self.settings.timeout + 1
            while (pause := self.frontier.take_slot(host, self.token, hold)) > 0:
                time.sleep(min(pause, 0.1))  # a slot held in flight frees early: look again soon

    def _done(self, host: str) -> None:
        if self._interval(host):
            self.frontier.free_slot(host, self.token, self._interval(host))

    def _robots_capture(self, url: str) -> list[Capture]:
        """robots.txt fetched by one worker of all; the others wait (a bounded time: the fetching
        worker's lock expires if it dies) and read its rules."""
        host = netloc(url)
        if host in self._robots:
            return []
        s = self.settings
        lock = (s.timeout * 5 + 9) * (s.retries + 1)  # the longest a robots.txt fetch can take, and more
        while True:
            known, text = self.frontier.robots(host)
            if known:
                self._set_robots(host, text)
                return []
            if self.frontier.lock_robots(host, lock):
                caps, text = self._fetch_robots(url)
                self.frontier.set_robots(host, text)
                self._set_robots(host, text)
                return caps
            time.sleep(0.02)
