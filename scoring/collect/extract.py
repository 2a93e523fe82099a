"""What a fetched page says: its encoding (UTF-8, GBK/GB18030), title, text, links (with the date
printed beside each in a list page), channel (欄目), and its publication date with where the date
came from — the 信息公開目錄 metadata table, `<meta>` tags, a labelled date (發佈時間：…), the list
page that linked it, htmldate's reading of the page, or a date in the text.

Government CMS pages (政府信息公開目錄) put 索引號 · 發佈機構 · 成文日期 · 發佈日期 in a table and
often a `<meta name="PubDate">`; htmldate knows the international metadata but neither of those, so
they are read here first and htmldate is asked only when they are absent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urldefrag, urljoin, urlsplit

from lxml import etree

# where a publication date came from, strongest first (match.py weighs them)
SOURCES = ("table", "meta", "label", "list", "htmldate", "written", "text")
MAX_TEXT = 100_000  # characters of a page's text kept

DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})(?!\d)\s*日?"
                  r"(?:\s*(\d{1,2})\s*[:：時时]\s*(\d{2}))?")
LABELLED = re.compile(r"(?:發佈|發布|发布|公開|公开|更新)(?:時間|时间|日期)\s*[:：]?\s*")
PUBLISHED_LABELS = {"發佈日期", "發布日期", "发布日期", "發文日期", "发文日期", "公開日期", "公开日期",
                    "發佈時間", "发布时间", "發布時間"}
WRITTEN_LABELS = {"成文日期", "成文時間", "成文时间"}
TITLE_LABELS = {"名稱", "名称", "標題", "标题", "文件名稱", "文件名称", "主題", "主题"}
META_DATES = ("pubdate", "publishdate", "firstpublishedtime", "publishtime", "releasedate",
              "article:published_time", "dcterms.issued", "dc.date.issued", "dc.date")
META_TITLES = ("articletitle", "og:title")
META_CHANNELS = ("columnname", "column")
CRUMB = re.compile(r"^(?:當前位置|当前位置|您的位置|所在位置)\s*[:：]\s*")
CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.I)
ENCODING_NAMES = {"gbk": "gb18030", "gb2312": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
                  "utf8": "utf-8"}


class Link(NamedTuple):
    """A link on a page: absolute URL (fragment removed), its text, the date beside it, if any, and
    the rest of its list row's text (a message board's 已回复/未回复). A tuple: a list page of a
    large column has hundreds (its pager), made as fast as Python makes anything."""

    url: str
    text: str
    date: dt.datetime | None = None
    has_time: bool = False
    beside: str = ""


@dataclass
class Page:
    """What one response is: `kind` html | pdf | other; `problem` says why it could not be read."""

    kind: str
    title: str = ""
    text: str = ""
    published_at: dt.datetime | None = None
    has_time: bool = False
    date_source: str = ""
    channel: str = ""
    encoding: str = ""
    links: list[Link] = field(default_factory=list)
    is_list: bool = False
    problem: str = ""


def _as_date(m: re.Match) -> tuple[dt.datetime, bool] | None:
    y, mo, d, hh, mm = m.groups()
    try:
        if hh is not None:
            return dt.datetime(int(y), int(mo), int(d), int(hh), int(mm)), True
        return dt.datetime(int(y), int(mo), int(d)), False
    except ValueError:
        return None


def find_date(text: str) -> tuple[dt.datetime, bool] | None:
    """The first valid date in text (2017年3月15日, 2017-03-15, 2017/3/15, with an optional time)."""
    for m in DATE.finditer(text):
        if (found := _as_date(m)) is not None:
            return found
    return None


def decode(body: bytes, content_type: str = "") -> tuple[str, str]:
    """(text, encoding): UTF-8 when the bytes are valid UTF-8, else the declared charset (header,
    then `<meta charset>`) when they are valid in it, else GB18030 (which reads GBK and GB2312)."""
    try:  # valid UTF-8 is UTF-8 whatever is declared (GBK text hardly ever is)
        return body.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", content_type or "", re.I)
    names = [declared.group(1)] if declared else []
    meta = CHARSET.search(body[:4096])
    if meta:
        names.append(meta.group(1).decode("ascii", "replace"))
    tried = ["utf-8"]
    for name in [*names, "gb18030"]:
        enc = ENCODING_NAMES.get(name.lower(), name.lower())
        if enc in tried:
            continue
        tried.append(enc)
        try:
            return body.decode(enc), enc
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("gb18030", errors="replace"), "gb18030"


def _clean(text: str) -> str:
    """Whitespace runs (with U+00A0 and U+3000, which str.split counts as whitespace) as one space."""
    return " ".join(text.split())


# lxml.html's parser makes every element it hands to Python through a Python class lookup (≈ a tenth
# of a page's reading); the same parser without it gives plain elements, read with the same XPath
# string() as lxml.html's text_content
PARSER = etree.HTMLParser()
_text_of = etree.XPath("string()", smart_strings=False)


def _parse(text: str):
    """The page's tree, as lxml.html.document_fromstring parses it."""
    doc = etree.fromstring(text, PARSER)
    if doc is None:
        raise etree.ParserError("Document is empty")
    return doc


