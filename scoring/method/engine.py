"""The scoring pipeline (docs/method.md §3–4): items → findings → credits → earned points → scores, ranks,
grades, gaps.

Each step is a pure function of DataFrames; `score` runs them all and keeps every table so any
point can be traced to the obligation and the evidence behind it. Deadline and periodic items (every
body × every period: tens of millions nationally) are counted per body rather than listed when
scoring; their findings are listed when asked for (`Scorecard.findings`) and give the same credits.
The hot path works on integer codes (bodies, obligations, rules, item labels) so national-scale
evidence scores in seconds, and a points change re-scores from `credits` alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from scoring.method import LOST
from scoring.method.compiled import Compiled, compiled
from scoring.method.kinds import MODULES, named
from scoring.method.kinds.base import (
    NAT,
    NEVER,
    OUTCOMES,
    SHORTFALLS,
    Block,
    Coded,
    Collector,
    Judging,
)
from scoring.method.rules import assemble, expand, label_codes
from scoring.method.scheme import Scheme

FINDING_COLUMNS = ["body", "obligation", "rule", "item", "due", "published_at", "outcome", "credit",
                   "deduction", "value", "kind", "rule_no", "rule_id", "weight"]


def end_of(day: dt.date) -> pd.Timestamp:
    """The last instant of a day: the assessment date counts whole."""
    return pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def _codes(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Codes of a column's values in `index` (-1 where absent), computed once per distinct value."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.cat.categories.equals(index):
        return values.cat.codes.to_numpy().astype(np.int64)
    codes, uniques = pd.factorize(values)
    out = np.full(len(codes), -1, dtype=np.int64)
    if len(uniques):
        where = index.get_indexer(pd.Index(uniques).astype(str))
        valid = codes >= 0
        out[valid] = where[codes[valid]]
    return out


def _evidence_items(evidence: pd.DataFrame, labels: pd.Index) -> np.ndarray:
    """The item code each evidence row speaks to: `deadline`, its period, or `event/step`
    (worked out once per distinct period; event rows, which are few, one by one)."""
    codes, uniques = pd.factorize(evidence["period"])
    names = pd.Index(uniques).astype(str)
    mapped = labels.get_indexer(names.where(names != "", "deadline")) if len(names) else np.array([], np.int64)
    out = np.full(len(codes), -1, dtype=np.int64)
    valid = codes >= 0
    out[valid] = mapped[codes[valid]]
    checks = ((evidence["event"] == "") & (evidence["step"] != "")).to_numpy()
    if checks.any():  # a check of a rubric names its item in `step`
        found = labels.get_indexer(evidence.loc[checks, "step"].astype(str))
        out[checks] = np.where(found >= 0, found, out[checks])
    events = (evidence["event"] != "").to_numpy()
    if events.any():
        text = evidence.loc[events, "event"].astype(str) + "/" + evidence.loc[events, "step"].astype(str)
        out[events] = labels.get_indexer(text)
    return out


def _code(evidence: pd.DataFrame, items: pd.DataFrame) -> Coded:
    ob = _codes(evidence["obligation"], items["obligation"].cat.categories)
    item = _evidence_items(evidence, items["item"].cat.categories)
    return Coded(
        body=_codes(evidence["body"], items["body"].cat.categories),
        ob=ob,
        item=item,
        published=evidence["published_at"].to_numpy(dtype="datetime64[ns]").view(np.int64),
        value=evidence["value"].to_numpy(dtype=float),
        plain=(evidence["event"] == "").to_numpy(),
        check=((evidence["event"] == "") & (evidence["step"] != "")).to_numpy())


def _judge(items: pd.DataFrame, coded: Coded, scheme: Scheme, as_of: dt.date) -> pd.DataFrame:
    rules = compiled(scheme).rules
    j = Judging(items, coded, rules, pd.Timestamp(scheme.scheme.period.start).value, end_of(as_of).value)
    rule_of_item, kind_of_rule = items["rule_id"].to_numpy(), rules["kind"].to_numpy()
    by_judge: dict[object, list[str]] = {}
    for kind in dict.fromkeys(rules["kind"]):
        by_judge.setdefault(MODULES[kind].judge, []).append(kind)
    # which items each judging function takes: decided per rule, then taken per item (no string compare
    # per item: a national scheme has a million items)
    parts = [fn(j, np.isin(kind_of_rule, kinds)[rule_of_item]) for fn, kinds in by_judge.items()]  # type: ignore[operator]
    rows = np.concatenate([p.rows for p in parts]) if parts else np.array([], np.int64)
    f = items.iloc[rows].reset_index(drop=True)
    r = f["rule_id"].to_numpy()
    published = np.concatenate([p.published for p in parts]) if parts else np.array([], np.int64)
    f["published_at"] = pd.to_datetime(np.where(published == NAT, np.datetime64("NaT", "ns"),
                                                 published.astype("datetime64[ns]")))
    outcome = np.concatenate([p.outcome for p in parts]) if parts else np.array([], np.int8)
    f["outcome"] = pd.Categorical.from_codes(outcome.astype(np.int8), categories=OUTCOMES)
    f["credit"] = np.concatenate([p.credit for p in parts]) if parts else np.array([])
    deduction = np.concatenate([p.deduction for p in parts]) if parts else np.array([])
    f["deduction"] = np.where((rules["mode"] == "deduction").to_numpy()[r], deduction, 0.0)
    f["value"] = np.concatenate([p.value for p in parts]) if parts else np.array([])
    for column, name in (("rule", "ref"), ("kind", "kind")):  # coded per rule, then taken per finding
        labels = pd.Index(sorted(set(rules[name])))
        f[column] = pd.Categorical.from_codes(labels.get_indexer(rules[name])[r], categories=labels)
    return f[FINDING_COLUMNS]  # in item order; `sort_findings` orders them for reading


def sort_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in reading order: body, obligation, rule, due, item."""
    order = np.lexsort((findings["item"].cat.codes, findings["due"].to_numpy(), findings["rule_no"].to_numpy(),
                        findings["obligation"].cat.codes, findings["body"].cat.codes))
    return findings.iloc[order].reset_index(drop=True)


