"""What every rule kind shares: outcomes, the coded evidence and items a kind judges, due times,
and `Kind`, what a kind declares about itself.

A rule kind is one module of this package with two functions: `expand` (the items a rule expects
from each body it assesses, with their due times) and `judge` (each item's outcome, credit and
deduction from the coded evidence, vectorised over all items of the kinds sharing that function),
and `KIND`, a `Kind`: the evidence it takes, its template example, its words, how an appeal and the
robustness draws treat it. Intake, templates, the report, the cycle's appeals, robustness and the
quality checks read these declarations (`scoring.method.kinds.KINDS`); none lists kinds by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

import numpy as np
import pandas as pd

from scoring.method.calendar import WorkCalendar, due_end_of_day
from scoring.method.compiled import Compiled
from scoring.method.scheme import Obligation, Scheme, Window, _Rule

NAT = np.iinfo(np.int64).min  # int64 nanoseconds of NaT
NEVER = np.iinfo(np.int64).max


class Outcome(IntEnum):
    """The outcome of one finding (its code is stored in the findings' categorical)."""

    ON_TIME = 0   # time item: earliest evidence at or before due
    LATE = 1      # after due, at or before as_of
    MISSING = 2   # no evidence by as_of (a rating with no grade, too)
    MET = 3       # count: at least `min` publications
    SHORT = 4     # count: fewer
    RATED = 5     # rating: graded
    PASS = 6      # share: at least the minimum
    FAIL = 7      # share: below it, or no value

    @property
    def label(self) -> str:
        return self.name.lower()


OUTCOMES = [o.label for o in Outcome]


@dataclass(frozen=True)
class Values:
    """The `value` a kind's evidence rows carry, and the words that refuse one out of range."""

    low: float
    high: float
    refusal: str                 # said of a value out of range (row problem, column `value`)
    low_open: bool = False       # the low end itself is refused (a share of 0)
    whole: bool = False          # only `low` or `high` themselves (a check: 1 met, 0 not met)
    steps: bool = False          # only rows naming a step carry it (a rubric's check id)

    def refuses(self, number: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            if self.whole:
                return ~np.isin(number, [self.low, self.high])
            below = number <= self.low if self.low_open else number < self.low
            return below | (number > self.high)


@dataclass(frozen=True)
class Kind:
    """Everything gongkai needs to know of a rule kind besides expanding and judging its items."""

    name: str
    words: tuple[str, str]       # the reader's word for the kind and its items: (简体中文, English)
    rule: type[_Rule]            # its rule in a scheme file (a model of scoring.method.scheme's _Rule)
    example: dict[str, str]      # an import template's example row (evidence columns → text)
    values: Values | None = None  # the value its rows carry (None: rows are dated publications)
    # the evidence columns an item label stands for: () the item is the kind itself (one per body),
    # ("period",) a period label, ("event", "step") an event and its step (`E1/release`)
    item_columns: tuple[str, ...] = ()
    # an accepted appeal with a file: "publication" makes it an evidence record (its date given by
    # the evaluator); "value" records nothing (a grade or share is the firm's or evaluator's to give)
    appeal: Literal["publication", "value"] = "publication"
    # robustness draws: "time" varies late credit, "grade" the rating, "fixed" leaves credit as found
    perturb: Literal["time", "grade", "fixed"] = "fixed"
    counted: bool = False        # its items are counted, not listed, when scoring (millions of them)
    outcome_words: dict[str, tuple[str, str]] = field(default_factory=dict)  # an outcome in this kind's words
SHORTFALLS = (Outcome.MISSING.label, Outcome.SHORT.label, Outcome.FAIL.label)  # count as missing for a veto


def due_after(days: np.ndarray, window: Window, cal: WorkCalendar, times: np.ndarray | None = None) -> np.ndarray:
    """Due times after anchors. `days`/`working_days` end at the end of the due day; `hours` run
    from the anchor time (`times`, or the end of the anchor day when the anchor is a day)."""
    days = np.asarray(days, dtype="datetime64[D]")
    if window.days is not None:
        return due_end_of_day(days + np.timedelta64(window.days, "D"))
    if window.working_days is not None:
        return due_end_of_day(cal.add_working_days(days, window.working_days))
    start = (np.asarray(times, dtype="datetime64[ns]") if times is not None
             else (days + np.timedelta64(1, "D")).astype("datetime64[ns]"))
    assert window.hours is not None
    return start + np.timedelta64(int(round(window.hours * 3600)), "s")


@dataclass(frozen=True)
class Block:
    """Items of one rule: per item its body code, label code and due, and `weights` (default 1: an
    item's weight within its rule's mean credit, a check's points in a checklist). A `grid` block is
    every body × every label (`bodies` and `labels`/`dues` kept apart, not multiplied out): the scorer
    counts its items instead of listing them — a daily rule over 21,700 bodies is 7.9M items."""

    bodies: np.ndarray
    rule_id: int
    labels: np.ndarray
    dues: np.ndarray
    weights: np.ndarray | None = None
    grid: bool = False

    def __len__(self) -> int:
        return len(self.bodies) * len(self.labels) if self.grid else len(self.bodies)

    def of_body(self, body: int) -> Block:
        """The items of one body (a body code)."""
        if self.grid:
            return Block(self.bodies[self.bodies == body], self.rule_id, self.labels, self.dues, None, grid=True)
        mine = self.bodies == body
        return Block(self.bodies[mine], self.rule_id, self.labels[mine], self.dues[mine],
                     None if self.weights is None else self.weights[mine])

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(body, label, due) per item; a grid multiplied out body by body."""
        if not self.grid:
            return self.bodies, self.labels, self.dues
        n = len(self.bodies)
        return np.repeat(self.bodies, len(self.labels)), np.tile(self.labels, n), np.tile(self.dues, n)


@dataclass
class Collector:
    """Accumulates coded item blocks from the kinds' `expand`; labels are coded at the end, sorted."""

    parts: list[Block] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    aliases: list[tuple[int, str, str]] = field(default_factory=list)  # (rule id, label, stands for label)

    def alias(self, rule_id: int, label: str, target: str) -> None:
        """For this rule, evidence of `label` speaks to its item `target` (merged periods: a rule's own,
        not its obligation's other rules')."""
        self.label(label)
        self.aliases.append((rule_id, label, target))

    def label(self, text: str) -> int:
        return self.labels.setdefault(text, len(self.labels))

    def add(self, bodies: np.ndarray, rule_id: int, labels: np.ndarray, dues: np.ndarray,
            weights: np.ndarray | None = None) -> None:
        """Items of one rule: per item its body code, label code and due; `weights` (default 1) is
        an item's weight within its rule's mean credit (a check's points in a checklist)."""
        self.parts.append(Block(bodies.astype(np.int32), rule_id, labels.astype(np.int32), dues,
                                None if weights is None else np.asarray(weights, dtype=float)))

    def grid(self, bodies: np.ndarray, rule_id: int, labels: np.ndarray, dues: np.ndarray) -> None:
        """Items of one time rule, one per body and label (due `dues[label]`), weight 1 each."""
        self.parts.append(Block(bodies.astype(np.int32), rule_id, np.asarray(labels).astype(np.int32),
                                np.asarray(dues, dtype="datetime64[ns]"), None, grid=True))


def undated_items(x: Expansion, rule_id: int, bodies: np.ndarray, labels: list[str]) -> None:
    """Items without a due time (counts, ratings, shares): each label once for every body."""
    ids = np.array([x.out.label(s) for s in labels])
    x.out.add(np.repeat(bodies, len(labels)), rule_id, np.tile(ids, len(bodies)),
              np.full(len(bodies) * len(labels), np.datetime64("NaT"), dtype="datetime64[ns]"))


@dataclass(frozen=True)
class Expansion:
    """What a kind's `expand` gets: the scheme, its compiled tables, the evidence (response items
    come from the events in it) and the collector to add items to."""

    scheme: Scheme
    tables: Compiled
    evidence: pd.DataFrame
    out: Collector


def event_rows(x: Expansion, ob: Obligation, rule: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An event-driven rule's evidence rows (of the bodies it assesses) and its events: one row per
    (body, event) with the earliest `event_at` the rows give."""
    ev = x.evidence
    rows = ev[(ev["event"] != "") & (ev["obligation"] == ob.id)]
    rows = rows[rows["body"].isin(x.scheme.assessed(ob, rule))]  # type: ignore[arg-type]
    return rows, rows.groupby(["body", "event"], as_index=False, observed=True)["event_at"].min()


@dataclass(frozen=True)
class Coded:
    """Evidence as integer codes and arrays, aligned with the items' categories."""

    body: np.ndarray
    ob: np.ndarray
    item: np.ndarray
    published: np.ndarray  # int64 ns, NaT as NAT
    value: np.ndarray
    plain: np.ndarray      # no event: feeds deadline and count rules
    check: np.ndarray      # a rubric's check (a step without an event): not a rating or a share


@dataclass(frozen=True)
class Judging:
    """What a kind's `judge` gets besides its items: the coded evidence and the assessment bounds."""

    items: pd.DataFrame    # every item (kinds judge the rows `mask` selects)
    evidence: Coded
    rules: pd.DataFrame    # the compiled rule table
    period_start: int      # ns: the scheme period's first instant
    as_of_end: int         # ns: the last instant of the assessment date

    @property
    def n_body(self) -> int:
        return len(self.items["body"].cat.categories)

    @property
    def n_ob(self) -> int:
        return len(self.items["obligation"].cat.categories)


@dataclass(frozen=True)
class Judged:
    """A kind's findings: for the items at `rows` (positions in the items), aligned arrays."""

    rows: np.ndarray
    published: np.ndarray  # int64 ns, NAT where none
    outcome: np.ndarray    # Outcome codes
    credit: np.ndarray
    deduction: np.ndarray
    value: np.ndarray


def pair_sums(body: np.ndarray, ob: np.ndarray, n_ob: int, n: int, weights: np.ndarray) -> np.ndarray:
    """Σ weights per (body, obligation) pair, as a dense array of n = bodies × obligations."""
    return np.bincount(body * n_ob + ob, weights=weights, minlength=n).astype(float)


def once_items(j: Judging, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For kinds with one item per body and rule: (rows, pair code of each, rule id of each)."""
    rows = np.flatnonzero(mask)
    it = j.items
    pair = (it["body"].cat.codes.to_numpy(np.int64)[rows] * j.n_ob
            + it["obligation"].cat.codes.to_numpy(np.int64)[rows])
    return rows, pair, it["rule_id"].to_numpy()[rows]


def mean_values(j: Judging) -> np.ndarray:
    """The mean `value` per (body, obligation) pair over rows that carry one (NaN where none): the
    mean of several assessors' ratings, or a body's stated share."""
    ev, n = j.evidence, j.n_body * j.n_ob
    valued = (ev.body >= 0) & (ev.ob >= 0) & ~np.isnan(ev.value) & ~ev.check
    total = pair_sums(ev.body[valued], ev.ob[valued], j.n_ob, n, ev.value[valued])
    count = pair_sums(ev.body[valued], ev.ob[valued], j.n_ob, n, np.ones(int(valued.sum())))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def slot_means(j: Judging, mask: np.ndarray) -> np.ndarray:
    """Per item under `mask`: the mean `value` of the evidence rows speaking to that very item (same
    body, obligation and label — a check of a rubric, one period's rating); NaN where none."""
    items, ev = j.items, j.evidence
    rows = np.flatnonzero(mask)
    n_item = len(items["item"].cat.categories)
    it_body = items["body"].cat.codes.to_numpy(np.int64)[rows]
    it_pair = (items["obligation"].cat.codes.to_numpy(np.int64) * n_item + items["item"].cat.codes.to_numpy(np.int64))[rows]
    present = np.bincount(it_pair, minlength=j.n_ob * n_item) > 0
    slot_of = np.cumsum(present) - 1
    n_slots = max(int(present.sum()), 1)
    ok = (ev.body >= 0) & (ev.ob >= 0) & (ev.item >= 0) & ~np.isnan(ev.value)
    ev_pair = ev.ob[ok] * n_item + ev.item[ok]
    match = present[ev_pair]
    key = ev.body[ok][match] * n_slots + slot_of[ev_pair[match]]
    total = np.bincount(key, weights=ev.value[ok][match], minlength=j.n_body * n_slots)
    count = np.bincount(key, minlength=j.n_body * n_slots)
    at = it_body * n_slots + slot_of[it_pair]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count[at] > 0, total[at] / count[at], np.nan)
