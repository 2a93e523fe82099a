"""The collector's pieces as tables of input → expected: what a page says (date and its source,
encodings, title, channel), the periods a title names, URL fingerprints and scope, the address
guard, and WARC records that check (and one changed byte that does not)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import shutil
import socket
import ssl
import subprocess
import threading
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from warcio.warcwriter import WARCWriter

from scoring.collect import archive
from scoring.collect.extract import decode, find_date, read_page
from scoring.collect.fetch import (
    AddressRefused,
    CollectSettings,
    Crawler,
    fingerprint,
    netloc,
    resolve,
)
from scoring.collect.match import FORMS, named_periods, normalise, propose
from tests.conftest import make_scheme

D = dt.datetime


def html(head: str = "", body: str = "") -> bytes:
    return f'<html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'.encode()


@pytest.mark.parametrize("page,list_date,date,source", [
    (html(body="<table><tr><td>成文日期：</td><td>2017年03月10日</td><td>发布日期：</td><td>2017年03月15日</td></tr></table>"
               "<p>发布时间：2017-04-01</p>"), None, D(2017, 3, 15), "table"),
    (html(body="<table><tr><td>發佈日期</td><td>2017/3/15</td></tr></table>"), None, D(2017, 3, 15), "table"),
    (html('<meta name="PubDate" content="2017-03-15 09:30">'), None, D(2017, 3, 15, 9, 30), "meta"),
    (html(body="<div>发布时间：2017年3月15日 来源：省统计局</div><p>2016年1月2日召开</p>"), None, D(2017, 3, 15), "label"),
    (html(body="<p>无日期</p>"), (D(2017, 5, 2), False), D(2017, 5, 2), "list"),
    (html(body="<div>發佈時間：2017-06-01</div>"), (D(2017, 5, 2), False), D(2017, 6, 1), "label"),
    (html('<meta property="article:published_time" content="2017-07-08T10:00:00+08:00">'), None, D(2017, 7, 8), "meta"),
    (html('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2017-07-09"}</script>'),
     None, D(2017, 7, 9), "htmldate"),
    (html(body="<table><tr><td>成文日期：</td><td>2017年03月10日</td></tr></table>"), None, D(2017, 3, 10), "written"),
    (html(body="<p>会议于2017年8月9日召开</p>"), None, D(2017, 8, 9), "text"),
    (html(body="<p>2017年13月40日 无效</p>"), None, None, ""),
])
def test_publication_date_and_where_it_came_from(page, list_date, date, source):
    p = read_page(page, "text/html", "http://x.gov.cn/a.html", list_date)
    assert (p.published_at, p.date_source) == (date, source)


@pytest.mark.parametrize("body,ctype,encoding,words", [
    ('<meta charset="gbk"><title>统计数据</title>'.encode("gbk"), "text/html", "gb18030", "统计数据"),
    ("<title>统计数据</title>".encode("gbk"), "text/html", "gb18030", "统计数据"),  # undeclared, not UTF-8: GB18030
    ("<title>统计数据</title>".encode(), "text/html; charset=GBK", "utf-8", "统计数据"),  # declared wrong: the bytes decide
    ("\ufeff<title>统计数据</title>".encode(), "text/html", "utf-8", "统计数据"),
    ('<meta charset="big5"><title>統計</title>'.encode("big5"), "text/html", "big5", "統計"),
])
def test_encodings(body, ctype, encoding, words):
    text, found = decode(body, ctype)
    assert found == encoding and words in text and not text.startswith("\ufeff")


def test_title_channel_links_and_list_pages():
    page = ('<html><head><title>2017年1-2月全省国民经济运行情况 - 山东省统计局</title></head><body>'
            '<div class="position">当前位置：<a>首页</a> &gt; <a>统计数据</a></div>'
            '<ul><li><a href="/a.html">一</a><span>2017-01-02</span></li><li><a href="b.html#x">二</a> 2017/1/3</li>'
            '<li><a href="c.html">三</a>2017年1月4日</li><li><a href="javascript:void(0)">四</a></li></ul></body></html>')
    p = read_page(page.encode(), "text/html", "http://x.gov.cn/col/index.html")
    assert p.title == "2017年1-2月全省国民经济运行情况" and p.channel == "统计数据" and p.is_list
    assert [(link.url, link.date) for link in p.links] == [
        ("http://x.gov.cn/a.html", D(2017, 1, 2)), ("http://x.gov.cn/col/b.html", D(2017, 1, 3)),
        ("http://x.gov.cn/col/c.html", D(2017, 1, 4))]


@pytest.mark.parametrize("body,ctype,kind,problem", [
    (b"%PDF-1.4 ...", "text/html", "pdf", "a PDF served as text/html"),
    (b"%PDF-1.4 ...", "application/pdf", "pdf", ""),
    (b"", "text/html", "html", "not readable as HTML: Document is empty"),
    (b"\x89PNG\r\n", "image/png", "other", ""),
    (b"<html><body><div><p>open <table><tr><td>cell<a href=/x>x</div></span>", "text/html", "html", ""),
])
def test_what_a_response_is(body, ctype, kind, problem):
    p = read_page(body, ctype, "http://x.gov.cn/")
    assert (p.kind, p.problem) == (kind, problem)


@pytest.mark.parametrize("text,found", [
    ("2017年3月15日", (D(2017, 3, 15), False)), ("2017-03-15 14:05", (D(2017, 3, 15, 14, 5), True)),
    ("2017/3/5", (D(2017, 3, 5), False)), ("2017.03.05", (D(2017, 3, 5), False)),
    ("索引号 11370000/2017-00123", None), ("2017年3月", None),
])
def test_find_date(text, found):
    assert find_date(text) == found


@pytest.mark.parametrize("title,published,labels", [
    ("2017年3月全省國民經濟運行情況", None, ["2017-03"]),
    ("2017年1-2月全省國民經濟運行情況", None, ["2017-02"]),
    ("2017年1—2月", None, ["2017-02"]),
    ("2017年一季度", None, ["2017-Q1"]),
    ("第四季度社會救助情況", D(2018, 1, 10), ["2017-Q4"]),
    ("第四季度社會救助情況", None, []),  # no year and no date: no period
    ("2017年全省國民經濟運行情況", None, ["2017"]),
    ("2017年第5周價格", None, ["2017-W05"]),
    ("十二月份疫情", D(2018, 1, 3), ["2017-12"]),
    ("3月15日召開", D(2017, 3, 20), []),  # a date, not a period
    # 每五日 (pentad) bulletins: by their days, as of their last day, by number (期, 候)
    ("2017年6月6日-10日全省夏糧收購進度", None, ["2017-06-P2"]),
    ("６月６日－１０日夏粮收购进度", D(2017, 6, 12), ["2017-06-P2"]),  # full-width
    ("6月26日至30日夏粮收购进度", D(2017, 7, 2), ["2017-06-P6"]),
    ("2017年2月26日-28日", None, ["2017-02-P6"]),
    ("2016年2月26日-28日", None, ["2016"]),  # February 2016 ends on the 29th: not a pentad (the year form still reads 2016年)
    ("6月6日-9日收购进度", D(2017, 6, 10), []),  # four days
    ("6月7日-11日收购进度", D(2017, 6, 12), []),  # five days, not a pentad's
    ("6月26日-7月5日收购进度", D(2017, 7, 6), []),  # across months
    ("截至2017年6月10日全省夏粮收购进度", None, ["2017-06-P2"]),
    ("截止10月31日秋粮收购进度", D(2017, 11, 2), ["2017-10-P6"]),
    ("截至6月12日收购进度", D(2017, 6, 13), []),  # not a pentad's last day
    ("2017年10月第3期秋粮收购进度", None, ["2017-10-P3"]),
    ("十月第三候秋粮收购进度", D(2017, 10, 20), ["2017-10-P3"]),
    ("6月第二候收购进度", D(2018, 1, 3), ["2017-06-P2"]),  # no year: the latest June before the date
])
def test_periods_a_title_names(title, published, labels):
    assert [n.label for n in named_periods(normalise(title), list(FORMS), published)] == labels


def test_proposals_follow_the_hints():
    scheme = make_scheme(bodies=[{"id": "t", "name": "統計局", "kind": "department"}], obligations=[
        {"id": "1", "leads": ["t"], "points": 3, "collect": {"keywords": ["國民經濟運行情況"], "channels": ["統計數據"],
                                                           "periods": ["2017年3月", "1-2月"], "exclude": ["解讀"]},
         "rules": [{"kind": "periodic", "frequency": "monthly", "merge": [["01", "02"]]}]},
        {"id": "2", "leads": ["t"], "points": 1, "collect": {"keywords": ["實施方案"]},
         "rules": [{"kind": "deadline", "due": "2017-06-30"}]}])
    pages = pd.DataFrame([
        (1, "u1", "2017年1-2月国民经济运行情况", "统计数据", "", D(2017, 3, 15), False, "table", "html", False, "a" * 64),
        (2, "u2", "2017年3月国民经济运行情况解读", "", "", D(2017, 4, 15), False, "table", "html", False, "b" * 64),
        (3, "u3", "2016年12月国民经济运行情况", "", "", D(2017, 1, 15), False, "table", "html", False, "c" * 64),
        (4, "u4", "2017年5月国民经济运行情况", "", "统计数据", None, False, "", "pdf", False, "d" * 64),
        (5, "u5", "关于印发实施方案的通知", "", "", D(2017, 6, 1, 9), True, "meta", "html", False, "e" * 64),
        (6, "u6", "2017年6月国民经济运行情况", "", "", D(2017, 5, 1), False, "label", "html", False, "f" * 64),
        (7, "u7", "国民经济运行情况", "统计数据", "", D(2017, 5, 1), False, "table", "html", True, "0" * 64),
    ], columns=["capture_id", "url", "title", "channel", "referrer_channel", "published_at", "has_time",
                "date_source", "kind", "is_list", "capture"])
    got = propose(scheme, "t", pages)
    assert got[["url", "obligation", "period", "published_at", "confidence"]].values.tolist() == [
        ["u1", "1", "2017-02", "2017-03-15", 1.0],
        ["u4", "1", "2017-05", "", 0.24],           # no date: 30% of 0.8
        ["u6", "1", "2017-06", "2017-05-01", 0.22],  # dated before its period: 30% of 0.75
        ["u5", "2", "", "2017-06-01 09:00", 0.8],
    ]
    assert got["reason"].iloc[0] == "标题含「國民經濟運行情況」；期间「2017年1-2月」→2017-02；栏目「統計數據」；日期来自信息公开目录元数据表（发布日期）"
    assert "发布日期早于期间开始（2017-06-01）" in got["reason"].iloc[2]


def test_pentad_proposals_name_the_period_the_rule_expects():
    scheme = make_scheme(bodies=[{"id": "l", "name": "糧食局", "kind": "department"}], obligations=[
        {"id": "2.3", "leads": ["l"], "points": 3,
         "collect": {"keywords": ["糧食收購進度"], "periods": ["6月6日-10日", "截至6月10日", "6月第2期"]},
         "rules": [{"kind": "periodic", "frequency": "pentad", "within": {"days": 2}, "start": "2017-06",
                    "end": "2017-07"}]}])
    pages = pd.DataFrame([
        (1, "u1", "截至6月10日全省粮食收购进度", "", "", D(2017, 6, 11), False, "label", "html", False, "a" * 64),
        (2, "u2", "2017年7月第6期粮食收购进度", "", "", D(2017, 8, 1), False, "label", "html", False, "b" * 64),
        (3, "u3", "2017年10月6日-10日粮食收购进度", "", "", D(2017, 10, 11), False, "label", "html", False, "c" * 64),
        (4, "u4", "2017年6月粮食收购进度", "", "", D(2017, 7, 1), False, "label", "html", False, "d" * 64),
    ], columns=["capture_id", "url", "title", "channel", "referrer_channel", "published_at", "has_time",
                "date_source", "kind", "is_list", "capture"])
    got = propose(scheme, "l", pages)
    # October is outside the summer season the rule expects; a month is not a pentad
    assert got[["url", "period"]].values.tolist() == [["u1", "2017-06-P2"], ["u2", "2017-07-P6"]]
    assert "期间「截至6月10日」→2017-06-P2" in got["reason"].iloc[0]


@pytest.mark.parametrize("a,b", [
    ("HTTP://Example.gov.cn:80/a?b=2&a=1#x", "http://example.gov.cn/a?a=1&b=2"),
    ("https://example.gov.cn", "https://example.gov.cn/"),
    ("http://example.gov.cn:8080/a", "http://example.gov.cn:8080/a"),
])
def test_fingerprints(a, b):
    assert fingerprint(a) == b


def test_netloc_and_the_address_guard():
    assert netloc("http://WWW.a.gov.cn:80/x") == "www.a.gov.cn" and netloc("a.gov.cn:8080") == "a.gov.cn:8080"
    for host in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "0.0.0.0"):
        with pytest.raises(AddressRefused, match="address: refused"):
            resolve(host, 80, allow_private=False)
    assert resolve("127.0.0.1", 80, allow_private=True) == "127.0.0.1"


class _Logged(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_a_page_that_is_only_an_address_is_not_fetched_by_the_date_reader():
    """htmldate takes a string that looks like a URL for one to download: a page whose whole text is
    an address (here one on 127.0.0.1) would have it fetched past every check of the crawl."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Logged)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = read_page(f"http://127.0.0.1:{server.server_address[1]}/secret".encode(), "text/html",
                         "http://x.gov.cn/a.html")
    finally:
        server.shutdown()
    assert server.seen == []  # type: ignore[attr-defined]
    assert (page.kind, page.published_at, page.date_source) == ("html", None, "")