@dataclass
class _Sums:
    """What credits are made of: per (body, rule) Σ weight and Σ weight × credit of its findings, per
    (body, obligation) Σ deductions and whether any item fell short. Dense arrays: bodies × rules and
    bodies × obligations."""

    n: np.ndarray
    credit: np.ndarray
    deducted: np.ndarray
    missing: np.ndarray

    @classmethod
    def of(cls, findings: pd.DataFrame, tables: Compiled) -> _Sums:
        n_rules, n_obs = len(tables.rules), len(tables.obligations)
        size = len(tables.bodies) * n_rules
        b = findings["body"].cat.codes.to_numpy(np.int64)
        key = b * n_rules + findings["rule_id"].to_numpy(np.int64)
        pair = b * n_obs + findings["obligation"].cat.codes.to_numpy(np.int64)
        weight = findings["weight"].to_numpy(float)  # an item's weight in its rule's mean (1; a check: its points)
        bad = findings["outcome"].isin(SHORTFALLS).to_numpy()
        return cls(np.bincount(key, weights=weight, minlength=size).astype(float),
                   np.bincount(key, weights=findings["credit"].to_numpy(float) * weight, minlength=size).astype(float),
                   np.bincount(pair, weights=findings["deduction"].to_numpy(float),
                               minlength=len(tables.bodies) * n_obs).astype(float),
                   np.bincount(pair, weights=bad, minlength=len(tables.bodies) * n_obs) > 0)

    def credits(self, tables: Compiled) -> pd.DataFrame:
        """Per assessed (body, obligation): the mean over its rules of each rule's mean credit, the sum
        of deductions, whether any item is missing (for veto); N/A (NaN) where no rule has findings."""
        bodies, obs, rules = tables.bodies, tables.obligations, tables.rules
        n_rules = len(rules)
        has_rule = self.n > 0
        rule_mean = np.divide(self.credit, self.n, out=np.zeros_like(self.credit), where=has_rule)
        rule_ob = obs.get_indexer(rules["obligation"])
        rb, rr = np.divmod(np.arange(len(bodies) * n_rules), n_rules)
        pair_of_rule = rb * len(obs) + rule_ob[rr]
        n_pairs = len(bodies) * len(obs)
        rules_scored = np.bincount(pair_of_rule, weights=has_rule, minlength=n_pairs)
        mean = np.divide(np.bincount(pair_of_rule, weights=rule_mean, minlength=n_pairs), rules_scored,
                         out=np.full(n_pairs, np.nan), where=rules_scored > 0)
        assessed = tables.assessed_pairs
        return pd.DataFrame({
            "body": pd.Categorical.from_codes(assessed // len(obs), categories=bodies),
            "obligation": pd.Categorical.from_codes(assessed % len(obs), categories=obs),
            "credit": mean[assessed], "deducted": self.deducted[assessed], "has_missing": self.missing[assessed]})


def credits(findings: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per assessed (body, obligation): the mean over its rules of each rule's mean credit, the sum of
    deductions, whether any item is missing (for veto), and whether it has findings at all (else N/A).
    Points do not enter: a points change re-scores from this table alone."""
    tables = compiled(scheme)
    return _Sums.of(findings, tables).credits(tables)


def _grid_sums(sums: _Sums, grids: list[Block], coded: Coded, tables: Compiled, remap: np.ndarray,
               n_item: int, as_of_end: int, aliases: list[tuple[int, int, int]]) -> None:
    """Add the findings of grid blocks (deadline and periodic rules: every body × every label) to
    `sums` without listing them. Per obligation, the earliest publication of each (body, label) is a
    dense array over the bodies with a publication × its labels; per rule, the items due by `as_of`
    are on time (credit 1), late (`late_credit`, `deduct_late`) or missing (0, `deduct_missing`) by
    comparing that array's columns with their dues — the numbers `timed.judge` gives item by item
    (tests/test_engine_summary.py). `aliases` (rule, label, target): a rule's merged periods, whose
    publications count for its target item."""
    rules = tables.rules
    n_body, n_ob, n_rules = len(tables.bodies), len(tables.obligations), len(rules)
    ob_of_rule = tables.obligations.get_indexer(rules["obligation"])
    late_credit, deduct_late = rules["late_credit"].to_numpy(float), rules["deduct_late"].to_numpy(float)
    deduct_missing = rules["deduct_missing"].to_numpy(float)
    deduction_mode = (rules["mode"] == "deduction").to_numpy()
    merged: dict[int, list[tuple[int, int]]] = {}
    for r, src, tgt in aliases:
        merged.setdefault(r, []).append((src, tgt))
    by_ob: dict[int, list[tuple[Block, np.ndarray, np.ndarray]]] = {}
    for g in grids:
        due = g.dues.view(np.int64)
        keep = due <= as_of_end
        if keep.any() and len(g.bodies):  # else nothing of this rule is due yet: no finding
            by_ob.setdefault(int(ob_of_rule[g.rule_id]), []).append((g, remap[g.labels][keep], due[keep]))
    if not by_ob:
        return
    ok = ((coded.published != NAT) & (coded.published <= as_of_end) & (coded.body >= 0) & (coded.item >= 0)
          & np.isin(coded.ob, list(by_ob)))
    at = np.flatnonzero(ok)
    at = at[np.argsort(coded.ob[at].astype(np.int16 if n_ob < 1 << 15 else np.int64), kind="stable")]
    bounds = np.searchsorted(coded.ob[at], np.arange(n_ob + 1))
    local = np.full(n_item, -1, dtype=np.int64)
    for o, blocks in by_ob.items():
        rows = at[bounds[o]:bounds[o + 1]]
        sources = [src for g, _, _ in blocks for src, _ in merged.get(g.rule_id, [])]
        labels = np.unique(np.concatenate([lab for _, lab, _ in blocks] + [np.array(sources, np.int64)]))  # due
        local[labels] = np.arange(len(labels))
        col = local[coded.item[rows]]
        rows, col = rows[col >= 0], col[col >= 0]
        # bodies with a publication for this obligation (a scheme's other bodies have all theirs missing)
        seen = np.flatnonzero(np.bincount(coded.body[rows], minlength=n_body))
        row_of_body = np.full(n_body, -1, dtype=np.int64)
        row_of_body[seen] = np.arange(len(seen))
        flat = np.full(len(seen) * len(labels), NEVER, dtype=np.int64)
        np.minimum.at(flat, row_of_body[coded.body[rows]] * len(labels) + col, coded.published[rows])
        earliest = flat.reshape(len(seen), len(labels))
        for g, lab, due in blocks:
            at_row = row_of_body[g.bodies]
            has = at_row >= 0
            first = earliest[at_row[has]][:, local[lab]]  # assessed bodies with a publication × items due
            for src, tgt in merged.get(g.rule_id, []):  # a merged-away period's publication counts for its item
                column = np.flatnonzero(lab == tgt)
                if len(column):
                    first[:, column[0]] = np.minimum(first[:, column[0]], earliest[at_row[has], local[src]])
            n_on, n_late = np.zeros(len(g.bodies), np.int64), np.zeros(len(g.bodies), np.int64)
            n_on[has] = (first <= due).sum(axis=1)
            n_late[has] = (first != NEVER).sum(axis=1) - n_on[has]
            n_missing = len(lab) - n_on - n_late
            r, at_rule = g.rule_id, g.bodies.astype(np.int64) * n_rules + g.rule_id
            np.add.at(sums.n, at_rule, float(len(lab)))
            np.add.at(sums.credit, at_rule, n_on + n_late * late_credit[r])
            pair = g.bodies.astype(np.int64) * n_ob + o
            if deduction_mode[r]:
                np.add.at(sums.deducted, pair, n_late * deduct_late[r] + n_missing * deduct_missing[r])
            sums.missing[pair[n_missing > 0]] = True
        local[labels] = -1


def earn(credit: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Earned points per (body, obligation) (docs/method.md §4). Proportional: p × mean over rules of each
    rule's mean credit. Deduction: max(0, p − Σ deductions). No finding at all: N/A."""
    by_id = {o.id: o for o in scheme.obligations}
    obs = credit["obligation"].cat.categories
    table = pd.DataFrame([(by_id[i].points, by_id[i].mode == "deduction", by_id[i].veto, by_id[i].bonus)
                          for i in obs], columns=["points", "deduction", "veto", "bonus"])
    code = credit["obligation"].cat.codes.to_numpy()
    points = table["points"].to_numpy()[code]
    scored = ~np.isnan(credit["credit"].to_numpy())
    earned = np.where(table["deduction"].to_numpy()[code], np.maximum(0.0, points - credit["deducted"].to_numpy()),
                      points * np.nan_to_num(credit["credit"].to_numpy()))
    return pd.DataFrame({
        "body": credit["body"], "obligation": credit["obligation"], "points": points,
        "mode": pd.Categorical.from_codes(table["deduction"].to_numpy()[code].astype(np.int8),
                                          categories=["proportional", "deduction"]),
        "veto": table["veto"].to_numpy()[code], "bonus": table["bonus"].to_numpy()[code],
        "has_missing": credit["has_missing"].to_numpy() & scored,
        "earned": np.where(scored, earned, 0.0),
        "status": pd.Categorical.from_codes((~scored).astype(np.int8), categories=["scored", "na"])})


def _rank(scores: pd.Series) -> pd.Series:
    return scores.round(2).rank(method="min", ascending=False).astype("Int64")


def total(earned: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per body: base, bonus, score (with county roll-up), grade with veto, rank within kind."""
    h = scheme.scheme
    tables = compiled(scheme)
    bodies = tables.bodies
    code = earned["body"].cat.codes.to_numpy()
    scored = (earned["status"] == "scored").to_numpy()
    bonus_ob = earned["bonus"].to_numpy()
    base_rows = scored & ~bonus_ob
    e_sum = np.bincount(code[base_rows], weights=earned["earned"].to_numpy()[base_rows], minlength=len(bodies))
    p_sum = np.bincount(code[base_rows], weights=earned["points"].to_numpy()[base_rows], minlength=len(bodies))
    s = tables.body_table.assign(points_base=np.where(p_sum > 0, p_sum, np.nan))
    s["base"] = 100 * e_sum / s["points_base"]
    bonus = np.bincount(code[scored & bonus_ob], weights=earned["earned"].to_numpy()[scored & bonus_ob],
                        minlength=len(bodies))
    s["bonus"] = bonus
    if h.bonus is not None:
        s["bonus"] = np.where(s["base"] >= h.bonus.gate, np.minimum(s["bonus"], h.bonus.cap), 0.0)
    s["own"] = s["base"] + s["bonus"]
    s["score"] = s["own"]
    if h.rollup is not None:
        w = h.rollup.counties
        county_mean = s[s["kind"] == "county"].groupby("parent")["own"].mean()
        has = s.index.isin(county_mean.index) & (s["kind"] == "city")
        s.loc[has, "score"] = (1 - w) * s.loc[has, "own"] + w * county_mean.reindex(s.index[has]).to_numpy()
    vetoed = earned[earned["veto"].to_numpy() & earned["has_missing"].to_numpy()]
    vetoes = vetoed["obligation"].astype(str).groupby(vetoed["body"].astype(str)).agg(lambda x: ", ".join(sorted(x)))
    s["veto"] = vetoes.reindex(s.index).astype(object).fillna("")
    bands = [(g.min, g.name) for g in h.grades]
    grade = np.full(len(s), "", dtype=object)
    for lo, name in reversed(bands):
        grade = np.where(s["score"].to_numpy() >= lo - 1e-9, name, grade)
    s["grade"] = np.where(s["veto"] != "", bands[-1][1], grade)
    s["rank"] = s.groupby("kind")["score"].transform(_rank).astype("Int64")
    s = s.rename_axis("body").reset_index()
    order = {"city": 0, "department": 1, "county": 2}
    s = s.sort_values(["kind", "rank", "body"], key=lambda c: c.map(order) if c.name == "kind" else c,
                      ignore_index=True, na_position="last")
    return s[["body", "name", "kind", "parent", "score", "rank", "grade", "base", "bonus", "own",
              "veto", "points_base"]]


def gaps(earned: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Points lost per (body, obligation) as score points: 100 × (p − earned) / Σp (bonus and N/A: 0)."""
    base = scores.set_index("body")["points_base"].reindex(earned["body"].cat.categories).to_numpy()
    lost = (earned["status"] == "scored").to_numpy() & ~earned["bonus"].to_numpy()
    pb = base[earned["body"].cat.codes.to_numpy()]
    g = earned.copy()
    g["gap"] = np.where(lost, 100 * (g["points"].to_numpy() - g["earned"].to_numpy()) / pb, 0.0)
    return g




@dataclass(frozen=True)
class Scorecard:
    """The named tables of one scoring run; every number in `scores` is traceable to `findings`.

    Scoring counts the items of deadline and periodic rules instead of listing them (a daily rule over
    21,700 bodies is 7.9M items); `items` and `findings`, every item's finding, are worked out when
    first asked for — a ranking never needs them — and give the same credits."""

    scheme: Scheme
    as_of: dt.date
    credits: pd.DataFrame      # per (body, obligation), independent of points
    obligations: pd.DataFrame  # earned points and gaps per (body, obligation)
    scores: pd.DataFrame       # per body
    evidence: pd.DataFrame = field(repr=False)
    blocks: Collector = field(repr=False)
    listed: pd.DataFrame = field(repr=False)  # the findings of every rule whose items were listed

    @cached_property
    def items(self) -> pd.DataFrame:
        return assemble(compiled(self.scheme), self.blocks)

    @cached_property
    def findings(self) -> pd.DataFrame:
        return _judge(self.items, _code(self.evidence, self.items), self.scheme, self.as_of)

    def findings_of_body(self, body: str) -> pd.DataFrame:
        """One body's findings, judged for it alone (the same rows as in `findings`, in item order):
        a gaps page need not list the nation's items."""
        if "findings" in self.__dict__:
            f = self.findings
            return f[(f["body"] == body).to_numpy()].reset_index(drop=True)
        tables = compiled(self.scheme)
        code = tables.bodies.get_indexer([body])[0]
        items = assemble(tables, self.blocks, only=code)
        evidence = self.evidence[(self.evidence["body"] == body).to_numpy()]
        return _judge(items, _code(evidence, items), self.scheme, self.as_of)

    def findings_of_kind(self, *kinds: str) -> pd.DataFrame:
        """The findings of the rules of these kinds (from the listed ones when none of them is counted)."""
        f = self.findings if set(kinds) & set(named(lambda k: k.counted)) else self.listed
        return f[f["kind"].isin(kinds).to_numpy()].reset_index(drop=True)

    def gaps_of(self, body: str) -> pd.DataFrame:
        """A body's gaps (差距), largest first."""
        g = self.obligations[(self.obligations["body"] == body) & (self.obligations["gap"] > LOST)]
        return g.sort_values(["gap", "obligation"], ascending=[False, True], ignore_index=True)

    def findings_of(self, body: str, obligation: str) -> pd.DataFrame:
        f = self.findings_of_body(body)
        return sort_findings(f[(f["obligation"] == obligation).to_numpy()].reset_index(drop=True))


def rescore(scheme: Scheme, credit: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earned points, gaps and scores from a credits table (or findings): a points change needs no
    new findings."""
    if "outcome" in credit:
        credit = credits(credit, scheme)
    earned = earn(credit, scheme)
    scores = total(earned, scheme)
    return gaps(earned, scores), scores


def score(scheme: Scheme, evidence: pd.DataFrame, as_of: dt.date | None = None) -> Scorecard:
    """Score every body of a scheme from validated evidence, judged at `as_of`.

    Rules whose items are listed (counts, ratings, shares, checklists, requests, responses) are judged
    item by item; deadline and periodic rules are counted per body (`_grid_sums`)."""
    as_of = scheme.assessment_date(as_of)  # refused outside what the scheme can mean
    tables = compiled(scheme)
    blocks = expand(scheme, evidence)
    items = assemble(tables, blocks, grids=False)
    coded = _code(evidence, items)
    listed = _judge(items, coded, scheme, as_of)
    sums = _Sums.of(listed, tables)
    grids = [b for b in blocks.parts if b.grid]
    if grids:
        _grid_sums(sums, grids, coded, tables, label_codes(blocks)[1], len(items["item"].cat.categories),
                   end_of(as_of).value, items.attrs["aliases"])
    del coded, items
    credit = sums.credits(tables)
    obligations, scores = rescore(scheme, credit)
    obligations = obligations.astype({"body": str, "obligation": str})  # small: plain text for readers
    return Scorecard(scheme, as_of, credit, obligations, scores, evidence, blocks, listed)
