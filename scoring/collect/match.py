"""A scheme's `collect` hints turned into proposed evidence rows (pure: pages in, proposals out).

A page is proposed for an obligation of its body when its title holds one of the hint's keywords
and none of its exclusions; a periodic rule needs the period the title names (2017年3月, 第一季度,
1-2月, 6月6日-10日 …, in the forms the hint's `periods` examples show), which must be one the rule expects of
the body (a merged 1–2月 stands for its last month). Confidence (0–1) adds up what agrees: the
keyword, the period, the channel (欄目) and how the publication date was found; a page without a
date, or dated before the period it reports begins, is proposed with low confidence and says why.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from scoring.method import periods
from scoring.method.kinds.periodic import merged, period_labels
from scoring.method.scheme import CollectHint, Obligation, PeriodicRule, Scheme

COLUMNS = ["body", "obligation", "period", "published_at", "url", "title", "confidence", "reason", "capture"]
PAGE_COLUMNS = ["capture_id", "url", "title", "channel", "referrer_channel", "published_at", "has_time",
                "date_source", "kind", "is_list", "capture"]
DATE_WEIGHT = {"table": 0.2, "meta": 0.2, "label": 0.15, "list": 0.15, "htmldate": 0.1, "written": 0.0, "text": 0.0}
SOURCE_ZH = {"table": "信息公开目录元数据表（发布日期）", "meta": "页面 <meta> 标签", "label": "页面所标发布时间",
             "list": "列表页链接旁的日期", "htmldate": "htmldate 识别的页面元数据", "written": "目录表成文日期",
             "text": "正文中的日期"}
NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
            "十一": 11, "十二": 12}
_N = r"(\d{1,2}|十[一二]?|[一二三四五六七八九])"
_Y = r"(?:(\d{4})\s*年)?\s*"
_TO = r"\s*[-—–~～至到]\s*"
FORMS = {  # form → pattern over a normalised title (Simplified, half-width); year optional
    # 每五日 (候, pentad: 1–5, 6–10, … 26–月底) bulletins such as the grain purchase progress are titled
    # by their days (6月6日-10日), as of their last day (截至6月10日), or by number (6月第2期, 6月第二候)
    "pentad_days": re.compile(_Y + r"(\d{1,2})\s*月\s*(\d{1,2})\s*日?" + _TO + r"(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日"),
    "pentad_until": re.compile(r"截[至止]\s*" + _Y + r"(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    "pentad_number": re.compile(_Y + _N + r"\s*月(?:份)?\s*第\s*([1-6一二三四五六])\s*[期候]"),
    "month_range": re.compile(r"(?:(\d{4})\s*年)?\s*" + _N + r"\s*[-—–~～至到]\s*" + _N + r"\s*月"),
    "month": re.compile(r"(?:(\d{4})\s*年)?(?<![\d\-—–~至到])\s*" + _N + r"\s*月(?:份)?(?!\s*\d{1,2}\s*日)"),
    "quarter": re.compile(r"(?:(\d{4})\s*年)?\s*(?:第)?\s*([一二三四1-4])\s*季度"),
    "week": re.compile(r"(?:(\d{4})\s*年)?\s*第\s*(\d{1,2})\s*周"),
    "year": re.compile(r"(\d{4})\s*年(?:度)?"),
}
PENTAD_FORMS = ("pentad_days", "pentad_until", "pentad_number")
ORDER = (*PENTAD_FORMS, "month_range", "quarter", "week", "month", "year")  # the most specific first
FREQUENCY = {"pentad_days": "pentad", "pentad_until": "pentad", "pentad_number": "pentad", "month_range": "monthly", "month": "monthly", "quarter": "quarterly", "week": "weekly", "year": "yearly"}


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Simplified, half-width, lower case: how titles and hints are compared (sites publish in
    Simplified; the scheme keeps the document's Traditional)."""
    return _t2s().convert(unicodedata.normalize("NFKC", text)).lower()


def forms(hint: CollectHint) -> list[str]:
    """The period forms a hint's `periods` examples show (all forms when it gives none)."""
    if not hint.periods:
        return list(FORMS)
    found = []
    for example in map(normalise, hint.periods):
        for form in ORDER:
            if FORMS[form].search(example):
                found.append(form)
                break
    return found


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMERALS[text]


@dataclass(frozen=True)
class Named:
    """A period a title names: its label (2017-03) and the words that named it."""

    label: str
    words: str
    frequency: str


def named_periods(title: str, allowed: list[str], published: dt.datetime | None) -> list[Named]:
    """The periods a (normalised) title names, most specific first. A period without a year is of
    the latest year in which it begins on or before the publication date."""
    out: list[Named] = []
    taken: list[tuple[int, int]] = []
    for form in ORDER:
        if form not in allowed:
            continue
        for m in FORMS[form].finditer(title):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            try:
                named = _label(form, m, published)
            except (KeyError, ValueError):
                continue
            if named is not None:
                out.append(Named(named, m.group(0).strip(), FREQUENCY[form]))
                taken.append(m.span())
        if form != "year" and out:
            allowed = [f for f in allowed if f != "year"]  # 2017年3月 is a month, not the year 2017
    return out