def test_a_name_that_answers_differently_the_second_time_reaches_only_the_first_address(monkeypatch):
    """DNS rebinding: the check sees a public address, a second lookup would give 127.0.0.1 (where a
    server listens): the connection goes to the address checked, and the name is looked up once."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Logged)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    answers, looked_up, connected = iter(["93.184.215.14", *["127.0.0.1"] * 20]), [], []

    def getaddrinfo(host, at, *args, **kwargs):
        ip = next(answers)
        looked_up.append((host, ip))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, at))]

    def create_connection(address, *args, **kwargs):  # nothing leaves this machine: the connection is refused here
        connected.append(address)
        raise ConnectionRefusedError(111, "refused by the test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    try:
        crawler = Crawler(f"http://rebind.example.gov.cn:{port}/", set(), settings=CollectSettings(retries=1, timeout=1))
        caps = [crawler.fetch(f"http://rebind.example.gov.cn:{port}/{p}") for p in ("", "robots.txt")]
        crawler.close()
    finally:
        server.shutdown()
    assert looked_up == [("rebind.example.gov.cn", "93.184.215.14")]
    assert connected == [("93.184.215.14", port)] * 4  # two requests, each tried twice, all to the address checked
    assert server.seen == []  # 127.0.0.1 never saw a request
    assert all(c.error.startswith("ConnectError") for c in caps)


def test_what_a_screenshot_page_may_request(monkeypatch):
    """The screenshot browser's rule (Crawler.refusal): the site's hosts over http(s), at public addresses,
    what their robots.txt allows (the crawl fetched it; here it is given: nothing is sent)."""
    table = {"www.example.gov.cn": "93.184.215.14", "intra.example.gov.cn": "10.1.2.3"}
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port))])
    crawler = Crawler("https://www.example.gov.cn/", {"intra.example.gov.cn"}, settings=CollectSettings())
    crawler._set_robots(netloc("https://www.example.gov.cn/"), "User-agent: *\nDisallow: /private/\n")
    assert crawler.refusal("https://www.example.gov.cn/css/a.css") == ""
    assert crawler.refusal("https://www.example.gov.cn/private/a.png") == \
        "https://www.example.gov.cn/private/a.png: robots.txt disallows it"
    assert crawler.refusal("http://cdn.example.com/x.js") == "cdn.example.com: another host than the site's"
    assert crawler.refusal("ftp://www.example.gov.cn/x") == "ftp://www.example.gov.cn/x: not an http(s) address"
    assert crawler.refusal("https://intra.example.gov.cn/api").startswith(
        "intra.example.gov.cn resolves to 10.1.2.3, a private address: refused")
    assert crawler.addresses() == {"www.example.gov.cn": "93.184.215.14"}  # what the browser is pinned to
    crawler.close()


class _Hosted(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.headers["Host"])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command to make a certificate")
@pytest.mark.parametrize("certified,ok", [("pinned.example.gov.cn", True), ("other.example.gov.cn", False)])
def test_a_pinned_https_connection_keeps_the_name_for_host_sni_and_the_certificate(tmp_path, monkeypatch, certified, ok):
    from scoring.collect import fetch

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", f"/CN={certified}", "-addext", f"subjectAltName=DNS:{certified}"],
                   check=True, capture_output=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hosted)
    server.seen, names = [], []  # type: ignore[attr-defined]
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    served.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = served.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    answers = iter(["127.0.0.1", *["10.9.9.9"] * 20])  # a second lookup would send it elsewhere

    def getaddrinfo(host, at, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers) if host == "pinned.example.gov.cn" else host, at))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(fetch, "_tls", lambda: ssl.create_default_context(cafile=str(cert)))
    try:
        crawler = Crawler(f"https://pinned.example.gov.cn:{port}/", set(),
                          settings=CollectSettings(allow_private=True, retries=0, timeout=2))
        cap = crawler.fetch(f"https://pinned.example.gov.cn:{port}/x")
        crawler.close()
    finally:
        server.shutdown()
    if ok:
        assert (cap.status, cap.error) == (200, "")
        assert server.seen == [f"pinned.example.gov.cn:{port}"] and names == ["pinned.example.gov.cn"]
    else:  # the certificate is checked against the name, not the address connected to
        assert cap.status is None and "CERTIFICATE_VERIFY_FAILED" in cap.error and server.seen == []


class _Cookied(BaseHTTPRequestHandler):
    """A site whose home page sets a cookie (the other pages set none); logs the Cookie header of each GET."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append((self.path, self.headers.get("Cookie", "")))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if self.path == "/":
            self.send_header("Set-Cookie", "visit=abc; Path=/")
        self.end_headers()
        self.wfile.write(b'<html><body><a href="/a.html">a</a><a href="/b.html">b</a></body></html>')

    def log_message(self, *args) -> None:
        pass


