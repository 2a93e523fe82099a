"""A government website for the inspection's tests, served on a loopback address **as of any date**
(items dated after it are not yet published) and with chosen faults: the home page down (503) or
slow, a home page that stopped updating, undated items, a navigation-only home page, broken
columns. Pages are generated per request from the plan, so a test moves `as_of` and `faults`
between polls and runs a week of polls in seconds."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PER_PAGE = 15


@dataclass(frozen=True)
class Item:
    title: str
    published: dt.date | None  # None: shown without a date
    status: str = ""           # shown beside it (a message board's 已回复 / 未回复)


@dataclass
class Column:
    slug: str
    name: str
    items: list[Item] = field(default_factory=list)
    broken: bool = False       # the link on the home page answers 404


@dataclass
class Faults:
    down: bool = False                 # the home page answers 503
    slow: float = 0.0                  # seconds before the home page answers
    nav_only: bool = False             # the home page only links the columns
    home_frozen: dt.date | None = None  # the home page's list stops at this date (a stale home page)
    undated_home: bool = False         # the home page's list shows no dates


def every(name: str, start: dt.date, end: dt.date, days: int) -> list[Item]:
    """Items of a column, one every `days` days from `start` to `end`."""
    n = (end - start).days // days + 1
    return [Item(f"{name}（{start + dt.timedelta(days=k * days):%Y年%m月%d日}）", start + dt.timedelta(days=k * days))
            for k in range(n)]


def government_site(start: dt.date, end: dt.date) -> list[Column]:
    """A well-kept site: news daily, notices weekly, policy monthly, a consultation and a service
    column, a static 机构职能 column."""
    return [Column("gzdt", "工作动态", every("工作动态", start, end, 1)),
            Column("yw", "要闻", every("要闻", start, end, 2)),
            Column("tzgg", "通知公告", every("通知公告", start, end, 7)),
            Column("zcwj", "政策文件", every("政策文件", start, end, 30)),
            Column("jgzn", "机构职能", [Item("机构职能", start)]),
            Column("zxly", "咨询留言", every("留言答复", start, end, 7)),
            Column("wsbs", "网上办事", every("办事指南", start, end, 14))]


class _Handler(BaseHTTPRequestHandler):
    server: InspectionSite
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 — the http.server name
        s = self.server
        path = urlsplit(self.path).path
        with s.lock:
            s.requests.append(path)
        if path == "/robots.txt":
            return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        if path in ("/", "/index.html"):
            if s.faults.slow:
                time.sleep(s.faults.slow)
            if s.faults.down:
                return self._send(503, b"<html><body>503 Service Unavailable</body></html>")
            return self._send(200, s.home().encode())
        parts = path.strip("/").split("/")
        column = s.columns.get(parts[1]) if len(parts) >= 2 and parts[0] in ("col", "art") else None
        if column is None or column.broken:
            return self._send(404, b"<html><body>404 Not Found</body></html>")
        if parts[0] == "col":
            return self._send(200, s.column(column).encode())
        return self._send(200, s.page(column.name, f"<h1>{html.escape(column.name)}</h1><p>正文</p>").encode())

    def _send(self, status: int, data: bytes, ctype: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)


class InspectionSite(ThreadingHTTPServer):
    """The site of `columns` as of `as_of`, with `faults`; both may change between requests."""

    daemon_threads = True

    def __init__(self, name: str, columns: list[Column], *, as_of: dt.date, faults: Faults | None = None,
                 home_items: int = 8, host: str = "127.0.0.1"):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fixture site is served on a loopback address only")
        self.name, self.as_of, self.faults, self.home_items = name, as_of, faults or Faults(), home_items
        self.columns = {c.slug: c for c in columns}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        super().__init__((host, 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def start(self) -> InspectionSite:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def page(self, title: str, body: str) -> str:
        return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)} - '
                f'{html.escape(self.name)}</title></head>\n<body><div class="header"><a href="/index.html">'
                f"{html.escape(self.name)}</a></div>\n{body}\n</body></html>\n")

    def published(self, column: Column, until: dt.date) -> list[tuple[int, Item]]:
        """A column's items out by `until` (undated ones always), newest first."""
        out = [(k, i) for k, i in enumerate(column.items) if i.published is None or i.published <= until]
        return sorted(out, key=lambda ki: ki[1].published or dt.date.min, reverse=True)

    def _row(self, column: Column, k: int, item: Item, dated: bool = True) -> str:
        date = f"<span>{item.published:%Y-%m-%d}</span>" if dated and item.published else ""
        status = f"<em>{html.escape(item.status)}</em>" if item.status else ""
        return f'<li><a href="/art/{column.slug}/{k}.html">{html.escape(item.title)}</a>{date}{status}</li>'

    def home(self) -> str:
        nav = "".join(f'<li><a href="/col/{c.slug}/index.html">{html.escape(c.name)}</a></li>'
                      for c in self.columns.values())
        body = f'<ul class="nav">{nav}</ul>'
        if not self.faults.nav_only:
            until = min(self.as_of, self.faults.home_frozen or self.as_of)
            latest = sorted(((i.published or dt.date.min, c, k, i) for c in self.columns.values() if not c.broken
                             for k, i in self.published(c, until)), key=lambda t: t[0], reverse=True)[:self.home_items]
            rows = "".join(self._row(c, k, i, not self.faults.undated_home) for _, c, k, i in latest)
            body += f'\n<h2>最新信息</h2><ul class="news">{rows}</ul>'
        return self.page(self.name, f"<h1>{html.escape(self.name)}</h1>\n{body}")

    def column(self, column: Column) -> str:
        items = self.published(column, self.as_of)
        pages = max(1, -(-len(items) // PER_PAGE))
        rows = "".join(self._row(column, k, i) for k, i in items[:PER_PAGE]) or "<li>暂无信息</li>"
        pager = " ".join(f'<a href="/col/{column.slug}/index_{n}.html">{n + 1}</a>' for n in range(1, pages))
        return self.page(column.name, f"<h2>{html.escape(column.name)}</h2>\n<ul class=\"list\">{rows}</ul>"
                                      f'<div class="pager">{pager}</div>')