def _label(text: str) -> str:
    return re.sub(r"[\s:：\xa0\u3000]", "", text)


def _metadata_table(doc) -> dict[str, str]:
    """The 信息公開目錄 metadata cells (label → value) of a page, e.g. {'發佈日期': '2017-03-15'}."""
    found: dict[str, str] = {}
    wanted = PUBLISHED_LABELS | WRITTEN_LABELS | TITLE_LABELS | {"索引號", "索引号", "發佈機構", "发布机构"}
    for cell in doc.iter("td", "th"):
        label = _label(_text_of(cell))
        if label in wanted and label not in found:
            value = cell.getnext()
            if value is not None:
                found[label] = _clean(_text_of(value))
    return found


def _meta(doc) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in doc.iter("meta"):
        key = (m.get("name") or m.get("property") or "").strip().lower()
        if key and key not in out and m.get("content"):
            out[key] = m.get("content").strip()
    return out


ROW_TAGS = frozenset(("li", "tr", "dd", "p"))


def _row(a) -> object | None:
    """The list item or table row a link sits in (up to three levels up), or None."""
    row = a.getparent()
    for _ in range(3):
        if row is None or row.tag in ROW_TAGS:
            break
        row = row.getparent()
    return row if row is not None and row.tag in ROW_TAGS else None


def _links(doc, base: str) -> list[Link]:
    """Every link with its text, and with the date and words printed beside it in its list row. Per
    link only what differs: the row of links sharing a parent (a pager's hundreds) is found once, an
    anchor of plain text is read without XPath."""
    out = []
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    rows: dict[object, object | None] = {}
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        try:  # the common shapes without urljoin's general parse: an absolute path on this host
            url = origin + href if href[0] == "/" and not href.startswith("//") and "./" not in href else urljoin(base, href)
            url = urldefrag(url)[0] if "#" in url else url
        except ValueError:
            continue
        text = _clean(_text_of(a) if len(a) else a.text or "") or _clean(a.get("title") or "")
        parent = a.getparent()
        row = rows[parent] if parent in rows else rows.setdefault(parent, _row(a))
        if row is None:
            out.append(Link(url, text))
            continue
        beside = _clean(_text_of(row)).replace(text, " ", 1)
        date = find_date(beside)
        at, has_time = date or (None, False)
        out.append(Link(url, text, at, has_time, beside.strip()[:200]))
    return out


def _title(doc, table: dict[str, str], meta: dict[str, str]) -> str:
    for label in TITLE_LABELS:
        if table.get(label):
            return table[label]
    for key in META_TITLES:
        if meta.get(key):
            return _clean(meta[key])
    for h in doc.iter("h1"):
        text = _clean(_text_of(h))
        if text:
            return text
    title = doc.find(".//title")
    if title is not None:
        parts = [p for p in re.split(r"\s+[-–—|_]+\s+|_|\|", _clean(_text_of(title))) if p.strip()]
        return parts[0].strip() if parts else ""
    return ""


