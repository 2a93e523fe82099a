"""The scoring pipeline (spec §3–4): items → findings → credits → earned points → scores, ranks,
grades, gaps.

Each step is a pure function of DataFrames; `score` runs them all and keeps every table so any
point can be traced to the obligation and the evidence behind it. The hot path works on integer
codes (bodies, obligations, rules, item labels) so national-scale evidence scores in seconds, and a
points change re-scores from `credits` alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.method.rules import body_ids, body_table, expected_items, obligation_ids, rule_table
from scoring.method.scheme import Scheme

TIME_KINDS = ("deadline", "periodic", "response")
OUTCOMES = ["on_time", "late", "missing", "met", "short", "rated", "pass", "fail"]
FINDING_COLUMNS = ["body", "obligation", "rule", "item", "due", "published_at", "outcome", "credit",
                   "deduction", "value", "kind", "rule_no", "rule_id"]


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
    events = (evidence["event"] != "").to_numpy()
    if events.any():
        text = evidence.loc[events, "event"].astype(str) + "/" + evidence.loc[events, "step"].astype(str)
        out[events] = labels.get_indexer(text)
    return out


NAT = np.iinfo(np.int64).min


def _lookup(found: pd.Series, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of `found` (int64, indexed by key) at `keys`: (values with NaT where absent, hit mask)."""
    pos = found.index.get_indexer(keys)
    hit = pos >= 0
    out = np.full(len(keys), NAT, dtype=np.int64)
    out[hit] = found.to_numpy(dtype=np.int64)[pos[hit]]
    return out, hit


@dataclass(frozen=True)
class _Coded:
    """Evidence as integer codes and arrays, aligned with the items' categories."""

    body: np.ndarray
    ob: np.ndarray
    item: np.ndarray
    published: np.ndarray  # int64 ns, NaT as min
    value: np.ndarray
    plain: np.ndarray      # no event: feeds deadline and count rules


def _code(evidence: pd.DataFrame, items: pd.DataFrame) -> _Coded:
    return _Coded(
        body=_codes(evidence["body"], items["body"].cat.categories),
        ob=_codes(evidence["obligation"], items["obligation"].cat.categories),
        item=_evidence_items(evidence, items["item"].cat.categories),
        published=evidence["published_at"].to_numpy(dtype="datetime64[ns]").view(np.int64),
        value=evidence["value"].to_numpy(dtype=float),
        plain=(evidence["event"] == "").to_numpy())


