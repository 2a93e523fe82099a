"""How sure is a ranking? Re-scoring under perturbed assessment choices (in the spirit of COINr's
sensitivity analysis): each obligation's points, the credit of a late item, and the rating values.

The findings are not re-judged: each draw re-scores from per-(body, rule) tallies of the findings
(items on time, late; other credit; the rating), so 1,000 draws take seconds even at national scale.
See docs/method.md §7.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.method.compiled import compiled
from scoring.method.engine import Scorecard
from scoring.method.kinds import named

COLUMNS = ["body", "kind", "rank", "rank_p05", "rank_p50", "rank_p95", "grade", "p_same_grade"]


@dataclass(frozen=True)
class Spread:
    """The perturbations: points × U(1 − points, 1 + points) per obligation; one late credit per
    draw from U(late_credit); each rating + U(−rating, +rating), kept within 0–100."""

    points: float = 0.2
    late_credit: tuple[float, float] = (0.3, 0.7)
    rating: float = 5.0

    def __post_init__(self) -> None:
        lo, hi = self.late_credit
        if not (0 <= self.points < 1) or not (0 <= lo <= hi <= 1) or self.rating < 0:
            raise ValueError("points spread in [0, 1), 0 ≤ late credit low ≤ high ≤ 1, rating spread ≥ 0")


@dataclass(frozen=True)
class _Tallies:
    """Per (body, rule) with findings, ordered by (body, obligation): what re-scoring needs."""

    pair: np.ndarray        # index into the (body, obligation) pairs below
    n: np.ndarray           # items judged
    on_time: np.ndarray
    late: np.ndarray
    other: np.ndarray       # Σ weight × credit of count, share and checklist items
    rating: np.ndarray      # mean of the graded items (NaN: not a rating rule, or no grade at all)
    rated: np.ndarray       # graded items of a rating rule (a periodic rating has one per period)
    fixed_deduction: np.ndarray  # Σ deductions of items that are not ratings
    d_missing: np.ndarray   # a rating's deduction per missing grade (deduction mode)
    rules_in_pair: np.ndarray  # per pair: rules with findings
    pair_body: np.ndarray   # per pair: body code
    pair_ob: np.ndarray     # per pair: obligation code
    deduction: np.ndarray   # per pair: deduction mode
    bonus: np.ndarray       # per pair: bonus obligation
    rollup: list[tuple[int, np.ndarray]]  # (city code, its counties' codes) for the county roll-up


def _tallies(card: Scorecard) -> _Tallies:
    f = card.findings
    tables = compiled(card.scheme)
    rules = tables.rules
    w = f["weight"].to_numpy(float)
    # compared as categoricals (codes), never a million findings' texts
    timed = f["kind"].isin(named(lambda k: k.perturb == "time")).to_numpy()  # late credit varies
    graded = f["kind"].isin(named(lambda k: k.perturb == "grade")).to_numpy()  # the grade varies
    on_time, late = (f["outcome"] == "on_time").to_numpy(), (f["outcome"] == "late").to_numpy()
    # per (body, obligation, rule), in that order: sums by np.bincount over one sorted key (8M findings
    # of 21,700 bodies: a pandas groupby of them held gigabytes)
    n_ob, n_rules = len(tables.obligations), len(rules)
    key = ((f["body"].cat.codes.to_numpy(np.int64) * n_ob + f["obligation"].cat.codes.to_numpy(np.int64)) * n_rules
           + f["rule_id"].to_numpy(np.int64))
    keys, group = np.unique(key, return_inverse=True)
    del key

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=values, minlength=len(keys))
    value = np.where(graded, f["value"].to_numpy(float), np.nan)
    graded_value = ~np.isnan(value)
    rated = total(graded_value.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_rating = np.where(rated > 0, total(np.where(graded_value, value, 0.0)) / rated, np.nan)
    g = pd.DataFrame({
        "body": keys // n_rules // n_ob, "ob": keys // n_rules % n_ob, "rule": keys % n_rules, "n": total(w),
        "on_time": total(w * (timed & on_time)), "late": total(w * (timed & late)),
        "other": total(np.where(~timed & ~graded, w * f["credit"].to_numpy(float), 0.0)),
        "rating": mean_rating, "rated": rated,
        "fixed": total(np.where(graded, 0.0, np.nan_to_num(f["deduction"].to_numpy(float))))})
    pairs, pair = np.unique(g["body"].to_numpy() * len(tables.obligations) + g["ob"].to_numpy(), return_inverse=True)
    by_id = {o.id: o for o in card.scheme.obligations}
    obs = [by_id[i] for i in tables.obligations]
    pair_ob = pairs % len(tables.obligations)
    is_rating = np.isin(rules["kind"].to_numpy()[g["rule"].to_numpy()], named(lambda k: k.perturb == "grade"))
    return _Tallies(
        pair=pair, n=g["n"].to_numpy(float), on_time=g["on_time"].to_numpy(float), late=g["late"].to_numpy(float),
        other=g["other"].to_numpy(float), rating=np.where(is_rating, g["rating"].to_numpy(float), np.nan),
        rated=g["rated"].to_numpy(float),
        fixed_deduction=g["fixed"].to_numpy(float),
        d_missing=np.where(is_rating, rules["deduct_missing"].to_numpy()[g["rule"].to_numpy()], 0.0),
        rules_in_pair=np.bincount(pair, minlength=len(pairs)).astype(float),
        pair_body=pairs // len(tables.obligations), pair_ob=pair_ob,
        deduction=np.array([obs[o].mode == "deduction" for o in pair_ob]),
        bonus=np.array([obs[o].bonus for o in pair_ob]), rollup=_rollup(card))


def _rollup(card: Scorecard) -> list[tuple[int, np.ndarray]]:
    if card.scheme.scheme.rollup is None:
        return []
    table = compiled(card.scheme).body_table
    codes = pd.Series(np.arange(len(table)), index=table.index)
    counties = table[table["kind"] == "county"]
    return [(int(codes[city]), codes[group].to_numpy()) for city, group in counties.groupby("parent").groups.items()]


@dataclass(frozen=True)
class _Linear:
    """What a draw's scores are made of, split so that only what varies per draw is worked out per
    draw. A pair not in deduction mode earns points × (A + late credit × B + R): A and B from its
    unrated tallies, R from its rated ones; per body, Σ points × A and Σ points × B over obligations
    are matrix products of the draws' points (draws × obligations) with (obligations × bodies)
    tables. Rated tallies and deduction-mode pairs (earned = max(0, points − deducted)) are summed
    per draw on their own, few columns."""

    on_time: np.ndarray      # (obligations × bodies) Σ A of base pairs, and of bonus pairs below
    late: np.ndarray
    weight: np.ndarray       # (obligations × bodies) 1 where a base pair is: Σ points per body
    bonus_on_time: np.ndarray
    bonus_late: np.ndarray
    rated: np.ndarray        # rated tallies of pairs not in deduction mode
    rated_pair: np.ndarray   # their pairs
    deducted: np.ndarray     # pairs in deduction mode
    fixed: np.ndarray        # their deductions that do not vary (Σ of items that are not ratings)
    rated_deductions: np.ndarray  # rating rules of pairs in deduction mode (their deduction varies)
    rated_deductions_at: np.ndarray  # their first position per pair, and that pair's position among `deducted`
    rated_deductions_pair: np.ndarray


def _linear(t: _Tallies, n_ob: int, n_body: int) -> _Linear:
    rated = ~np.isnan(t.rating)
    a = np.where(rated, 0.0, (t.on_time + t.other) / t.n)
    b = np.where(rated, 0.0, t.late / t.n)
    pair_a = np.bincount(t.pair, weights=a, minlength=len(t.pair_ob)) / t.rules_in_pair
    pair_b = np.bincount(t.pair, weights=b, minlength=len(t.pair_ob)) / t.rules_in_pair

    def table(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.zeros((n_ob, n_body))
        out[t.pair_ob[rows], t.pair_body[rows]] = values[rows]
        return out
    base = ~t.bonus & ~t.deduction
    bonus = t.bonus & ~t.deduction
    ones = np.ones(len(t.pair_ob))
    deduction = np.flatnonzero(t.deduction)
    in_deduction = t.deduction[t.pair]
    varies = np.flatnonzero(in_deduction & (t.d_missing != 0))
    starts = np.flatnonzero(np.r_[True, t.pair[varies][1:] != t.pair[varies][:-1]]) if len(varies) else varies
    return _Linear(
        on_time=table(pair_a, base), late=table(pair_b, base), weight=table(ones, ~t.bonus),
        bonus_on_time=table(pair_a, bonus), bonus_late=table(pair_b, bonus),
        rated=np.flatnonzero(rated & ~in_deduction), rated_pair=t.pair[rated & ~in_deduction],
        deducted=deduction,
        fixed=np.bincount(t.pair, weights=t.fixed_deduction, minlength=len(t.pair_ob))[deduction],
        rated_deductions=varies, rated_deductions_at=starts,
        rated_deductions_pair=np.searchsorted(deduction, t.pair[varies][starts]))


def _scores(card: Scorecard, t: _Tallies, points: np.ndarray, late_credit: np.ndarray,
            rating_noise: np.ndarray, lin: _Linear | None = None) -> np.ndarray:
    """Scores (draws × bodies) for draws of points (draws × obligations), late credit (draws) and
    rating noise (draws × tallies)."""
    h = card.scheme.scheme
    n_body = len(compiled(card.scheme).bodies)
    lin = lin or _linear(t, points.shape[1], n_body)
    lc = late_credit[:, None]
    e_sum = points @ lin.on_time + lc * (points @ lin.late)
    p_sum = points @ lin.weight
    bonus = points @ lin.bonus_on_time + lc * (points @ lin.bonus_late)
    # rated tallies (a pair's rated rules' credit: the rating's share of 100, a period without a grade 0)
    r = lin.rated
    rating = np.clip(t.rating[r] + rating_noise[:, r], 0.0, 100.0)
    earned = points[:, t.pair_ob[lin.rated_pair]] * (rating / 100 * t.rated[r] / t.n[r]
                                                      / t.rules_in_pair[lin.rated_pair])
    _add_per_body(e_sum, bonus, earned, lin.rated_pair, t)
    # pairs in deduction mode: points less their deductions, at least 0
    d = lin.deducted
    deducted = np.repeat(lin.fixed[None, :], len(points), axis=0)
    q = lin.rated_deductions
    if len(q):   # a rating's deduction per missing grade, for each grade short of 100 and each period ungraded
        rating = np.clip(np.where(np.isnan(t.rating[q]), 0.0, t.rating[q]) + rating_noise[:, q], 0.0, 100.0)
        per_rule = t.d_missing[q] * (t.rated[q] * (1 - rating / 100) + (t.n[q] - t.rated[q]))
        deducted[:, lin.rated_deductions_pair] += np.add.reduceat(per_rule, lin.rated_deductions_at, axis=1)
    _add_per_body(e_sum, bonus, np.maximum(0.0, points[:, t.pair_ob[d]] - deducted), d, t)
    with np.errstate(invalid="ignore", divide="ignore"):
        base = np.where(p_sum > 0, 100 * e_sum / p_sum, np.nan)
    score = base
    if t.bonus.any():
        if h.bonus is not None:
            bonus = np.where(base >= h.bonus.gate, np.minimum(bonus, h.bonus.cap), 0.0)
        score = base + bonus
    if h.rollup is not None:
        w = h.rollup.counties
        if t.rollup:   # each city with the mean of its scored counties: all cities at once
            cities = np.array([city for city, _ in t.rollup])
            counties = np.concatenate([group for _, group in t.rollup])
            starts = np.cumsum([0, *(len(group) for _, group in t.rollup[:-1])])
            values = score[:, counties]
            scored = ~np.isnan(values)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = (np.add.reduceat(np.where(scored, values, 0.0), starts, axis=1)
                        / np.add.reduceat(scored, starts, axis=1))
            score[:, cities] = (1 - w) * score[:, cities] + w * mean
    return score


def _add_per_body(base: np.ndarray, bonus: np.ndarray, earned: np.ndarray, pairs: np.ndarray, t: _Tallies) -> None:
    """Add earned points (draws × columns of `pairs`, sorted by body) to each body's base or bonus sum."""
    for into, keep in ((base, ~t.bonus[pairs]), (bonus, t.bonus[pairs])):
        if keep.any():
            into += _per_body(earned[:, keep], t.pair_body[pairs[keep]], into.shape[1])