def _channel(doc, meta: dict[str, str], title: str) -> str:
    """The page's channel (欄目): a `<meta name="ColumnName">`, else the last step of its breadcrumb."""
    for key in META_CHANNELS:
        if meta.get(key):
            return _clean(meta[key])
    for el in doc.iter("div", "p", "span", "td"):
        if CRUMB.match(_clean(el.text or "")):
            trail = CRUMB.sub("", _clean(_text_of(el))[:300], count=1)
            parts = [p.strip() for p in re.split(r"[>»›＞]", trail) if p.strip() and p.strip() != title]
            return parts[-1] if parts else ""
    return ""


def _page_date(source_html: str, table: dict[str, str], meta: dict[str, str], text: str,
               list_date: tuple[dt.datetime, bool] | None,
               is_list: bool = False) -> tuple[tuple[dt.datetime, bool] | None, str]:
    for label in PUBLISHED_LABELS:
        if label in table and (d := find_date(table[label])):
            return d, "table"
    for key in META_DATES:
        if key in meta and (d := find_date(meta[key])):
            return d, "meta"
    for m in LABELLED.finditer(text):
        at = DATE.match(text, m.end())
        if at and (d := _as_date(at)):
            return d, "label"
    if list_date is not None:
        return list_date, "list"
    found = _htmldate(source_html) if not is_list else None  # a list page's dates are its items'
    if found is not None:
        return (found, False), "htmldate"
    for label in WRITTEN_LABELS:
        if label in table and (d := find_date(table[label])):
            return d, "written"
    d = find_date(text)
    return (d, "text") if d else (None, "")


def _htmldate(source_html: str) -> dt.datetime | None:
    """htmldate's reading of the page's own metadata (no guessing from the text: that is ours). A page
    whose whole text looks like an address is not asked about: htmldate would download that address
    itself (its own HTTP pool, past the crawl's address checks and robots.txt)."""
    from htmldate import find_date as html_date

    if source_html.startswith("http") and " " not in source_html:  # htmldate's test for "a URL, download it"
        return None
    try:
        found = html_date(source_html, extensive_search=False, original_date=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate on a malformed tree: no date from it
        return None
    return dt.datetime.fromisoformat(found) if found else None


def read_links(body: bytes, content_type: str, url: str) -> Page:
    """Only what a page links (with the date beside each link): an inspection poll's reading of a
    home or column page, without the text and date reading of `read_page`."""
    ctype = (content_type or "").lower()
    if body.startswith(b"%PDF-") or "html" not in ctype:
        return Page("pdf" if body.startswith(b"%PDF-") else "other")
    text, encoding = decode(body, content_type)
    try:
        doc = _parse(re.sub(r"^\s*<\?xml[^>]*\?>", "", text))
    except (etree.ParserError, ValueError) as e:
        return Page("html", encoding=encoding, problem=f"not readable as HTML: {e}")
    return Page("html", encoding=encoding, links=_links(doc, url))


def read_page(body: bytes, content_type: str, url: str,
              list_date: tuple[dt.datetime, bool] | None = None) -> Page:
    """What a response body is and says. `list_date`: the date printed beside the link to it in a
    list page (used when the page itself carries no labelled date)."""
    ctype = (content_type or "").lower()
    htmlish = "html" in ctype or (not ctype and body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")))
    if body.startswith(b"%PDF-"):
        problem = f"a PDF served as {ctype.split(';')[0]}" if "html" in ctype else ""
        return Page("pdf", problem=problem)
    if not htmlish:
        return Page("other")
    text, encoding = decode(body, content_type)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
    try:
        doc = _parse(text)
    except (etree.ParserError, ValueError) as e:
        return Page("html", encoding=encoding, problem=f"not readable as HTML: {e}")
    table, meta = _metadata_table(doc), _meta(doc)
    links = _links(doc, url)
    etree.strip_elements(doc, "script", "style", with_tail=False)  # their tails stay, as drop_tree keeps them
    body_el = doc.find("body")
    page_text = _clean(_text_of(body_el if body_el is not None else doc))[:MAX_TEXT]
    title = _title(doc, table, meta)
    is_list = sum(link.date is not None for link in links) >= 3
    date, source = _page_date(text, table, meta, page_text, list_date, is_list)
    return Page("html", title=title, text=page_text, published_at=date[0] if date else None,
                has_time=bool(date and date[1]), date_source=source, channel=_channel(doc, meta, title),
                encoding=encoding, links=links, is_list=is_list)