def _time(items: pd.DataFrame, ev: _Coded, rules: pd.DataFrame, as_of_end: int) -> dict[str, np.ndarray]:
    """Earliest publication per item → on_time / late / missing.

    Every (obligation, item label) pair that some item has gets a slot; the earliest publication
    per (body, slot) is then a dense array filled with np.minimum.at — no hashing or sorting of
    10^7 keys.
    """
    n_item = len(items["item"].cat.categories)
    n_pairs = len(items["obligation"].cat.categories) * n_item
    timed = rules["kind"].isin(TIME_KINDS).to_numpy()[items["rule_id"].to_numpy()]
    due = items["due"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    keep = timed & (due <= as_of_end)
    it_body = items["body"].cat.codes.to_numpy(np.int64)[keep]
    it_pair = (items["obligation"].cat.codes.to_numpy(np.int64) * n_item + items["item"].cat.codes.to_numpy(np.int64))[keep]
    present = np.bincount(it_pair, minlength=n_pairs) > 0
    slot_of = np.cumsum(present) - 1
    n_slots = max(int(present.sum()), 1)
    ok = (ev.published != NAT) & (ev.published <= as_of_end) & (ev.body >= 0) & (ev.ob >= 0) & (ev.item >= 0)
    ev_pair = ev.ob[ok] * n_item + ev.item[ok]
    match = present[ev_pair]
    none = np.iinfo(np.int64).max
    earliest = np.full(len(items["body"].cat.categories) * n_slots, none, dtype=np.int64)
    np.minimum.at(earliest, ev.body[ok][match] * n_slots + slot_of[ev_pair[match]], ev.published[ok][match])
    published = earliest[it_body * n_slots + slot_of[it_pair]]
    missing = published == none
    published[missing] = NAT
    on_time = ~missing & (published <= due[keep])
    r = items["rule_id"].to_numpy()[keep]
    credit = np.where(missing, 0.0, np.where(on_time, 1.0, rules["late_credit"].to_numpy()[r]))
    if (rules["mode"] == "deduction").any():
        deduction = np.where(missing, rules["deduct_missing"].to_numpy()[r],
                             np.where(on_time, 0.0, rules["deduct_late"].to_numpy()[r]))
    else:
        deduction = np.zeros(len(r))
    return {"keep": keep, "published": published,
            "outcome": np.where(missing, 2, np.where(on_time, 0, 1)).astype(np.int8),
            "credit": credit, "deduction": deduction, "value": np.full(len(r), np.nan)}


def _pair_sums(body: np.ndarray, ob: np.ndarray, n_ob: int, n: int, weights: np.ndarray) -> np.ndarray:
    return np.bincount(body * n_ob + ob, weights=weights, minlength=n).astype(float)


def _once(items: pd.DataFrame, ev: _Coded, rules: pd.DataFrame, start: int, as_of_end: int) -> dict[str, np.ndarray]:
    """Count, rating and share items: one per body and rule, judged from per-pair aggregates."""
    n_body, n_ob = len(items["body"].cat.categories), len(items["obligation"].cat.categories)
    n = n_body * n_ob
    once = rules["kind"].isin(("count", "rating", "share")).to_numpy()
    keep = once[items["rule_id"].to_numpy()]
    it = items[keep]
    pair = it["body"].cat.codes.to_numpy(np.int64) * n_ob + it["obligation"].cat.codes.to_numpy(np.int64)
    known = (ev.body >= 0) & (ev.ob >= 0)
    dated = known & ev.plain & (ev.published != NAT) & (ev.published >= start) & (ev.published <= as_of_end)
    counts = _pair_sums(ev.body[dated], ev.ob[dated], n_ob, n, np.ones(int(dated.sum())))
    first = pd.Series(ev.published[dated]).groupby(ev.body[dated] * n_ob + ev.ob[dated]).min()
    valued = known & ~np.isnan(ev.value)
    v_sum = _pair_sums(ev.body[valued], ev.ob[valued], n_ob, n, ev.value[valued])
    v_n = _pair_sums(ev.body[valued], ev.ob[valued], n_ob, n, np.ones(int(valued.sum())))
    r = it["rule_id"].to_numpy()
    k = rules["kind"].to_numpy()[r]  # few rows: one per body and once-rule
    minimum, d_missing = rules["min"].to_numpy()[r], rules["deduct_missing"].to_numpy()[r]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(v_n[pair] > 0, v_sum[pair] / v_n[pair], np.nan)
    value = np.where(k == "count", counts[pair], mean)
    none = np.isnan(value)
    is_count, is_rating = k == "count", k == "rating"
    met = is_count & (value >= minimum)
    passed = ~is_count & ~is_rating & ~none & (value >= minimum - 1e-12)
    outcome = np.select([is_count & met, is_count, is_rating & none, is_rating, passed], [3, 4, 2, 5, 6], 7)
    with np.errstate(invalid="ignore"):
        credit = np.select([is_count, none, is_rating, passed], [np.minimum(1.0, value / minimum), 0.0, value / 100, 1.0], 0.0)
    deduction = np.select([is_count & met, is_rating & ~none], [0.0, d_missing * (1 - value / 100)],
                          np.where(credit >= 1, 0.0, d_missing))
    first_at, _ = _lookup(first, pair)
    published = np.where(is_count, first_at, NAT)
    return {"keep": keep, "published": published, "outcome": outcome, "credit": credit,
            "deduction": deduction, "value": value}


def judge(items: pd.DataFrame, evidence: pd.DataFrame, scheme: Scheme, as_of: dt.date) -> pd.DataFrame:
    """One finding per item due by `as_of`: outcome, credit (proportional) and deduction (扣分制)."""
    rules = rule_table(scheme)
    as_of_end = end_of(as_of).value
    ev = _code(evidence, items)
    parts = [_time(items, ev, rules, as_of_end),
             _once(items, ev, rules, pd.Timestamp(scheme.scheme.period.start).value, as_of_end)]
    rows = np.concatenate([np.flatnonzero(p["keep"]) for p in parts])
    f = items.iloc[rows].reset_index(drop=True)
    r = f["rule_id"].to_numpy()
    published = np.concatenate([p["published"] for p in parts])
    f["published_at"] = pd.to_datetime(np.where(published == NAT, np.datetime64("NaT", "ns"),
                                                 published.astype("datetime64[ns]")))
    f["outcome"] = pd.Categorical.from_codes(np.concatenate([p["outcome"] for p in parts]).astype(np.int8),
                                             categories=OUTCOMES)
    f["credit"] = np.concatenate([p["credit"] for p in parts])
    deduction = np.concatenate([p["deduction"] for p in parts])
    f["deduction"] = np.where((rules["mode"] == "deduction").to_numpy()[r], deduction, 0.0)
    f["value"] = np.concatenate([p["value"] for p in parts])
    for column, name in (("rule", "ref"), ("kind", "kind")):  # coded per rule, then taken per finding
        labels = pd.Index(sorted(set(rules[name])))
        f[column] = pd.Categorical.from_codes(labels.get_indexer(rules[name])[r], categories=labels)
    return f[FINDING_COLUMNS]  # in item order; `sort_findings` orders them for reading


def sort_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings in reading order: body, obligation, rule, due, item."""
    order = np.lexsort((findings["item"].cat.codes, findings["due"].to_numpy(), findings["rule_no"].to_numpy(),
                        findings["obligation"].cat.codes, findings["body"].cat.codes))
    return findings.iloc[order].reset_index(drop=True)


def credits(findings: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per assessed (body, obligation): the mean over its rules of each rule's mean credit, the sum of
    deductions, whether any item is missing (for veto), and whether it has findings at all (else N/A).
    Points do not enter: a points change re-scores from this table alone."""
    bodies, obs = body_ids(scheme), obligation_ids(scheme)
    n_rules = len(rule_table(scheme))
    b = findings["body"].cat.codes.to_numpy(np.int64)
    r = findings["rule_id"].to_numpy(np.int64)
    o = findings["obligation"].cat.codes.to_numpy(np.int64)
    credit = findings["credit"].to_numpy(float)
    per_rule_n = np.bincount(b * n_rules + r, minlength=len(bodies) * n_rules)
    per_rule = np.bincount(b * n_rules + r, weights=credit, minlength=len(bodies) * n_rules).astype(float)
    has_rule = per_rule_n > 0
    rule_mean = np.divide(per_rule, per_rule_n, out=np.zeros_like(per_rule), where=has_rule)
    rules = rule_table(scheme)
    rule_ob = obs.get_indexer(rules["obligation"])
    rb, rr = np.divmod(np.arange(len(bodies) * n_rules), n_rules)
    pair_of_rule = rb * len(obs) + rule_ob[rr]
    n_pairs = len(bodies) * len(obs)
    rules_scored = np.bincount(pair_of_rule, weights=has_rule, minlength=n_pairs)
    mean = np.divide(np.bincount(pair_of_rule, weights=rule_mean, minlength=n_pairs), rules_scored,
                     out=np.full(n_pairs, np.nan), where=rules_scored > 0)
    pair = b * len(obs) + o
    deducted = np.bincount(pair, weights=findings["deduction"].to_numpy(float), minlength=n_pairs).astype(float)
    bad = findings["outcome"].isin(("missing", "short", "fail")).to_numpy()
    missing = np.bincount(pair, weights=bad, minlength=n_pairs) > 0
    assessed = scheme.cached("assessed_pairs", lambda sc: _assessed_pairs(sc, bodies, obs))
    return pd.DataFrame({
        "body": pd.Categorical.from_codes(assessed // len(obs), categories=bodies),
        "obligation": pd.Categorical.from_codes(assessed % len(obs), categories=obs),
        "credit": mean[assessed], "deducted": deducted[assessed], "has_missing": missing[assessed]})


def _assessed_pairs(scheme: Scheme, bodies: pd.Index, obs: pd.Index) -> np.ndarray:
    pairs = [bodies.get_indexer(scheme.assessed(o)) * len(obs) + obs.get_loc(o.id) for o in scheme.obligations]
    return np.sort(np.concatenate(pairs))


def earn(credit: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Earned points per (body, obligation) (spec §4). Proportional: p × mean over rules of each
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
    bodies = body_ids(scheme)
    code = earned["body"].cat.codes.to_numpy()
    scored = (earned["status"] == "scored").to_numpy()
    bonus_ob = earned["bonus"].to_numpy()
    base_rows = scored & ~bonus_ob
    e_sum = np.bincount(code[base_rows], weights=earned["earned"].to_numpy()[base_rows], minlength=len(bodies))
    p_sum = np.bincount(code[base_rows], weights=earned["points"].to_numpy()[base_rows], minlength=len(bodies))
    s = body_table(scheme).assign(points_base=np.where(p_sum > 0, p_sum, np.nan))
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
    """The named tables of one scoring run; every number in `scores` is traceable to `findings`."""

    scheme: Scheme
    as_of: dt.date
    items: pd.DataFrame
    findings: pd.DataFrame
    credits: pd.DataFrame      # per (body, obligation), independent of points
    obligations: pd.DataFrame  # earned points and gaps per (body, obligation)
    scores: pd.DataFrame       # per body

    def gaps_of(self, body: str) -> pd.DataFrame:
        """A body's gaps (差距), largest first."""
        g = self.obligations[(self.obligations["body"] == body) & (self.obligations["gap"] > 1e-12)]
        return g.sort_values(["gap", "obligation"], ascending=[False, True], ignore_index=True)

    def findings_of(self, body: str, obligation: str) -> pd.DataFrame:
        f = self.findings
        return sort_findings(f[(f["body"] == body) & (f["obligation"] == obligation)])


def rescore(scheme: Scheme, credit: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earned points, gaps and scores from a credits table (or findings): a points change needs no
    new findings."""
    if "outcome" in credit:
        credit = credits(credit, scheme)
    earned = earn(credit, scheme)
    scores = total(earned, scheme)
    return gaps(earned, scores), scores


def score(scheme: Scheme, evidence: pd.DataFrame, as_of: dt.date | None = None) -> Scorecard:
    """Score every body of a scheme from validated evidence, judged at `as_of`."""
    as_of = as_of or scheme.default_as_of
    items = expected_items(scheme, evidence)
    findings = judge(items, evidence, scheme, as_of)
    credit = credits(findings, scheme)
    obligations, scores = rescore(scheme, credit)
    obligations = obligations.astype({"body": str, "obligation": str})  # small: plain text for readers
    return Scorecard(scheme, as_of, items, findings, credit, obligations, scores)
