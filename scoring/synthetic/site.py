"""A seeded static government website for the web collector's tests and benchmarks, with its truth.

`write_site()` writes one body's site the way provincial CMSs lay them out — a home page, channel
(欄目) list pages with pagination, the 政府信息公開目錄 with metadata tables (索引號, 發佈機構,
成文日期, 發佈日期), articles in UTF-8 and GBK, PDF attachments, filler news — holding that body's
publications of every obligation the scheme gives `collect` hints for: on time, late, missing,
published twice (two URLs), dated only in the list page. `truth.csv` lists what was published
(body, obligation, period, published_at, url). Traps: robots.txt disallow, a redirect to another
host, a redirect loop, a calendar without end, a slow page, a huge one-line page, a decompression
bomb, a PDF named .html, malformed HTML, broken links and a blank channel.

Behaviour a static folder cannot have (redirects, delays, generated pages, gzip) is described in
`_server.json` and done by `serve()`, a loopback-only server that also logs every request.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import html
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from scoring.intake.evidence import empty_evidence
from scoring.method.compiled import rule_table
from scoring.method.rules import expected_items
from scoring.method.scheme import Obligation, Scheme

QUARTERS = "一二三四"
STYLES = ("table", "meta", "label", "list", "pdf")  # where an article's date is shown
PER_PAGE = 15
FILLER = ("召开专题会议研究部署{n}项重点工作", "赴基层开展调研督导（第{n}期）", "举办业务培训班（第{n}期）",
          "机关党支部开展主题党日活动（{n}）", "全省系统工作座谈会召开（{n}）", "领导干部学习交流会（第{n}次）")
TEXT = ("为深入贯彻落实省委、省政府决策部署，进一步做好相关工作，现将有关情况通报如下。",
        "各有关单位要高度重视，明确责任分工，认真抓好落实，确保各项任务按期完成。",
        "会议强调，要坚持问题导向，加强统筹协调，推动工作取得实效。")


def _s(text: str) -> str:
    """Simplified characters, as provincial sites publish (the scheme keeps the document's)."""
    import opencc

    return _converter(opencc).convert(text)


_CONVERTERS: dict[str, object] = {}


def _converter(opencc):
    if "t2s" not in _CONVERTERS:
        _CONVERTERS["t2s"] = opencc.OpenCC("t2s")
    return _CONVERTERS["t2s"]


@dataclass
class Article:
    url: str
    title: str
    published: dt.datetime
    style: str
    channel: str
    obligation: str = ""
    period: str = ""
    has_time: bool = False
    gbk: bool = False
    truth: bool = True


@dataclass
class Site:
    body: str
    name: str
    articles: list[Article] = field(default_factory=list)


def _period_words(label: str, merged_first: str | None, rng: random.Random) -> str:
    if "-Q" in label:
        y, q = label.split("-Q")
        return f"{y}年{rng.choice(['第', ''])}{QUARTERS[int(q) - 1]}季度"
    if "-W" in label:
        y, w = label.split("-W")
        return f"{y}年第{int(w)}周"
    if "-" in label:
        y, m = label.split("-")[:2]
        return f"{y}年{int(merged_first)}-{int(m)}月" if merged_first else f"{y}年{int(m)}月"
    return f"{label}年"


def _merge_firsts(scheme: Scheme, ob: Obligation) -> dict[str, str]:
    from scoring.method.kinds.periodic import merged, period_labels
    from scoring.method.scheme import PeriodicRule

    firsts: dict[str, str] = {}
    for rule in ob.rules:
        if isinstance(rule, PeriodicRule):
            for first, target in merged(rule, period_labels(scheme, rule)).items():
                firsts.setdefault(target, first.split("-")[1])
    return firsts


def plan(scheme: Scheme, body: str, seed: int = 7, filler: int = 60) -> Site:
    """Which publications the site holds, when each was published and how it is dated."""
    rng = random.Random(seed)
    b = scheme.body(body)
    site = Site(body, _s(b.name))
    items = expected_items(scheme, empty_evidence())
    items = items.assign(kind=rule_table(scheme)["kind"].to_numpy()[items["rule_id"].to_numpy()])
    items = items[(items["body"] == body)]
    as_of = dt.datetime.combine(scheme.default_as_of, dt.time())
    n = 0
    for ob in scheme.obligations:
        if ob.collect is None:
            continue
        mine = items[(items["obligation"] == ob.id) & items["kind"].isin(["periodic", "deadline", "count"])]
        if mine.empty:
            continue
        firsts = _merge_firsts(scheme, ob)
        channel = _s(ob.collect.channels[0]) if ob.collect.channels else "政务公开"
        keyword = _s(ob.collect.keywords[0])
        for item in mine.itertuples(index=False):
            label = str(item.item)
            kind = str(item.kind)
            fate = rng.random()
            if fate < 0.1:
                continue  # missing
            count = 2 if kind == "count" and rng.random() < 0.5 else 1
            for _ in range(count):
                if kind == "count":
                    published = dt.datetime(2017, rng.randint(2, 11), rng.randint(1, 28))
                    words, period = f"{rng.randint(1, 4)}季度", ""
                    title = f"召开会议听取{keyword}（{published.month}月）"
                else:
                    due = pd.Timestamp(item.due).floor("s").to_pydatetime()
                    period = label if kind == "periodic" else ""
                    words = _period_words(label, firsts.get(label), rng) if period else ""
                    if fate < 0.75:
                        published = due - dt.timedelta(days=rng.randint(0, 6))
                    else:  # late, but within the assessment
                        published = min(due + dt.timedelta(days=rng.randint(2, 30)), as_of - dt.timedelta(days=1))
                    if period:
                        from scoring.method import periods as per

                        published = max(published, dt.datetime.combine(per.parse(label)[2], dt.time())  # type: ignore[index]
                                        + dt.timedelta(days=1))
                    published = published.replace(hour=0, minute=0)
                    title = f"{words}{keyword}" if period else f"关于印发{keyword}的通知"
                style = rng.choice(STYLES)
                if style == "meta":
                    published = published.replace(hour=rng.randint(8, 17), minute=rng.choice([0, 15, 30, 45]))
                n += 1
                art = Article(f"/art/{n}.{'pdf' if style == 'pdf' else 'html'}", title, published, style, channel,
                              ob.id, period, style == "meta", gbk=style != "pdf" and rng.random() < 0.25)
                site.articles.append(art)
                if fate > 0.85 and count == 1:  # published twice: again in the 目錄, a few days later
                    n += 1
                    site.articles.append(Article(f"/art/{n}.html", title, published + dt.timedelta(days=rng.randint(1, 4)),
                                                 "table", "政府信息公开目录", ob.id, period))
                if period and rng.random() < 0.3:  # an interpretation of it (解讀): not the item
                    n += 1
                    site.articles.append(Article(f"/art/{n}.html", f"图解：{title}", published + dt.timedelta(days=1),
                                                 "label", channel, truth=False))
        if any(mine["kind"] == "periodic"):  # last year's item, published this year: not expected
            n += 1
            site.articles.append(Article(f"/art/{n}.html", f"{_period_words('2016-12' if any(mine['item'].astype(str).str.len() == 7) else '2016', None, rng)}{keyword}",
                                         dt.datetime(2017, 1, 12), "label", channel, truth=False))
    for i in range(filler):
        n += 1
        site.articles.append(Article(f"/art/{n}.html", f"{site.name}{rng.choice(FILLER).format(n=i + 1)}",
                                     dt.datetime(2017, 1, 1) + dt.timedelta(days=rng.randint(0, 364)),
                                     rng.choice(("table", "meta", "label", "list")), "工作动态", truth=False,
                                     gbk=rng.random() < 0.2))
    return site


def _page(title: str, body: str, site_name: str, *, head: str = "", charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="{charset}"><title>{html.escape(title)} - {html.escape(site_name)}'
            f'</title>{head}</head>\n<body><div class="header"><a href="/index.html">{html.escape(site_name)}</a></div>\n'
            f"{body}\n<div class=\"footer\">主办：{html.escape(site_name)}</div></body></html>\n")


def _crumb(channel: str, slug: str) -> str:
    return (f'<div class="position">当前位置：<a href="/index.html">首页</a> &gt; '
            f'<a href="/col/{slug}/index.html">{html.escape(channel)}</a></div>')


def _date(d: dt.datetime, with_time: bool) -> str:
    return d.strftime("%Y-%m-%d %H:%M") if with_time else d.strftime("%Y-%m-%d")


def _article(a: Article, site: Site, slug: str, n: int) -> bytes:
    head, lead = "", ""
    written = a.published - dt.timedelta(days=3)
    if a.style == "table":
        lead = ('<table class="xxgk"><tr><td>索引号：</td><td>11370000MB28{:06d}/2017-{:05d}</td><td>发布机构：</td>'
                '<td>{}</td></tr><tr><td>成文日期：</td><td>{}</td><td>发布日期：</td><td>{}</td></tr>'
                '<tr><td>名称：</td><td colspan="3">{}</td></tr></table>').format(
                    n, n, html.escape(site.name), f"{written.year}年{written.month:02d}月{written.day:02d}日",
                    f"{a.published.year}年{a.published.month:02d}月{a.published.day:02d}日", html.escape(a.title))
    elif a.style == "meta":
        head = f'<meta name="PubDate" content="{_date(a.published, True)}"><meta name="ColumnName" content="{html.escape(a.channel)}">'
    elif a.style == "label":
        lead = f'<div class="info">发布时间：{a.published.year}年{a.published.month}月{a.published.day}日　来源：{html.escape(site.name)}</div>'
    text = "".join(f"<p>{t}</p>" for t in TEXT)
    body = f'{_crumb(a.channel, slug)}\n{lead}\n<h1>{html.escape(a.title)}</h1>\n<div class="content">{text}</div>'
    charset = "gbk" if a.gbk else "utf-8"
    return _page(a.title, body, site.name, head=head, charset=charset).encode("gbk" if a.gbk else "utf-8")


def _pdf(title: str) -> bytes:
    """A small valid one-page PDF (its text is not what the collector reads: the link is)."""
    content = b"BT /F1 12 Tf 72 720 Td (gongkai fixture) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % x for x in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _list_pages(title: str, slug: str, entries: list[Article], site: Site) -> dict[str, bytes]:
    """A channel's list pages (15 a page, newest first, every page linking every other)."""
    entries = sorted(entries, key=lambda a: a.published, reverse=True)
    chunks = [entries[i:i + PER_PAGE] for i in range(0, len(entries), PER_PAGE)] or [[]]
    names = ["index.html"] + [f"index_{i}.html" for i in range(1, len(chunks))]
    pages = {}
    for i, chunk in enumerate(chunks):
        rows = "".join(f'<li><a href="{a.url}" title="{html.escape(a.title)}">{html.escape(a.title)}</a>'
                       f"<span>{a.published:%Y-%m-%d}</span></li>" for a in chunk) or "<li>暂无信息</li>"
        pager = " ".join(f'<a href="/col/{slug}/{n}">{k + 1}</a>' for k, n in enumerate(names)) if len(names) > 1 else ""
        body = f'{_crumb(title, slug)}\n<h2>{html.escape(title)}</h2>\n<ul class="list">{rows}</ul>\n<div class="pager">{pager}</div>'
        pages[f"col/{slug}/{names[i]}"] = _page(title, body, site.name, head=f'<meta name="ColumnName" content="{html.escape(title)}">').encode()
    return pages


def write_site(scheme: Scheme, out: Path, *, body: str = "tongji", seed: int = 7, filler: int = 60) -> Site:
    """Write the site and its truth.csv under `out`; returns the plan."""
    site = plan(scheme, body, seed, filler)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    channels = sorted({a.channel for a in site.articles})
    slugs = {c: f"c{i + 1}" for i, c in enumerate(channels)}
    for i, a in enumerate(site.articles):
        if a.style == "pdf":
            files[a.url.lstrip("/")] = _pdf(a.title)
        else:
            files[a.url.lstrip("/")] = _article(a, site, slugs[a.channel], i + 1)
    for c in channels:
        files.update(_list_pages(c, slugs[c], [a for a in site.articles if a.channel == c], site))
    files.update(_list_pages("空白栏目", "empty", [], site))
    private = "<h1>内部草稿</h1>" + "".join(f'<p><a href="/private/{k}.html">草稿{k}</a></p>' for k in range(3))
    files["private/index.html"] = _page("内部", private, site.name).encode()
    truth_items = [a for a in site.articles if a.truth and a.obligation]
    decoy = truth_items[0].title if truth_items else "草稿"
    for k in range(3):  # drafts a polite crawler never sees (robots.txt): proposing one is a failure
        files[f"private/{k}.html"] = _page(f"{decoy}（草稿{k}）", f"<h1>{html.escape(decoy)}（草稿{k}）</h1>"
                                            "<p>发布时间：2017年2月1日</p>", site.name).encode()
    files["slow.html"] = _page("慢速页面", "<h1>慢速页面</h1>", site.name).encode()
    files["huge.html"] = b""  # served as one long generated line
    files["bomb.html"] = gzip.compress(b"<html>" + b"\0" * (24 * 1024 * 1024), 6)  # over the default 20 MB cap
    files["doc/report.html"] = _pdf("a PDF named .html")
    files["broken.html"] = ("<html><head><title>残缺页面</title><body><div><p>未闭合的段落<table><tr><td>单元格"
                            "<a href=/col/c1/index.html>栏目<a href='/nowhere/missing.html'>失效链接</div></span>").encode()
    nav = "".join(f'<li><a href="/col/{slugs[c]}/index.html">{html.escape(c)}</a></li>' for c in channels)
    traps = ['<a href="/col/empty/index.html">空白栏目</a>', '<a href="/private/index.html">内部</a>',
             '<a href="/old/index.html">旧版网站</a>', '<a href="/loop/a.html">循环跳转</a>',
             '<a href="/calendar/?d=0">日历</a>', '<a href="/slow.html">慢速</a>', '<a href="/huge.html">超长</a>',
             '<a href="/bomb.html">压缩</a>', '<a href="/doc/report.html">报告</a>', '<a href="/broken.html">残缺</a>',
             '<a href="/art/missing-404.html">失效</a>', '<a href="http://www.gov.cn/">中国政府网</a>',
             '<a href="mailto:xxgk@example.gov.cn">信箱</a>', '<a href="ftp://example.gov.cn/x">FTP</a>']
    home = f'<h1>{html.escape(site.name)}</h1>\n<ul class="nav">{nav}</ul>\n<div class="links">{" ".join(traps)}</div>'
    files["index.html"] = _page(site.name, home, site.name).encode()
    files["robots.txt"] = b"User-agent: *\nDisallow: /private/\n"
    server = {"redirects": {"/old/index.html": "http://old-site.invalid/index.html", "/loop/a.html": "/loop/b.html",
                            "/loop/b.html": "/loop/a.html", "/": "/index.html"},
              "slow": {"/slow.html": 3}, "huge": {"/huge.html": 50 * 1024 * 1024}, "gzip": ["/bomb.html"],
              "calendar": "/calendar/"}
    files["_server.json"] = json.dumps(server, ensure_ascii=False, indent=1).encode()
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body", "obligation", "period", "published_at", "url"])
        for a in truth_items:
            w.writerow([site.body, a.obligation, a.period, _date(a.published, a.has_time), a.url])
    return site


# ---- serving it (tests, benchmarks, trying the collector by hand) -------------------------------

class _Handler(BaseHTTPRequestHandler):
    server: SiteServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def log_message(self, *args) -> None:  # the request log is kept, not printed
        pass

    def do_GET(self) -> None:  # noqa: N802 — the http.server name
        s = self.server
        path = urlsplit(self.path).path
        with s.lock:
            s.requests.append((self.path, self.headers.get("User-Agent", "")))
            s.times.append(time.monotonic())
        cfg = s.config
        if path in cfg.get("redirects", {}):
            return self._send(302, b"", "text/html", [("Location", cfg["redirects"][path])])
        if path in cfg.get("slow", {}):
            time.sleep(cfg["slow"][path])
        if path in cfg.get("huge", {}):
            return self._huge(cfg["huge"][path])
        if cfg.get("calendar") and path == cfg["calendar"]:
            d = int((parse_qs(urlsplit(self.path).query).get("d") or ["0"])[0] or 0)
            page = f'<html><body><h1>日历 {d}</h1><a href="?d={d - 1}">上一天</a> <a href="?d={d + 1}">下一天</a></body></html>'
            return self._send(200, page.encode(), "text/html; charset=utf-8")
        file = (s.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(s.root) or not file.is_file() or file.name == "_server.json":
            return self._send(404, b"<html><body>404 Not Found</body></html>", "text/html")
        data = file.read_bytes()
        ctype = {".html": "text/html", ".pdf": "application/pdf", ".txt": "text/plain", ".csv": "text/csv"}.get(file.suffix, "application/octet-stream")
        extra = [("Content-Encoding", "gzip")] if path in cfg.get("gzip", []) else []
        self._send(200, data, ctype, extra)

    def _send(self, status: int, data: bytes, ctype: str, extra: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra or []:
            self.send_header(k, v)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def _huge(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(size // len(chunk)):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass


class SiteServer(ThreadingHTTPServer):
    """The fixture site served on a loopback address, with `_server.json`'s behaviour and a request log."""

    daemon_threads = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fixture site is served on a loopback address only")
        self.root = Path(root).resolve()
        config = self.root / "_server.json"
        self.config = json.loads(config.read_text(encoding="utf-8")) if config.exists() else {}
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)
        self.times: list[float] = []  # time.monotonic() of each request (politeness across workers)
        self.lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def start(self) -> SiteServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self
