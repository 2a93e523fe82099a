"""The polite crawler of one body's website: robots.txt (and its Crawl-delay) obeyed, an identifying
User-Agent, one connection and a set rate per host, retries with backoff for transient failures,
caps on size, time, pages, depth and one path's query variants (calendar and ?page=N traps), only
http(s) links of the site's own hosts, redirects to another host recorded and not followed, and
loopback/private/link-local addresses refused (after DNS, for every request, so after every
redirect) unless allowed, and every connection made to the address that was checked (no second
lookup: DNS rebinding reaches nothing new). Every request and response is kept as a WARC record (archive.py).

Requests go out over the standard library's http.client, one kept-alive connection per host: the
crawl sends nothing a bare GET does not (no redirects followed, no decompression on the way in), and
httpx's layers (its models, pool, h11 state machine) cost three times the CPU of a local page's GET.

A hand-rolled frontier rather than Scrapy: one breadth-first queue with a fingerprint per request
(normalised URL) is all one site needs, and it keeps the crawler a plain generator the workflow
stores from as it goes. The per-URL step (`Crawler.step`) is also what each worker of a distributed
crawl runs (engine.py keeps the frontier and the politeness in Redis instead)."""

from __future__ import annotations

import datetime as dt
import http.client
import http.cookiejar
import io
import ipaddress
import multiprocessing
import re
import select
import socket
import ssl
import time
import urllib.request
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import certifi
from protego import Protego
from pydantic import NonNegativeInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from scoring.collect import archive, extract
from scoring.errors import GongkaiError

RETRY_STATUS = {429, 500, 502, 503, 504}
ROBOTS_REDIRECTS = 5  # RFC 9309 §2.3.1.2: "at least five consecutive redirects"
DEADLINE = 5  # timeouts an answer may take in all, head included (its body is cut at four: Crawler._get)
INTERIM = 20  # interim (1xx) answers skipped before the answer; more: the request fails