def _per_body(values: np.ndarray, body: np.ndarray, n_body: int) -> np.ndarray:
    """Σ per body of columns sorted by body (draws × pairs → draws × bodies)."""
    out = np.zeros((len(values), n_body))
    if len(body):
        starts = np.flatnonzero(np.r_[True, body[1:] != body[:-1]])
        out[:, body[starts]] = np.add.reduceat(values, starts, axis=1)
    return out


def _ranks(scores: np.ndarray) -> np.ndarray:
    """Rank within the columns given (draws × bodies): 1 + bodies scoring more (to 2 decimals)."""
    s = np.round(np.nan_to_num(scores, nan=-1.0), 2)  # no score: below every score
    ordered = np.sort(s, axis=1)
    # bodies strictly above = count of values greater than own, per draw (searchsorted on each row)
    offsets = np.arange(len(s))[:, None] * 1e6  # scores are 0–105: rows never overlap
    flat = (ordered + offsets).ravel()
    above = len(s[0]) - (np.searchsorted(flat, (s + offsets).ravel(), side="right").reshape(s.shape)
                         - np.arange(len(s))[:, None] * s.shape[1])
    return above + 1


def robustness(card: Scorecard, *, draws: int = 1000, seed: int = 0, spread: Spread | None = None) -> pd.DataFrame:
    """Per body: its rank, the 5th/50th/95th percentile of its rank over `draws` perturbed
    re-scorings, its grade and how often the draws give it the same grade.

    Deterministic for a seed; with zero spreads every interval is the rank itself."""
    spread = spread or Spread()
    rng = np.random.default_rng(seed)
    tables = compiled(card.scheme)
    t = _tallies(card)
    base_points = np.array([{o.id: o.points for o in card.scheme.obligations}[i] for i in tables.obligations])
    scores = card.scores.set_index("body")
    bodies = tables.bodies
    kind = tables.body_table["kind"].to_numpy()
    veto = scores["veto"].reindex(bodies).fillna("").to_numpy() != ""
    bands = [(g.min, g.name) for g in card.scheme.scheme.grades]
    grade_now = scores["grade"].reindex(bodies).to_numpy()
    ascending = np.array([lo for lo, _ in reversed(bands)])
    band_now = np.array([[name for _, name in bands].index(g) if isinstance(g, str) else -1 for g in grade_now])
    rank_draws = np.zeros((draws, len(bodies)), dtype=np.int64)
    same_grade = np.zeros(len(bodies))
    chunk = max(1, min(draws, 2_000_000 // max(len(t.n), 1)))
    lin = _linear(t, len(base_points), len(bodies))
    for start in range(0, draws, chunk):
        d = min(chunk, draws - start)
        points = base_points * rng.uniform(1 - spread.points, 1 + spread.points, size=(d, len(base_points)))
        late = rng.uniform(*spread.late_credit, size=d)
        noise = rng.uniform(-spread.rating, spread.rating, size=(d, len(t.n)))
        s = _scores(card, t, points, late, noise, lin)
        for k in np.unique(kind):
            cols = np.flatnonzero(kind == k)
            rank_draws[start:start + d, cols] = _ranks(s[:, cols])
        band = len(bands) - np.searchsorted(ascending, s + 1e-9, side="right")  # first band whose min ≤ score
        band[:, veto] = len(bands) - 1
        same_grade += (band == band_now).sum(axis=0)
    p05, p50, p95 = (np.percentile(rank_draws, q, axis=0, method="nearest").astype(int) for q in (5, 50, 95))
    out = pd.DataFrame({"body": bodies, "kind": kind, "rank": scores["rank"].reindex(bodies).to_numpy(),
                        "rank_p05": p05, "rank_p50": p50, "rank_p95": p95, "grade": grade_now,
                        "p_same_grade": same_grade / draws})
    scored = scores["score"].reindex(bodies).notna().to_numpy()
    order = card.scores["body"].astype(str)
    return out[scored].set_index("body").reindex(order[order.isin(out["body"][scored])]).reset_index()[COLUMNS]
