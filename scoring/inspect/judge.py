"""Judging a site from its polls (pure: no I/O): each check's measured value, threshold and result
(pass / deduct N / veto), with the polls and captures behind it; then the site's score and verdict.

    out_of = total − services_points   for a body without public services (else total)
    score  = (out_of − Σ min(cap, units × points)) × total / out_of      (75 → ×4/3)
    verdict = 不合格 if any veto check fails, else 不合格 if score < fail_below, else 觀測不足 if a
              check lacked the observations it needs, else 合格.

Days are the site's local days: a window of N days is the N days ending on the inspection date; an
item's date is the date printed beside it (an undated item counts as not updated)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from scoring.collect.match import normalise
from scoring.inspect.indicators import Inspection, Resolved, Window

PASS, DEDUCT, VETO, INSUFFICIENT, NOT_OBSERVED, NOT_APPLICABLE = (
    "pass", "deduct", "veto", "insufficient", "not_observed", "not_applicable")
QUALIFIED, FAILED, UNDECIDED = "qualified", "failed", "insufficient"
RECENT = Window(days=14)  # the polls a column check reads: the latest of the last 2 weeks (監測2周)


@dataclass(frozen=True)
class Item:
    url: str
    title: str
    date: dt.date | None  # None: the item shows no date
    beside: str = ""      # the rest of its row (a message board's 已回复 / 未回复)


@dataclass(frozen=True)
class Page:
    """One fetched page of a poll: the home page or a column linked from it."""

    id: int
    role: str              # home | column
    url: str
    name: str              # a column's name (the link's text on the home page)
    loaded: bool           # answered 2xx and was read
    capture: str           # the WARC response record's sha256 ('' when nothing came back)
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Poll:
    id: int
    at: dt.datetime        # local time of the observation
    loaded: bool           # the home page answered 2xx within the poll's timeout
    elapsed: float         # seconds until the home page had answered (or failed)
    pages: tuple[Page, ...] = ()

    @property
    def home(self) -> Page | None:
        return next((p for p in self.pages if p.role == "home"), None)

    @property
    def columns(self) -> list[Page]:
        return [p for p in self.pages if p.role == "column"]


@dataclass
class Finding:
    check: str
    name: str
    name_en: str
    kind: str
    measured: float | None
    shown: str             # the measured value in words (e.g. "7/140 = 5.00%")
    threshold: str         # the threshold in words (e.g. "≥ 5%")
    result: str            # pass | deduct | veto | insufficient | not_observed | not_applicable
    deduction: float = 0.0
    polls: list[int] = field(default_factory=list)
    captures: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)  # the settings (not the document) this used

    @property
    def outcome(self) -> str:
        """pass / deduct N / veto / …, as a table shows it."""
        return f"deduct {self.deduction:g}" if self.result == DEDUCT else self.result


@dataclass
class Judgement:
    findings: list[Finding]
    out_of: float
    deductions: float
    score: float
    verdict: str           # qualified | failed | insufficient
    vetoes: list[str]


def _window_start(as_of: dt.date, w: Window) -> dt.date:
    """The first day of the window of `w` ending on `as_of` (both days included)."""
    if w.days is not None:
        return as_of - dt.timedelta(days=w.days - 1)
    return as_of - relativedelta(months=w.months or 0) + dt.timedelta(days=1)


def _passes(value: float, r: Resolved) -> bool:
    if value == float("inf"):  # nothing dated at all: as far past any threshold as can be
        return r.check.below
    limit = Fraction(str(r.threshold))
    v = Fraction(str(value)) if not isinstance(value, Fraction) else value
    if r.check.below:
        return not (v <= limit if r.check.inclusive else v < limit)
    return not (v >= limit if r.check.inclusive else v > limit)


def _threshold_words(r: Resolved) -> str:
    if r.threshold is None:
        return ""
    op = ("≤" if r.check.inclusive else "<") if r.check.below else ("≥" if r.check.inclusive else ">")
    t = f"{r.threshold:.0%}" if r.check.measure == "failed_poll_share" else f"{r.threshold:g}"
    return f"{op} {t}"


def _words(inspection: Inspection, name: str) -> list[str]:
    return [normalise(w) for w in inspection.setting(name)] if name in inspection.settings else []


def _matches(name: str, words: list[str]) -> bool:
    n = normalise(name)
    return any(w in n for w in words)


def _overdue(item: Item, since: dt.date, as_of: dt.date, wait: Window) -> bool:
    """An item dated on or after `since` that has waited longer than `wait` by `as_of` (超過3個月)."""
    limit = as_of - (relativedelta(months=wait.months) if wait.months else dt.timedelta(days=wait.days or 0))
    return item.date is not None and since <= item.date < limit


def _newest(items, before: dt.date) -> dt.date | None:
    dates = [i.date for i in items if i.date is not None and i.date <= before]
    return max(dates) if dates else None


class _Judge:
    def __init__(self, inspection: Inspection, polls: list[Poll], as_of: dt.date, services: bool):
        self.i, self.as_of, self.services = inspection, as_of, services
        self.polls = sorted((p for p in polls if p.at.date() <= as_of), key=lambda p: (p.at, p.id))
        self.static = _words(inspection, "static_columns")
        self.consult = _words(inspection, "consultation_columns")
        self.service = _words(inspection, "service_columns")

    def in_window(self, w: Window) -> list[Poll]:
        start = _window_start(self.as_of, w)
        return [p for p in self.polls if p.at.date() >= start]

    def latest(self) -> Poll | None:
        """The last poll whose home page loaded, within the 2 weeks the home page is watched (a column
        is judged on what the site shows now, not on a poll months old)."""
        return next((p for p in reversed(self.in_window(RECENT)) if p.loaded and p.home is not None), None)

    def finding(self, r: Resolved, measured: float | None, shown: str, result: str, *, deduction: float = 0.0,
                polls: list[int] | None = None, captures: list[str] | None = None) -> Finding:
        c = r.check
        return Finding(c.id, c.name, c.name_en, c.kind, measured, shown, _threshold_words(r), result, deduction,
                       sorted(set(polls or [])), list(dict.fromkeys(s for s in captures or [] if s)),
                       sorted(set(r.settings.values())))

    def judged(self, r: Resolved, value: float, shown: str, **kw) -> Finding:
        if r.check.kind == "deduct":
            take = min(r.cap or 0.0, value * (r.points or 0.0))
            return self.finding(r, value, shown, DEDUCT if take > 0 else PASS, deduction=take, **kw)
        return self.finding(r, value, shown, PASS if _passes(value, r) else VETO, **kw)

    # ---- the measures ---------------------------------------------------------------------------

    def failed_poll_share(self, r: Resolved) -> Finding:
        assert r.window is not None and r.check.timeout_seconds is not None
        polls = self.in_window(r.window)
        failed = [p for p in polls if not p.loaded or p.elapsed >= r.check.timeout_seconds]
        if not polls:
            return self.finding(r, None, "0 polls", INSUFFICIENT)
        share = Fraction(len(failed), len(polls))
        shown = f"{len(failed)}/{len(polls)} = {float(share):.2%}"
        per_day: dict[dt.date, int] = defaultdict(int)
        for p in polls:
            per_day[p.at.date()] += 1
        start = _window_start(self.as_of, r.window)
        days = [start + dt.timedelta(days=k) for k in range((self.as_of - start).days + 1)]
        short = [d for d in days if per_day[d] < (r.check.min_polls_per_day or 0)]
        caps = [pg.capture for p in failed for pg in p.pages if pg.role == "home"]
        f = self.judged(r, float(share), shown, polls=[p.id for p in failed], captures=caps)
        if short and f.result == PASS:  # too few polls: the share does not decide a pass
            f.result = INSUFFICIENT
            f.shown += "; " + ", ".join(f"{d:%m-%d} {per_day[d]} polls" for d in short) + \
                f" (< {r.check.min_polls_per_day} a day)"
        return f

    def days_since_home_update(self, r: Resolved) -> Finding:
        window = r.window or Window(days=int(r.threshold or 0))
        polls = [p for p in self.in_window(window) if p.loaded and p.home is not None]
        if not polls:
            return self.finding(r, None, "no poll loaded the home page in 14 days", INSUFFICIENT)
        last = polls[-1]
        nav_only = not last.home.items  # type: ignore[union-attr]
        seen: list[tuple[dt.date, Poll, Page]] = []
        for p in polls:
            pages = p.columns if nav_only else [p.home]
            for pg in pages:
                if pg is not None and pg.loaded and (d := _newest(pg.items, p.at.date())) is not None:
                    seen.append((d, p, pg))
        where = "二级页面 second-level pages" if nav_only else "首页 home page"
        if not seen:
            return self.judged(r, float("inf"), f"{where}: no dated item", polls=[last.id],
                               captures=[pg.capture for pg in last.pages] if nav_only else [last.home.capture])  # type: ignore[union-attr]
        newest, p, pg = max(seen, key=lambda s: (s[0], s[1].at))
        days = (self.as_of - newest).days
        return self.judged(r, float(days), f"{where}: {days} days (newest {newest})", polls=[p.id, last.id],
                           captures=[pg.capture])

    def _counted(self, r: Resolved, pick: Callable[[Poll], list[Page]]) -> Finding:
        """A count of the latest poll's columns that `pick` chooses, with their captures (none chosen:
        the home page's, what was looked at)."""
        last = self.latest()
        if last is None:
            return self.finding(r, None, "no poll loaded the home page in 14 days", INSUFFICIENT)
        found = pick(last)
        shown = f"{len(found)}: " + "、".join(c.name for c in found) if found else "0"
        return self.judged(r, float(len(found)), shown, polls=[last.id],
                           captures=[c.capture for c in found] or [last.home.capture])  # type: ignore[union-attr]

    def _stale(self, groups, columns: list[Page]) -> list[Page]:
        out = []
        for c in columns:
            if not c.loaded or not c.items:
                continue  # a blank column is counted as blank, not again as not updated
            for g in groups:
                if _matches(c.name, [normalise(w) for w in g.words]):
                    newest = _newest(c.items, self.as_of)
                    if newest is None or newest < _window_start(self.as_of, g.window):
                        out.append(c)
                    break
        return out

    def stale_columns(self, r: Resolved) -> Finding:
        return self._counted(r, lambda last: self._stale(r.check.columns or [], last.columns))

    def long_stale_columns(self, r: Resolved) -> Finding:
        assert r.window is not None
        return self._counted(r, lambda last: self._stale(
            [_AnyColumn(r.window)], [c for c in last.columns if not _matches(c.name, self.static)]))  # type: ignore[arg-type]

    def blank_columns(self, r: Resolved) -> Finding:
        return self._counted(r, lambda last: [c for c in last.columns if c.loaded and not c.items])

    def consultation_channels(self, r: Resolved) -> Finding:
        return self._counted(r, lambda last: [c for c in last.columns if c.loaded and _matches(c.name, self.consult)])

    def _down(self, r: Resolved, service: bool) -> Finding:
        return self._counted(r, lambda last: [c for c in last.columns
                                              if not c.loaded and _matches(c.name, self.service) == service])

    def broken_columns(self, r: Resolved) -> Finding:
        return self._down(r, service=False)

    def service_columns_down(self, r: Resolved) -> Finding:
        return self._down(r, service=True)

    def unanswered_messages(self, r: Resolved) -> Finding:
        """Messages of the past `window` in the consultation columns (the first group whose words a
        column's name has) still marked unanswered (setting `unanswered_words`) after longer than the
        group's window (3 months), as the latest poll lists them."""
        last = self.latest()
        if last is None:
            return self.finding(r, None, "no poll loaded the home page in 14 days", INSUFFICIENT)
        assert r.window is not None
        words, since = _words(self.i, "unanswered_words"), _window_start(self.as_of, r.window)
        late: list[tuple[Page, Item]] = []
        for c in last.columns:
            group = next((g for g in r.check.columns or [] if _matches(c.name, [normalise(w) for w in g.words])), None)
            if c.loaded and group is not None:
                late += [(c, i) for i in c.items if _overdue(i, since, self.as_of, group.window) and _matches(i.beside, words)]
        names = list(dict.fromkeys(c.name for c, _ in late))
        return self.judged(r, float(len(late)), f"{len(late)}: " + "、".join(names) if late else "0", polls=[last.id],
                           captures=[c.capture for c, _ in late] or [last.home.capture])  # type: ignore[union-attr]

    def not_observed(self, r: Resolved) -> Finding:
        return self.finding(r, None, "not observable from polls: checked by hand", NOT_OBSERVED)

    def run(self) -> Judgement:
        findings = []
        for r in self.i.checks:
            if r.check.services and not self.services:
                findings.append(self.finding(r, None, "no public services (without_services)", NOT_APPLICABLE))
                continue
            findings.append(getattr(self, r.check.measure)(r))
        h = self.i.header
        out_of = h.total if self.services else h.total - h.services_points
        deductions = sum(f.deduction for f in findings)
        score = round(max(0.0, out_of - deductions) * h.total / out_of, 2)
        vetoes = [f.check for f in findings if f.result == VETO]
        short = any(f.result == INSUFFICIENT for f in findings)
        verdict = FAILED if vetoes or score < h.fail_below else UNDECIDED if short else QUALIFIED
        return Judgement(findings, out_of, deductions, score, verdict, vetoes)


@dataclass(frozen=True)
class _AnyColumn:
    """Every column, one window (應更新但長期未更新)."""

    window: Window
    words: tuple[str, ...] = ("",)


def earliest(inspection: Inspection, as_of: dt.date) -> dt.date:
    """The first day whose polls any check reads (older polls decide nothing as of `as_of`)."""
    windows = [RECENT] + [r.window or Window(days=int(r.threshold or 1)) for r in inspection.checks
                          if r.check.measure in ("failed_poll_share", "days_since_home_update")]
    return min(_window_start(as_of, w) for w in windows)


def judge(inspection: Inspection, polls: list[Poll], as_of: dt.date, *, services: bool = True) -> Judgement:
    """Judge one site from its polls up to `as_of` (a local date); `services`: the body has public
    services (a department without them is judged out of total − services_points, scaled)."""
    return _Judge(inspection, polls, as_of, services).run()