class CollectSettings(BaseSettings):
    """The crawler's settings (GONGKAI_COLLECT_USER_AGENT, GONGKAI_COLLECT_TIMEOUT, …)."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_COLLECT_")
    user_agent: str = "gongkai-collector/0.1 (government openness assessment; obeys robots.txt)"
    allow_private: bool = False        # loopback and private addresses (tests; never a firm's choice)
    timeout: float = 15.0              # seconds per request (connect, and between bytes read)
    max_bytes: int = 20 * 1024 * 1024  # a response's size cap, after decompression too
    max_depth: int = 12                # links from the start page
    max_variants: int = 50             # distinct query strings of one path (?page=N, calendars)
    max_crawl_delay: float = 60.0      # seconds: a host whose robots.txt asks more is not crawled
    retries: int = 2                   # extra tries of a connection failure or a 429/5xx answer
    readers: NonNegativeInt = 0                   # processes reading pages while the crawl fetches (0: read in turn;
                                       # more only with idle cores: docs/performance.md, the collector)
    # the engine for scale (engine.py): several workers over Dramatiq and Redis
    engine: str = "local"              # local: this process alone, no server; redis: the workers' queue
    broker: str = "redis://127.0.0.1:6379/0"  # the Redis of the queue and of the crawls' shared state
    queue: str = "gongkai-collect"     # the queue's name (workers and crawls of one deployment share it)
    stall_timeout: float = 300.0       # seconds without a URL handled before a queued crawl gives up


class AddressRefused(GongkaiError):
    """A host that resolves to a loopback, private, link-local or otherwise non-public address."""


@dataclass
class Capture:
    """One URL of the crawl: fetched (with its WARC records and what the page says), or why not."""

    url: str
    depth: int
    fetched_at: dt.datetime
    status: int | None = None
    mime: str = ""
    size: int = 0
    request: archive.Record | None = None
    response: archive.Record | None = None
    page: extract.Page | None = None
    error: str = ""          # a failure: unreachable, HTTP 404, over the size cap, unreadable …
    note: str = ""           # not fetched or not followed, and why (robots.txt, another host)
    redirect: str = ""
    anchor: str = ""         # the text of the link that led here
    referrer_channel: str = ""  # the channel (or title) of the page that linked here
    unread: bytes | None = field(default=None, repr=False)  # a crawl's page body until it is read


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """The TLS context of every crawler (made once: loading the CA bundle takes ~0.1 s, a poll's whole
    budget on a local site)."""
    return ssl.create_default_context(cafile=certifi.where())


@lru_cache(maxsize=1 << 16)
def fingerprint(url: str) -> str:
    """The request's identity: scheme and host lower case, default port and fragment dropped, query
    parameters sorted, an empty path as /."""
    p = urlsplit(url)
    host = (p.hostname or "").lower()
    port = f":{p.port}" if p.port and p.port != {"http": 80, "https": 443}.get(p.scheme) else ""
    query = urlencode(sorted(parse_qsl(p.query, keep_blank_values=True)))
    return urlunsplit((p.scheme.lower(), host + port, p.path or "/", query, ""))


def _port(p: SplitResult) -> int:
    """A URL's port, its scheme's default when it names none."""
    return p.port or (443 if p.scheme == "https" else 80)


@lru_cache(maxsize=1 << 10)
def _ascii_host(host: str) -> str:
    """A host name as sent (Host header, TLS SNI): an IDN in its ASCII (punycode) form."""
    return host if host.isascii() else host.encode("idna").decode("ascii")


@lru_cache(maxsize=1 << 16)
def is_web(url: str) -> bool:
    """Whether a URL is http(s) (asked of every link of every page: cached, as fingerprint and netloc are)."""
    return urlsplit(url).scheme in ("http", "https")


@lru_cache(maxsize=1 << 16)
def netloc(url: str) -> str:
    p = urlsplit(url if "//" in url else f"http://{url}")
    host = (p.hostname or "").lower()
    return host + (f":{p.port}" if p.port and p.port != {"http": 80, "https": 443}.get(p.scheme) else "")


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address in its last 32 bits, reached through the gateway


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is a public one: global (not 100.64.0.0/10, the shared space where clouds
    keep their metadata services — Alibaba Cloud's 100.100.100.200 — nor any other special-purpose
    block), not multicast or IPv6 site-local, and an IPv4 address carried in an IPv6 one (mapped,
    6to4, NAT64) public itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or ip.sixtofour or (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None)
        if carried is not None:
            return _public(carried)
        if ip.is_site_local:
            return False
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to; refused when any address the name has is not a public one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise AddressRefused(f"{host}: cannot resolve ({e.strerror})") from None
    except ValueError as e:  # a name IDNA cannot write (UnicodeError: a label over 63 characters, an empty one)
        raise AddressRefused(f"{host[:80]}: not a host name ({e})") from None
    addresses = sorted({str(i[4][0]) for i in infos})
    if not allow_private:
        for a in addresses:
            ip = ipaddress.ip_address(a.split("%")[0])
            what = next((w for w in ("loopback", "private", "link_local", "reserved", "multicast", "unspecified")
                         if getattr(ip, f"is_{w}")), "" if _public(ip) else "non-public")
            if what:
                raise AddressRefused(
                    f"{host} resolves to {a}, a {what.replace('_', '-')} address: refused (a crawl reaches "
                    "public sites only; --allow-private, for admin or evaluator accounts, allows it)")
    return addresses[0]


class _Late(TimeoutError):
    """An answer still coming (each read within the timeout) when its deadline passed."""


class _Deadlined(socket.SocketIO):
    """The socket as an answer reads it: no read past the answer's deadline (a read waits the
    timeout at most, and less when the deadline is nearer), so bytes that keep coming, each within
    the timeout, end there wherever http.client reads them — an endless run of 1xx answers, a head
    trickled a byte at a time, an endless chunked trailer."""

    def __init__(self, sock: socket.socket, deadline: float, timeout: float):
        super().__init__(sock, "rb")
        sock._io_refs += 1  # type: ignore[attr-defined]  # as socket.makefile counts it: the socket's close waits for this reader's
        self._socket, self._until, self._wait = sock, deadline, timeout

    def readinto(self, b: Any) -> int | None:
        left = self._until - time.monotonic()
        if left <= 0:
            raise _Late("the answer is still coming after its deadline")
        self._socket.settimeout(min(self._wait, left))
        try:
            return super().readinto(b)
        except TimeoutError:
            if left < self._wait:  # the deadline came first
                raise _Late("the answer is still coming after its deadline") from None
            raise
        finally:
            self._socket.settimeout(self._wait)


class _Answer(http.client.HTTPResponse):
    """http.client's response, read within its deadline, its interim (1xx) answers skipped:
    http.client skips a 100 only, and took a 103 Early Hints for the answer (an empty one), leaving
    the real answer on the connection for the next request."""

    def __init__(self, sock: socket.socket, *args: Any, deadline: float, timeout: float, **kwargs: Any):
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(_Deadlined(sock, deadline, timeout))

    def _read_status(self) -> tuple[str, int, str]:
        for _ in range(INTERIM):
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 100 <= status < 200:
                return version, status, reason
            http.client.parse_headers(self.fp)  # an interim answer has a head only
        raise http.client.HTTPException(f"more than {INTERIM} interim (1xx) answers")


class _Pinned:
    """Connects to the address its host name was checked at (`address`), not to whatever a second
    lookup answers: a name that gives the check a public address and the connection a private one
    (DNS rebinding) reaches only the first. The connection keeps the name, so the Host header, the
    TLS SNI and the certificate check are on the name."""

    _address: str
    _timeout: float
    response_class: Any   # http.client's, made `_answer` by `_pin_to`
    deadline: float = 0.0  # when the answer to the request sent last must have come (time.monotonic)

    def _pin_to(self, address: str, timeout: float) -> None:
        """http.client's connection (set up by its own __init__) made to connect to `address` and read
        its answers as `_Answer`s."""
        self._address, self._timeout = address, timeout
        self._create_connection = self._pinned
        self.response_class = self._answer

    def _answer(self, sock: socket.socket, *args: Any, **kwargs: Any) -> _Answer:
        """http.client's `response_class`: the answer read within the request's deadline."""
        return _Answer(sock, *args, deadline=self.deadline, timeout=self._timeout, **kwargs)

    def _pinned(self, where: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        """http.client's `_create_connection`, to the address checked."""
        try:
            return socket.create_connection((self._address, where[1]), *args, **kwargs)
        except TimeoutError:
            raise
        except OSError as e:
            raise ConnectFailed(f"ConnectError: {e}") from None