def _pentad(form: str, groups: tuple) -> tuple[int, int, int | None] | None:
    """(month, pentad 1–6, the last day the title names or None) of a pentad form; None when its days
    do not start a pentad. The last day is checked against the pentad's once the year is known."""
    if form == "pentad_number":
        return _number(groups[1]), _number(groups[2]), None
    month, day = int(groups[1]), int(groups[2])
    number = min((day - 1) // 5, 5) + 1
    if form == "pentad_until":  # as of the pentad's last day: the progress it reports
        return month, number, day
    if groups[3] not in (None, groups[1]) or day != 5 * number - 4:
        return None  # a range into another month, or one that does not begin a pentad
    return month, number, int(groups[4])


def _label(form: str, m: re.Match, published: dt.datetime | None) -> str | None:
    groups = m.groups()
    year = int(groups[0]) if groups[0] else None
    if form == "year":
        return f"{year}"
    last_day = None
    if form in PENTAD_FORMS:
        found = _pentad(form, groups)
        if found is None:
            return None
        label, last_day = "{y}-" + f"{found[0]:02d}-P{found[1]}", found[2]
    else:
        n = _number(groups[-1])
        label = {"month_range": f"{{y}}-{n:02d}", "month": f"{{y}}-{n:02d}", "quarter": f"{{y}}-Q{n}",
                 "week": f"{{y}}-W{n:02d}"}[form]
    if year is None:  # the latest year in which the period begins on or before the publication
        if published is None:
            return None
        year = published.year
        first = periods.parse(label.format(y=year))
        if first is None:
            return None
        if first[1] > published.date():
            year -= 1
    parsed = periods.parse(label.format(y=year))
    if parsed is None or (last_day is not None and parsed[2].day != last_day):
        return None  # 6月6日-9日, 截至6月12日: not a pentad's days
    return label.format(y=year)


def _expected(scheme: Scheme, ob: Obligation, body: str) -> dict[str, dict[str, str]]:
    """Per frequency: every period label a periodic rule of the obligation expects of the body →
    the item it belongs to (itself, or the last period of its merge group)."""
    out: dict[str, dict[str, str]] = {}
    for rule in ob.rules:
        if isinstance(rule, PeriodicRule) and body in scheme.assessed(ob, rule):
            labels = period_labels(scheme, rule)
            aliases = merged(rule, labels)
            out.setdefault(rule.frequency, {}).update({s: aliases.get(s, s) for s in labels})
    return out


def _timed(scheme: Scheme, ob: Obligation, body: str) -> bool:
    """Whether a rule of the obligation takes a publication without a period (deadline, count)."""
    return any(r.kind in ("deadline", "count") and body in scheme.assessed(ob, r) for r in ob.rules)


def propose(scheme: Scheme, body: str, pages: pd.DataFrame) -> pd.DataFrame:
    """Proposed evidence rows (COLUMNS + capture_id) for the body's obligations that carry hints,
    from its crawled pages (PAGE_COLUMNS); one row per page and obligation."""
    rows = []
    candidates = pages[pages["kind"].isin(["html", "pdf"]) & ~pages["is_list"].astype(bool)
                       & (pages["title"].fillna("") != "")]
    titles = [normalise(t) for t in candidates["title"]]
    channels = [normalise(f"{a} {b}") for a, b in zip(candidates["channel"].fillna(""),
                                                     candidates["referrer_channel"].fillna(""), strict=True)]
    for ob in scheme.obligations:
        hint = ob.collect
        if hint is None or body not in scheme.assessed(ob):
            continue
        expected, timed, allowed = _expected(scheme, ob, body), _timed(scheme, ob, body), forms(hint)
        if not expected and not timed:
            continue
        keywords = [(k, normalise(k)) for k in hint.keywords]
        excluded = [normalise(x) for x in hint.exclude]
        hint_channels = [(c, normalise(c)) for c in hint.channels]
        for page, title, channel in zip(candidates.itertuples(index=False), titles, channels, strict=True):
            keyword = next((k for k, n in keywords if n in title), None)
            if keyword is None or any(x in title for x in excluded):
                continue
            row = _row(scheme, body, ob, page, title, channel, keyword, expected, timed, allowed, hint_channels)
            if row is not None:
                rows.append(row)
    return pd.DataFrame(rows, columns=[*COLUMNS, "capture_id"])


def _row(scheme: Scheme, body: str, ob: Obligation, page, title: str, channel: str, keyword: str,
         expected: dict[str, dict[str, str]], timed: bool, allowed: list[str],
         hint_channels: list[tuple[str, str]]) -> dict | None:
    published = None if pd.isna(page.published_at) else pd.Timestamp(page.published_at).to_pydatetime()
    reasons = [f"标题含「{keyword}」"]
    confidence = 0.5
    period = ""
    if expected:
        for named in named_periods(title, allowed, published):
            item = expected.get(named.frequency, {}).get(named.label)
            if item is not None:
                period = item
                reasons.append(f"期间「{named.words}」→{item}")
                confidence += 0.1
                break
        if not period and not timed:
            return None  # a periodic item needs its period; the title names none the rule expects
    else:
        confidence += 0.1
    found = next((c for c, n in hint_channels if n and n in channel), None)
    if found:
        confidence += 0.2
        reasons.append(f"栏目「{found}」")
    if published is None:
        confidence *= 0.3
        reasons.append("未找到发布日期")
    else:
        confidence += DATE_WEIGHT.get(page.date_source, 0.0)
        reasons.append(f"日期来自{SOURCE_ZH.get(page.date_source, page.date_source)}")
        if period:
            first = periods.parse(period)
            starts = periods.parse(min(s for s, t in expected.get(first[0], {}).items() if t == period))  # type: ignore[index]
            if starts is not None and published.date() < starts[1]:
                confidence *= 0.3
                reasons.append(f"发布日期早于期间开始（{starts[1]}）")
    when = "" if published is None else (published.strftime("%Y-%m-%d %H:%M") if page.has_time
                                        else published.strftime("%Y-%m-%d"))
    return {"body": body, "obligation": ob.id, "period": period, "published_at": when, "url": page.url,
            "title": page.title, "confidence": round(min(1.0, confidence), 2), "reason": "；".join(reasons),
            "capture": page.capture, "capture_id": page.capture_id}
