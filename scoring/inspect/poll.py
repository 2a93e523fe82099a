"""One inspection poll of a website: its home page and every column (欄目) the home page links,
fetched now with the collector's polite fetcher (address check, timeout, WARC records), each page
read for the items it lists and the date printed beside each.

A column is a link of the site's own host whose path ends like a channel's index page
(`/col/c12/index.html`, `/xwdt/`, `list.jsp` — GONGKAI_POLL_COLUMN_PATTERN); an item is any other
link of the host that is neither the home page nor a pager (`index_2.html`)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict

from scoring.collect import archive, extract
from scoring.collect.fetch import CollectSettings, Crawler, fingerprint, netloc

MAX_REDIRECTS = 5
PAGER = re.compile(r"(^|/)(index|list)_\d+\.\w+$")


class PollSettings(BaseSettings):
    """What a poll takes as a column and how many it fetches (GONGKAI_POLL_…)."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_POLL_")
    column_pattern: str = r"(^|/)((index|list|default)\.(s?html?|jsp|php|aspx?))?$"
    max_columns: int = 100

    @cached_property
    def column(self) -> re.Pattern[str]:
        return re.compile(self.column_pattern)


@dataclass
class PolledPage:
    role: str                 # home | column
    url: str
    name: str = ""
    status: int | None = None
    loaded: bool = False
    elapsed: float = 0.0
    records: list[archive.Record] = field(default_factory=list)  # request and response records, in order
    error: str = ""
    items: list[tuple[str, str, str | None, str]] = field(default_factory=list)  # (url, title, ISO date or None, row text)
    response: str = ""        # the final response record's sha256
    request: str = ""
    lines: list[str] = field(default_factory=list)  # CDXJ lines of its records


def _get(crawler: Crawler, url: str, role: str, name: str) -> tuple[PolledPage, extract.Page | None]:
    """GET `url`, following redirects within the site's hosts; the time until it answered."""
    page = PolledPage(role, url, name)
    start = time.monotonic()
    for _ in range(MAX_REDIRECTS + 1):
        cap = crawler.fetch(url)
        for record in (cap.request, cap.response):
            if record is not None:
                page.records.append(record)
                response = record is cap.response
                page.lines.append(archive.cdxj_line(url, cap.fetched_at, archive.alone(record),
                                                    status=cap.status if response else None,
                                                    mime=cap.mime if response else ""))
        page.status, page.error = cap.status, cap.error
        page.request = cap.request.sha256 if cap.request else ""
        page.response = cap.response.sha256 if cap.response else ""
        if cap.redirect and netloc(cap.redirect) in crawler.hosts:
            url = cap.redirect
            continue
        if cap.redirect:
            page.error = f"redirected to another host: {cap.redirect}"
        break
    else:
        page.error = f"more than {MAX_REDIRECTS} redirects"
    page.elapsed = time.monotonic() - start
    page.loaded = (page.status is not None and 200 <= page.status < 300 and not page.error
                   and cap.page is not None and cap.page.kind == "html")
    return page, cap.page if page.loaded else None


def _base(url: str) -> str:
    """A page's identity with its index file dropped (`/index.html` is `/`)."""
    return re.sub(r"/(index|default)\.\w+$", "/", fingerprint(url))


def _split(links: list[extract.Link], hosts: set[str], home: set[str], settings: PollSettings
           ) -> tuple[list[extract.Link], list[extract.Link]]:
    """(columns, items) among a page's links."""
    columns, items, seen = [], [], set(home)
    for link in links:
        parts = urlsplit(link.url)
        key = _base(link.url)
        if parts.scheme not in ("http", "https") or netloc(link.url) not in hosts or key in seen:
            continue
        seen.add(key)
        if settings.column.search(parts.path):
            columns.append(link)
        elif not PAGER.search(parts.path):
            items.append(link)
    return columns, items


def _items(links: list[extract.Link]) -> list[tuple[str, str, str | None, str]]:
    return [(link.url, link.text, link.date.date().isoformat() if link.date else None, link.beside) for link in links]


def poll_site(site: str, hosts: set[str], settings: CollectSettings, poll: PollSettings | None = None) -> list[PolledPage]:
    """Fetch the home page and its columns once: the home page first, then each column in the order
    the home page links them (robots.txt obeyed for the columns)."""
    poll = poll or PollSettings()
    crawler = Crawler(site, hosts, settings=settings.model_copy(update={"retries": 0}), max_pages=1, rate=0,
                      links_only=True)
    try:
        home, read = _get(crawler, site, "home", "首页")
        if read is None:
            return [home]
        own = {_base(site), _base(home.url)}
        columns, items = _split(read.links, crawler.hosts, own, poll)
        home.items = _items(items)
        out = [home]
        for link in columns[:poll.max_columns]:
            if not crawler.allowed(link.url):
                continue
            page, got = _get(crawler, link.url, "column", link.text or link.url)
            if got is not None:
                page.items = _items(_split(got.links, crawler.hosts, own | {_base(link.url)}, poll)[1])
            out.append(page)
        return out
    finally:
        crawler.close()