class _HTTP(_Pinned, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._pin_to(address, timeout)


class _HTTPS(_Pinned, http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=_tls())
        self._pin_to(address, timeout)


def _stirring(sock: socket.socket) -> bool:
    """Whether an idle kept-alive connection has something to read: an answer nobody asked for
    (which the next request would take for its own) or the site's close. Over TLS, records of TLS's
    own (a session ticket) are not HTTP's: a byte of the stream is read to tell (the connection is
    dropped anyway when there is one)."""
    tls = isinstance(sock, ssl.SSLSocket)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    if not poller.poll(0) and not (tls and sock.pending()):  # type: ignore[attr-defined]
        return False
    if not tls:
        return True
    waits = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.recv(1)  # a byte of an answer, or b"": the close
        return True
    except ssl.SSLWantReadError:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(waits)


class ConnectFailed(OSError):
    """The connection to a host could not be opened (refused, unreachable, TLS handshake)."""


# a request's path and query as sent: non-ASCII and spaces percent-encoded (UTF-8), escapes kept
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
_CLEAN = re.compile(r"[^\x00-\x1f\x7f]*")  # a cookie's name and value: no control characters


def robots_text(cap: Capture) -> str | None:
    """The rules a robots.txt answer sets (RFC 9309): its text (2xx); None, everything allowed (4xx);
    unreachable or 5xx: nothing allowed (and the capture says so)."""
    if cap.status is not None and 200 <= cap.status < 300 and cap.response is not None:
        return archive.payload(cap.response.data)[1].decode("utf-8", "replace")
    if cap.status is not None and 400 <= cap.status < 500:
        return None
    cap.error = cap.error or f"robots.txt unavailable (HTTP {cap.status}): the host is not crawled"
    return "User-agent: *\nDisallow: /"


def variant(url: str) -> tuple[str, str] | None:
    """(host, path) of a URL with a query: its variants are counted against the trap cap."""
    parts = urlsplit(url)
    return (netloc(url), parts.path) if parts.query else None


@dataclass
class _Sent:
    """A request on its way: the connection it went out on, its target and headers as sent, whether
    the connection had served a request before, and when it was sent."""

    connection: http.client.HTTPConnection
    target: str
    headers: list[tuple[str, str]]
    reused: bool
    at: dt.datetime
    start: float


@dataclass
class Queued:
    """A URL waiting in the frontier, with what the page that linked it said about it."""

    url: str
    depth: int
    anchor: str = ""                                   # the link's text
    list_date: tuple[dt.datetime, bool] | None = None  # the date beside the link in a list page
    referrer_channel: str = ""


@dataclass
class Step:
    """What one queued URL gave: its host's robots.txt capture (the first time), its own capture,
    and the links to follow."""

    robots: list[Capture]
    capture: Capture
    found: list[Queued]


@dataclass
class Crawler:
    """Crawls `site` within `hosts` (the site's own host and the body's aliases)."""

    site: str
    hosts: set[str]
    settings: CollectSettings = field(default_factory=CollectSettings)
    max_pages: int = 500
    rate: float = 1.0  # requests per second per host; 0: no limit (a local fixture site)
    links_only: bool = False  # read only each page's links (an inspection poll), not its text and date
    pages: int = 0
    _robots: dict[str, Protego | None] = field(default_factory=dict)
    _delay: dict[str, float] = field(default_factory=dict)
    _too_slow: dict[str, float] = field(default_factory=dict)  # hosts whose Crawl-delay is over the limit
    _last: dict[str, float] = field(default_factory=dict)
    _resolved: dict[tuple[str, int], str] = field(default_factory=dict)
    _later: bool = False  # within run(): pages are read by the crawl loop, not as they are fetched

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.site)
            parts.port  # noqa: B018 — a port out of range or not a number is refused here, not mid-crawl
        except ValueError as e:
            raise GongkaiError(f"--site {self.site!r}: not an address ({e})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GongkaiError(f"--site {self.site!r}: not an http(s) address")
        self.hosts = {netloc(h) for h in self.hosts} | {netloc(self.site)}
        if not self.settings.user_agent.isascii() or not self.settings.user_agent.strip():
            raise GongkaiError(f"GONGKAI_COLLECT_USER_AGENT {self.settings.user_agent!r}: HTTP headers take "
                               "ASCII text only (name the firm in Latin letters or pinyin)")
        # the start address is checked before anything is sent (and every connection goes to it)
        self.pin(parts.hostname, _port(parts))
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self._cookies = http.cookiejar.CookieJar()

    def pin(self, host: str, port: int) -> str:
        """The address a host is reached at: looked up and checked once a crawl, then always that one."""
        if (host, port) not in self._resolved:
            self._resolved[host, port] = resolve(host, port, self.settings.allow_private)
        return self._resolved[host, port]

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _connection(self, scheme: str, host: str, port: int, ip: str) -> http.client.HTTPConnection:
        """The host's one keep-alive connection (http.client's: a local page's GET costs a third of
        httpx's in CPU, and the crawl fetches each URL as its bare loop does)."""
        key = (scheme, host, port)
        if key not in self._connections:
            kind = _HTTPS if scheme == "https" else _HTTP
            self._connections[key] = kind(host, port, ip, self.settings.timeout)
        return self._connections[key]

    # ---- politeness ----------------------------------------------------------------------------

    def _wait(self, host: str) -> None:
        delay = max(1 / self.rate if self.rate > 0 else 0.0, self._delay.get(host, 0.0))
        if delay and host in self._last:
            pause = self._last[host] + delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        self._last[host] = time.monotonic()

    def _done(self, host: str) -> None:
        """A request to the host has ended (answered or failed): one process's requests follow one
        another, nothing to do; a worker of a distributed crawl frees the host's slot (engine.py)."""

    def _robots_capture(self, url: str) -> list[Capture]:
        """Fetch (and archive) a host's robots.txt once: its captures (each redirect hop, then the
        file) the first time, then none."""
        host = netloc(url)
        if host in self._robots:
            return []
        caps, text = self._fetch_robots(url)
        self._set_robots(host, text)
        return caps

    def _fetch_robots(self, url: str) -> tuple[list[Capture], str | None]:
        """A host's robots.txt (RFC 9309 §2.3.1): its captures and the rules' text — 2xx → the file;
        4xx → None, everything allowed; unreachable or 5xx → nothing allowed. Redirects are followed
        up to ROBOTS_REDIRECTS hops, to another host too (§2.3.1.2 says "even across authorities";
        each hop is one GET of a robots file, at an address checked like any other), and the file
        reached rules the first host; a longer chain, a loop or a redirect out of http(s) is
        "unavailable", as a 4xx is (§2.3.1.2: "MAY assume that the robots.txt file is unavailable")."""
        p = urlsplit(url)
        host = netloc(url)
        caps = [self._fetch(f"{p.scheme}://{p.netloc}/robots.txt", 0)]
        for _ in range(ROBOTS_REDIRECTS):
            cap = caps[-1]
            if not cap.redirect or urlsplit(cap.redirect).scheme not in ("http", "https"):
                break
            cap.note = f"robots.txt of {host} redirects to {cap.redirect}: followed"
            caps.append(self._fetch(cap.redirect, 0))
        last = caps[-1]
        if last.redirect:
            last.note = (f"robots.txt of {host}: more than {ROBOTS_REDIRECTS} redirects, or one out of http(s) "
                         f"({last.redirect[:200]}): unavailable, everything allowed (RFC 9309 2.3.1.2)")
            return caps, None
        return caps, robots_text(last)

    def _set_robots(self, host: str, text: str | None) -> None:
        """A host's rules (None: everything allowed) and its Crawl-delay; a delay over the crawl's
        limit (`max_crawl_delay`) is obeyed by not crawling the host: a day between requests would
        hold the crawl for ever, and a shorter wait than asked would not be polite."""
        rules = Protego.parse(text) if text is not None else None
        delay = rules.crawl_delay(self.settings.user_agent) if rules is not None else None
        if delay:
            self._delay[host] = float(delay)
            if float(delay) > self.settings.max_crawl_delay:
                self._too_slow[host] = float(delay)
        self._robots[host] = rules

    def _refusal_note(self, url: str) -> str:
        """Why robots.txt keeps a URL from being fetched (its rules, or a Crawl-delay over the limit)."""
        if (delay := self._too_slow.get(netloc(url))) is not None:
            return (f"robots.txt asks {delay:g} s between requests, more than the crawl's limit of "
                    f"{self.settings.max_crawl_delay:g} s (GONGKAI_COLLECT_MAX_CRAWL_DELAY): not fetched")
        return "robots.txt disallows it: not fetched"

    def _allowed(self, url: str) -> bool:
        if netloc(url) in self._too_slow:
            return False
        rules = self._robots.get(netloc(url))
        return rules is None or rules.can_fetch(url, self.settings.user_agent)

    # ---- one request ---------------------------------------------------------------------------

    def _fetch(self, url: str, depth: int, sent: _Sent | None = None) -> Capture:
        """One URL fetched (with retries); `sent`: its request, already sent (`_send_ahead`)."""
        now = dt.datetime.now(dt.UTC)
        cap = Capture(url, depth, now)
        p = urlsplit(url)
        where = (p.hostname or "", _port(p))
        try:  # a host's addresses are checked once a crawl; its connections go to the address checked
            ip = self.pin(*where)
        except AddressRefused as e:
            cap.error = str(e)
            return cap
        for attempt in range(self.settings.retries + 1):
            if sent is None:
                self._wait(netloc(url))  # a retry too waits its turn (1/rate, Crawl-delay) after its backoff
            try:
                self._get(cap, ip, sent)
            except TimeoutError as e:
                self._drop(url)
                cap.error = (f"still answering after {DEADLINE * self.settings.timeout:g} s: cut" if isinstance(e, _Late)
                             else f"no answer within {self.settings.timeout:g} s")
                return cap  # a slow page stays slow: not retried
            except ConnectFailed as e:
                self._drop(url)
                cap.error = str(e)
            except (OSError, http.client.HTTPException, ValueError) as e:
                self._drop(url)
                cap.error = f"{type(e).__name__}: {e}"
            else:
                if cap.status not in RETRY_STATUS:
                    return cap
            finally:
                sent = None
                self._done(netloc(url))
            if attempt < self.settings.retries:
                time.sleep(min(8.0, 0.25 * 2 ** attempt))
        return cap

    def _drop(self, url: str) -> None:
        """Close the connection a failed request used (the next one opens afresh)."""
        p = urlsplit(url)
        try:
            key = (p.scheme, _ascii_host(p.hostname or ""), _port(p))
        except (UnicodeError, ValueError):   # a name with no ASCII form never had a connection
            return
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def _request(self, url: str, ip: str) -> _Sent:
        """The GET sent on the host's connection (once more on a fresh one when a kept-alive
        connection turns out closed by the server); its answer is read by `_answer`."""
        p = urlsplit(url)
        host, port = _ascii_host(p.hostname or ""), _port(p)
        target = quote((p.path or "/") + (f"?{p.query}" if p.query else ""), safe=_TARGET_SAFE)
        named = f"[{host}]" if ":" in host else host  # an IPv6 literal is bracketed in the Host header
        headers = [("Host", named if p.port is None else f"{named}:{p.port}"), ("User-Agent", self.settings.user_agent),
                   ("Accept", "*/*"), ("Accept-Encoding", "gzip, deflate")]
        if self._cookies:  # the jar speaks urllib's Request
            asking = urllib.request.Request(url)
            self._cookies.add_cookie_header(asking)
            if cookie := asking.get_header("Cookie"):
                headers.append(("Cookie", cookie))
        at, start = dt.datetime.now(dt.UTC), time.monotonic()
        for attempt in (0, 1):
            connection = self._connection(p.scheme, host, port, ip)
            if connection.sock is not None and _stirring(connection.sock):
                self._drop(url)  # bytes nobody asked for (or the site's close): never the next URL's answer
                connection = self._connection(p.scheme, host, port, ip)
            reused = connection.sock is not None
            try:
                connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    connection.putheader(k, v)
                connection.endheaders()
                connection.deadline = time.monotonic() + DEADLINE * self.settings.timeout  # type: ignore[attr-defined]
                return _Sent(connection, target, headers, reused, at, start)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._drop(url)
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def _answer(self, url: str, ip: str, sent: _Sent) -> tuple[http.client.HTTPResponse, _Sent]:
        """The response to a sent request; a kept-alive connection the server had closed meanwhile
        gets the request again on a new one."""
        try:
            return sent.connection.getresponse(), sent
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self._drop(url)
            if not sent.reused:
                raise
        again = self._request(url, ip)
        return again.connection.getresponse(), again

    def _send_ahead(self, q: Queued) -> _Sent | None:
        """The next queued URL's request sent before the page in hand is read, so the site prepares
        its answer meanwhile (on another core: the crawl need not wait for it); None when it is not
        for now — its host's robots.txt not yet read, a refusal to record, or a failure the fetch
        proper will meet and retry."""
        host = netloc(q.url)
        if host not in self._robots or not self._allowed(q.url):
            return None
        p = urlsplit(q.url)
        try:
            ip = self.pin(p.hostname or "", _port(p))
            self._wait(host)
            return self._request(q.url, ip)
        except (AddressRefused, OSError, http.client.HTTPException, ValueError):
            self._drop(q.url)
            return None

    def _get(self, cap: Capture, ip: str, sent: _Sent | None = None) -> None:
        sent = sent if sent is not None else self._request(cap.url, ip)
        cap.error, cap.fetched_at, start = "", sent.at, sent.start
        r, sent = self._answer(cap.url, ip, sent)
        target, headers = sent.target, sent.headers
        cap_bytes = self.settings.max_bytes
        raw, truncated = bytearray(), ""
        while chunk := r.read1(65536):  # what has arrived: a trickling body meets the time cap between reads
            raw += chunk
            if len(raw) > cap_bytes:
                truncated, cap.error = "length", f"larger than the size cap of {cap_bytes} bytes: truncated"
                break
            if time.monotonic() - start > 4 * self.settings.timeout:
                truncated, cap.error = "time", f"still sending after {4 * self.settings.timeout:g} s: truncated"
                break
        if truncated:
            self._drop(cap.url)  # the rest of the body is still on the way: the connection cannot serve another
        else:
            r.close()  # read to its end (read1 leaves a body of known length open): the connection serves the next
        got = r.msg.items()
        if "Set-Cookie" in r.msg or "Set-Cookie2" in r.msg:
            self._cookies.extract_cookies(r, urllib.request.Request(cap.url))
            for c in list(self._cookies):  # a folded Set-Cookie keeps its line break: never sent on (RFC 6265: no CTLs)
                if not _CLEAN.fullmatch(c.name + (c.value or "")):
                    self._cookies.clear(c.domain, c.path, c.name)
        reason, location, body = r.reason or "", r.getheader("location"), bytes(raw)
        cap.status, cap.mime = r.status, r.getheader("content-type") or ""
        cap.request = archive.request_record(cap.url, headers, cap.fetched_at, target=target)
        cap.response = archive.response_record(
            cap.url, status=r.status, reason=reason, headers=got, body=body,
            at=cap.fetched_at, concurrent_to=cap.request.record_id, ip=ip, truncated=truncated,
            protocol="HTTP/1.0" if r.version == 10 else "HTTP/1.1")
        cap.size = len(raw)
        if r.status in (301, 302, 303, 307, 308) and location:
            cap.redirect = urljoin(cap.url, location)
        elif not truncated and 200 <= r.status < 300:
            self._read(cap, body, r.getheader("content-encoding") or "")
        elif r.status >= 400:
            cap.error = cap.error or f"HTTP {r.status} {reason}".strip()

    def _read(self, cap: Capture, raw: bytes, encoding: str) -> None:
        """Decode (bounded: a decompression bomb stops at the size cap) and read the page."""
        body = raw
        if encoding.strip().lower() in ("gzip", "x-gzip", "deflate"):
            wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding.lower() else zlib.MAX_WBITS
            try:
                inflater = zlib.decompressobj(wbits)
                body = inflater.decompress(raw, self.settings.max_bytes + 1)
            except zlib.error as e:
                cap.error = f"cannot decompress ({encoding}): {e}"
                return
            if len(body) > self.settings.max_bytes or inflater.unconsumed_tail:
                cap.error = (f"decompresses beyond the size cap of {self.settings.max_bytes} bytes "
                             "(a decompression bomb?): not read")
                return
        if self._later and not self.links_only:
            cap.unread = body  # the crawl reads it (with the date of the link that led here), maybe elsewhere
            return
        read = extract.read_links if self.links_only else extract.read_page
        cap.page = read(body, cap.mime, cap.url)
        cap.error = cap.error or cap.page.problem

    def fetch(self, url: str) -> Capture:
        """One GET outside a crawl (an inspection poll): the address check, rate, timeout and WARC
        records of a crawl's requests, no retry beyond the settings'."""
        return self._fetch(url, 0)

    def refusal(self, url: str) -> str:
        """Why a request of a page's own (a screenshot's scripts, images, styles) may not be sent ('' when
        it may): only http(s) of the site's hosts, at the addresses the crawl checked (public unless
        allowed), and what the host's robots.txt lets this crawler fetch."""
        p = urlsplit(url)
        if p.scheme not in ("http", "https") or not p.hostname:
            return f"{url[:80]}: not an http(s) address"
        if netloc(url) not in self.hosts:
            return f"{netloc(url)}: another host than the site's"
        try:
            self.pin(p.hostname, _port(p))
        except AddressRefused as e:
            return str(e)
        if not self.allowed(url):
            return f"{url[:80]}: robots.txt disallows it"
        return ""

    def addresses(self) -> dict[str, str]:
        """The address each host name of the crawl was checked at (host → IP), to pin a browser to."""
        return {host: ip for (host, _), ip in self._resolved.items()}

    def allowed(self, url: str) -> bool:
        """Whether the host's robots.txt (fetched once) lets this crawler fetch `url`."""
        self._robots_capture(url)
        return self._allowed(url)

    # ---- the crawl -----------------------------------------------------------------------------

    def step(self, q: Queued) -> Step:
        """One queued URL: its host's robots.txt first (once), then the URL fetched — or refused by
        robots.txt — and read, and the links to follow from it (http(s) links of the site's hosts,
        before the frontier drops those already seen). The one per-URL step of a worker of a
        distributed crawl (engine.py); the single-process crawl runs the same pieces in `run`."""
        robots = self._robots_capture(q.url)
        if not self._allowed(q.url):
            return Step(robots, Capture(q.url, q.depth, dt.datetime.now(dt.UTC), anchor=q.anchor,
                                        note=self._refusal_note(q.url)), [])
        cap = self._fetch(q.url, q.depth)
        cap.anchor, cap.referrer_channel = q.anchor, q.referrer_channel
        return Step(robots, cap, self._found(q, cap))

    def run(self) -> Iterator[Capture]:
        """Every URL crawled or refused, breadth first from the site, as it happens.

        Before a page is read, the next queued URL's request is sent, so the site prepares its answer
        while the crawl reads (on a machine with a core to spare, the crawl does not wait for it);
        with page readers (settings.readers processes), the next queued URLs are fetched while
        earlier pages are read. Either way their links join the frontier in fetch order, and only
        URLs already queued are fetched ahead, so the crawl's order — and what it finds, and where
        max_pages stops it — is the one of reading every page before the next fetch (a FIFO queue
        puts a page's links behind them)."""
        queue: deque[Queued] = deque([Queued(self.site, 0)])
        seen = {fingerprint(self.site)}
        variants: Counter[tuple[str, str]] = Counter()
        ahead: deque[_Ahead] = deque()
        early: tuple[Queued, _Sent] | None = None  # the next URL, its request sent while a page is read
        with _readers(self.settings.readers) as pool:
            limit = READ_AHEAD * self.settings.readers if pool is not None else 1
            self._later = True
            try:
                while queue or ahead or early:
                    if (early or queue) and self.pages < self.max_pages and len(ahead) < limit:
                        (following, sent), early = early or (queue.popleft(), None), None
                        ahead.extend(self._fetch_next(following, pool, sent))
                        continue
                    if not ahead:
                        break
                    q, cap, reading = ahead.popleft()
                    if cap.unread is not None and early is None and queue and self.pages < self.max_pages:
                        sent = self._send_ahead(queue[0])  # the site answers it while this page is read
                        early = (queue.popleft(), sent) if sent is not None else None
                    if reading is not None:
                        cap.page = reading.result()
                        cap.error = cap.error or cap.page.problem
                    elif cap.unread is not None:
                        self._reading(cap, q.list_date if q is not None else None, None)
                    for f in self._found(q, cap, unseen=lambda url: fingerprint(url) not in seen) if q is not None else []:
                        key = fingerprint(f.url)
                        if key in seen:  # a page links a new URL twice
                            continue
                        seen.add(key)
                        trap = variant(f.url)
                        if trap is not None:
                            variants[trap] += 1
                            if variants[trap] > self.settings.max_variants:
                                continue  # a calendar or ?page=N trap ends here
                        queue.append(f)
                    yield cap
            finally:
                self._later = False
                self.close()

    def _fetch_next(self, q: Queued, pool: Executor | None, sent: _Sent | None = None) -> list[_Ahead]:
        """The host's robots.txt (once), then the queued URL fetched — or refused by robots.txt —
        with its page handed to a reader, or left for the crawl loop to read."""
        out: list[_Ahead] = [(None, robots, self._reading(robots, None, None)) for robots in self._robots_capture(q.url)]
        if sent is None and not self._allowed(q.url):  # a request sent ahead was allowed before it went
            return [*out, (None, Capture(q.url, q.depth, dt.datetime.now(dt.UTC),
                                         note=self._refusal_note(q.url), anchor=q.anchor), None)]
        cap = self._fetch(q.url, q.depth, sent)
        cap.anchor, cap.referrer_channel = q.anchor, q.referrer_channel
        self.pages += cap.response is not None
        return [*out, (q, cap, self._reading(cap, q.list_date, pool) if pool is not None else None)]

    @staticmethod
    def _reading(cap: Capture, list_date: tuple[dt.datetime, bool] | None,
                 pool: Executor | None) -> Future[extract.Page] | None:
        """Read a fetched page's body: here (None), or by a reader (its future)."""
        body, cap.unread = cap.unread, None
        if body is None:
            return None
        if pool is not None:
            return pool.submit(extract.read_page, body, cap.mime, cap.url, list_date)
        cap.page = extract.read_page(body, cap.mime, cap.url, list_date)
        cap.error = cap.error or cap.page.problem
        return None

    def _found(self, q: Queued, cap: Capture, unseen: Callable[[str], bool] | None = None) -> list[Queued]:
        """A read page's date and title from the link that led to it, and the URLs it leads to
        (http(s) links of the site's hosts; `unseen`: the frontier's test of a URL, applied before
        anything is made of a link — a large column's pager repeats hundreds of known pages)."""
        if cap.page is not None and q.list_date is not None and cap.page.date_source in ("", "htmldate", "written", "text"):
            cap.page.published_at, cap.page.has_time = q.list_date
            cap.page.date_source = "list"
        if cap.page is not None and cap.page.kind == "pdf":
            cap.page.title, cap.page.channel = q.anchor, q.referrer_channel
            if q.list_date is not None:
                (cap.page.published_at, cap.page.has_time), cap.page.date_source = q.list_date, "list"
        found: list[Queued] = []
        if cap.redirect:
            if netloc(cap.redirect) in self.hosts and is_web(cap.redirect):
                found.append(Queued(cap.redirect, q.depth, q.anchor, q.list_date, q.referrer_channel))
            else:
                cap.note = f"redirect to another host, not followed: {cap.redirect}"
        elif cap.page is not None and cap.page.kind == "html" and q.depth < self.settings.max_depth:
            channel, hosts = cap.page.title or cap.page.channel, self.hosts
            return [Queued(link.url, q.depth + 1, link.text, (link.date, link.has_time) if link.date else None, channel)
                    for link in cap.page.links
                    if (unseen is None or unseen(link.url)) and is_web(link.url) and netloc(link.url) in hosts]
        return [f for f in found if is_web(f.url) and netloc(f.url) in self.hosts and (unseen is None or unseen(f.url))]


READ_AHEAD = 8  # pages fetched ahead of their reading, per reader process
_Ahead = tuple[Queued | None, Capture, "Future[extract.Page] | None"]  # (queued as, capture, its reading)


@contextmanager
def _readers(count: int) -> Iterator[Executor | None]:
    """Processes reading pages beside the crawl (bytes in, Page out); None: read in the crawl's thread.
    Forked from a server that has imported the reader once (the crawl itself has threads)."""
    if count < 1:
        yield None
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["scoring.collect.extract"])
    with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
        yield pool