def test_a_cookie_the_site_sets_is_sent_back():
    """The crawler keeps what a Set-Cookie gives (its jar reads only the responses that set one)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Cookied)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        caps = list(Crawler(url, set(), settings=CollectSettings(allow_private=True), rate=0).run())
    finally:
        server.shutdown()
    assert [c.url.removeprefix(url) for c in caps] == ["robots.txt", "", "a.html", "b.html"]
    assert server.seen == [("/robots.txt", ""), ("/", ""), ("/a.html", "visit=abc"), ("/b.html", "visit=abc")]


class _Closing(BaseHTTPRequestHandler):
    """A keep-alive site (HTTP/1.1, Content-Length) that closes every connection after one answer
    without saying so — as a server does whose idle timeout is shorter than the crawl's pause — and
    links a page by a path in Chinese with a space."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        body = '<html><body><a href="/公开/通知 一.html">通知</a><a href="/b.html">b</a></body></html>'.encode()
        self.send_response(200 if self.path != "/robots.txt" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


def test_a_connection_the_site_closed_is_opened_again_and_paths_are_sent_encoded():
    """Each request after the first finds its kept-alive connection closed by the site: it is sent
    again, once, on a new one (each page fetched, none twice, no error); a link's Chinese path goes
    out percent-encoded in UTF-8, as a browser sends it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Closing)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        caps = list(Crawler(url, set(), settings=CollectSettings(allow_private=True, retries=0), rate=0).run())
    finally:
        server.shutdown()
    assert [(c.url.removeprefix(url), c.status, c.error) for c in caps] == [
        ("robots.txt", 404, "HTTP 404 Not Found"), ("", 200, ""), ("公开/通知 一.html", 200, ""), ("b.html", 200, "")]
    assert server.seen == ["/robots.txt", "/", "/%E5%85%AC%E5%BC%80/%E9%80%9A%E7%9F%A5%20%E4%B8%80.html", "/b.html"]


class _HostLogged(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.headers["Host"])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>x</body></html>")

    def log_message(self, *args) -> None:
        pass


def test_an_ipv6_site_is_named_in_brackets_in_the_host_header():
    class V6(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    try:
        server = V6(("::1", 0), _HostLogged)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://[::1]:{server.server_address[1]}/"
        caps = list(Crawler(url, set(), settings=CollectSettings(allow_private=True), rate=0).run())
    finally:
        server.shutdown()
    assert [(c.status, c.error) for c in caps] == [(200, ""), (200, "")]
    assert server.seen == [f"[::1]:{server.server_address[1]}"] * 2


class _Trickling(BaseHTTPRequestHandler):
    """A page whose body comes a few bytes at a time (each within the timeout), for ever."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        import time

        if self.path == "/robots.txt":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(10_000_000))
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"<p>x</p>")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args) -> None:
        pass


