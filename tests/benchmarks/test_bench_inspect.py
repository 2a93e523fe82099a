"""The website inspection's cost: one poll of a well-kept site (home page and 7 columns, fetched,
read and archived as WARC records; no database) served on 127.0.0.1, and judging a site's week
of polls (24 a day, each with its home page and 10 columns of 15 items) — per site, since an
inspection round judges every site (GONGKAI_BENCH=full: a year of polls, the long windows' worst case)."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from scoring.collect.fetch import CollectSettings
from scoring.inspect import judge as j
from scoring.inspect.indicators import load_inspection
from scoring.inspect.poll import poll_site
from scoring.synthetic.inspect_site import InspectionSite, government_site

DAY = dt.date(2017, 6, 30)
DAYS = 365 if os.environ.get("GONGKAI_BENCH") == "full" else 7


@pytest.fixture(scope="module")
def site():
    s = InspectionSite("省统计局", government_site(dt.date(2017, 1, 1), DAY), as_of=DAY).start()
    yield s
    s.stop()


def test_one_poll(benchmark, site):
    settings = CollectSettings(allow_private=True, timeout=5)
    pages = benchmark(poll_site, site.url, set(), settings)
    assert len(pages) == 8 and all(p.loaded for p in pages)


def _week() -> list[j.Poll]:
    polls = []
    for n in range(DAYS * 24):
        at = dt.datetime.combine(DAY - dt.timedelta(days=DAYS - 1), dt.time()) + dt.timedelta(hours=n)
        items = tuple(j.Item(f"/art/{k}.html", f"信息{k}", at.date() - dt.timedelta(days=k)) for k in range(15))
        pages = (j.Page(n * 11, "home", "/", "首页", True, "h", items),
                 *(j.Page(n * 11 + c, "column", f"/col/c{c}/", "咨询留言" if c == 1 else f"工作动态{c}", True, "c", items) for c in range(1, 11)))
        polls.append(j.Poll(n, at, True, 0.2, pages))
    return polls


def test_judge_a_site(benchmark):
    inspection, polls = load_inspection(), _week()
    judged = benchmark(j.judge, inspection, polls, DAY)
    assert judged.verdict == "qualified" and judged.score == 100