def test_a_body_that_trickles_is_cut_at_four_timeouts():
    """Bytes that keep coming, each well within the timeout, do not hold the crawl: the response is
    cut (and archived as truncated) once it has taken four timeouts."""
    import time

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        start = time.monotonic()
        cap = Crawler(url, set(), settings=CollectSettings(allow_private=True, timeout=0.25), rate=0).fetch(url)
        took = time.monotonic() - start
    finally:
        server.shutdown()
    assert cap.status == 200 and cap.error == "still sending after 1 s: truncated"
    assert 1.0 <= took < 3.0 and 0 < cap.size < 200 * 8
    assert cap.response is not None and b"WARC-Truncated: time" in zlib.decompress(cap.response.data, 47)


class _Robots(BaseHTTPRequestHandler):
    """Serves `server.routes`: path → (status, Location or body)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        status, text = self.server.routes.get(self.path, (404, ""))  # type: ignore[attr-defined]
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", text.replace("PORT", str(self.server.server_address[1])))
        self.end_headers()
        if status < 300:
            self.wfile.write(text.encode())

    def log_message(self, *args) -> None:
        pass


RULES = "User-agent: *\nDisallow: /private/\n"


def _hops(n: int, last: str = "/rules.txt") -> dict[str, tuple[int, str]]:
    chain = ["/robots.txt", *[f"/r{i}" for i in range(1, n)], last]
    return {a: (301 if i % 2 else 302, b) for i, (a, b) in enumerate(zip(chain, chain[1:], strict=False))}


@pytest.mark.parametrize("routes,private_allowed,fetched", [
    ({"/robots.txt": (200, RULES)}, False, ["/robots.txt"]),
    (_hops(1) | {"/rules.txt": (200, RULES)}, False, ["/robots.txt", "/rules.txt"]),
    # five consecutive redirects are followed (RFC 9309 2.3.1.2) …
    (_hops(5) | {"/rules.txt": (200, RULES)}, False, ["/robots.txt", "/r1", "/r2", "/r3", "/r4", "/rules.txt"]),
    # … a sixth is not: the file is unavailable, as a 404 is — everything allowed
    (_hops(6) | {"/rules.txt": (200, RULES)}, True, ["/robots.txt", "/r1", "/r2", "/r3", "/r4", "/r5"]),
    ({"/robots.txt": (302, "/robots.txt")}, True, ["/robots.txt"] * 6),  # a loop ends the same way
    # to another host (localhost, not the site's 127.0.0.1): followed for robots.txt, its rules rule the site
    ({"/robots.txt": (301, "http://localhost:PORT/rules.txt"), "/rules.txt": (200, RULES)}, False,
     ["/robots.txt", "/rules.txt"]),
    ({"/robots.txt": (301, "ftp://example.gov.cn/robots.txt")}, True, ["/robots.txt"]),
    ({"/robots.txt": (503, "")}, False, ["/robots.txt"] * 3),  # unreachable: nothing allowed (and retried)
])
def test_robots_txt_redirects(routes, private_allowed, fetched):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Robots)
    server.seen, server.routes = [], routes  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        crawler = Crawler(site, set(), settings=CollectSettings(allow_private=True, retries=2, timeout=2), rate=0)
        caps = crawler._robots_capture(site)
        allowed = crawler.allowed(site + "private/x"), crawler.allowed(site + "public/y")
        crawler.close()
    finally:
        server.shutdown()
    assert server.seen == fetched
    assert allowed == (private_allowed, "503" not in str(routes))
    retried = "503" in str(routes)
    assert len(caps) == (1 if retried else len(fetched)) and all(c.response is not None for c in caps)  # every hop archived
    gave_up = private_allowed and len(fetched) > 1 or "ftp:" in str(routes)
    assert ("unavailable, everything allowed (RFC 9309 2.3.1.2)" in caps[-1].note) == gave_up


def test_a_warc_record_checks_and_a_changed_byte_does_not():
    at = dt.datetime(2017, 3, 15, tzinfo=dt.UTC)
    rq = archive.request_record("http://a.gov.cn/x", [("User-Agent", "gongkai")], at)
    rs = archive.response_record("http://a.gov.cn/x", status=200, reason="OK", body=gzip.compress(b"<html>hi</html>"),
                                 headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                                 at=at, concurrent_to=rq.record_id)
    assert archive.check_record(rq.data) == archive.check_record(rs.data) == ""
    assert archive.payload(rs.data) == ("http://a.gov.cn/x", b"<html>hi</html>")
    raw = bytearray(zlib.decompress(rs.data, 16 + zlib.MAX_WBITS))
    raw[-10] ^= 1
    assert archive.check_record(gzip.compress(bytes(raw))).startswith("its WARC digest no longer matches its content")
    line = archive.cdxj_line("http://www.a.gov.cn/x?b=1", at, archive.alone(rs), status=200, mime="text/html")
    assert line.startswith("cn,gov,a)/x?b=1 20170315000000 {")
    [entry] = archive.index_entries(archive.cdxj([line]))
    assert (entry["filename"], entry["status"], entry["type"]) == (rs.sha256, "200", "response")
    assert (entry["offset"], entry["length"], archive.record_sha256(entry)) == (0, len(rs.data), rs.sha256)


def _warcio_record(url, kind, payload, http, headers):
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warc_record(url, kind, payload=io.BytesIO(payload), length=len(payload),
                                                  http_headers=http, warc_headers_dict=headers))
    return out.getvalue()


@pytest.mark.parametrize("body", [b"", b"<html>hi</html>", "<p>政務公開</p>".encode("gb18030") * 3000])
def test_a_warc_record_is_the_one_warcio_writes(monkeypatch, body):
    """Records are assembled without warcio's writer (its per-record machinery cost as much as the GET):
    with the same record id they hold exactly the bytes warcio's WARCWriter writes, once decompressed."""
    from warcio.statusandheaders import StatusAndHeaders

    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=7))
    at = dt.datetime(2017, 3, 15, 1, 2, 3, 456, tzinfo=dt.UTC)
    sent = [("User-Agent", "gongkai"), ("X-Odd", "caf\xe9")]  # a header value that is not ASCII: %-encoded
    got = [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]
    rq = archive.request_record("http://a.gov.cn/x?y=1", sent, at)
    rs = archive.response_record("http://a.gov.cn/x?y=1", status=200, reason="OK", headers=got, body=body, at=at,
                                 concurrent_to=rq.record_id, ip="10.0.0.1", truncated="length")
    date = {"WARC-Date": "2017-03-15T01:02:03.000456Z"}
    want_rq = _warcio_record("http://a.gov.cn/x?y=1", "request", b"",
                             StatusAndHeaders("GET /x?y=1 HTTP/1.1", sent, is_http_request=True), date)
    want_rs = _warcio_record("http://a.gov.cn/x?y=1", "response", body,
                             StatusAndHeaders("200 OK", got[:1], protocol="HTTP/1.1"),
                             date | {"WARC-Concurrent-To": rq.record_id, "WARC-IP-Address": "10.0.0.1",
                                     "WARC-Truncated": "length"})
    assert zlib.decompress(rq.data, 47) == zlib.decompress(want_rq, 47)
    assert zlib.decompress(rs.data, 47) == zlib.decompress(want_rs, 47)
    assert archive.check_record(rs.data) == "" and archive.payload(rs.data)[1] == body
    assert rs.sha256 == hashlib.sha256(rs.data).hexdigest()


def test_the_collector_tables_agree_with_the_migrations(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from scoring.store.db import dispose, engine_for
    from scoring.store.models import SQLModel

    url = f"sqlite:///{tmp_path / 'm.db'}"
    with engine_for(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    dispose(url)
    assert diff == []


@pytest.mark.parametrize(("site", "said"), [
    ("ftp://www.example.gov.cn/", "--site 'ftp://www.example.gov.cn/': not an http(s) address"),
    ("http://[::1", "--site 'http://[::1': not an address (Invalid IPv6 URL)"),
    ("http://" + "例" * 64 + ".cn/", "例" * 64 + ".cn: not a host name (encoding with 'idna' codec failed "
     "(UnicodeError: label empty or too long))"),
    ("http://127.0.0.1:99999/", "--site 'http://127.0.0.1:99999/': not an address (Port out of range 0-65535)"),
])
def test_a_site_that_is_not_an_address_is_one_line(site, said):
    from scoring.errors import GongkaiError

    with pytest.raises(GongkaiError) as e:
        Crawler(site, set(), settings=CollectSettings(allow_private=True))
    assert str(e.value) == said


def test_a_rate_that_is_not_a_number_is_refused(tmp_path):
    from scoring import workflows
    from scoring.errors import GongkaiError
    from scoring.store.accounts import Actor

    db = f"sqlite:///{tmp_path / 'g.db'}"
    with pytest.raises(GongkaiError, match=r"--rate nan: requests per second, 0 \(no limit\) or more"):
        workflows.collect.crawl(db, actor=Actor("t", None), body="tongji", site="http://127.0.0.1:9/", rate=float("nan"))


def test_a_crawl_delay_over_the_limit_keeps_the_host_out_not_the_crawl_waiting():
    """robots.txt asking an hour between requests: obeyed by not crawling the host (a shorter wait
    would not be polite, a day's would hold the crawl for ever); every URL says why, nothing waits."""
    import time

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Robots)
    server.seen = []  # type: ignore[attr-defined]
    server.routes = {"/robots.txt": (200, "User-agent: *\nCrawl-delay: 3600\n"),  # type: ignore[attr-defined]
                     "/": (200, '<a href="/a.html">a</a>')}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        start = time.monotonic()
        caps = list(Crawler(url, set(), settings=CollectSettings(allow_private=True), rate=0).run())
        took = time.monotonic() - start
    finally:
        server.shutdown()
    assert took < 5 and server.seen == ["/robots.txt"]
    assert [(c.url.removeprefix(url), c.note) for c in caps] == [
        ("robots.txt", ""),
        ("", "robots.txt asks 3600 s between requests, more than the crawl's limit of 60 s "
             "(GONGKAI_COLLECT_MAX_CRAWL_DELAY): not fetched")]
