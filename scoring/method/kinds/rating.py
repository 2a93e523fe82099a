"""rating — one item per body: an evaluator's grade 0–100 (`value`), the mean of several
assessors'; credit value / 100. No rating at all is missing (credit 0). In deduction mode a rating
deducts `deduct.missing` × (1 − value / 100)."""

from __future__ import annotations

import numpy as np

from scoring.method.kinds.base import (
    NAT,
    Expansion,
    Judged,
    Judging,
    Outcome,
    mean_values,
    once_items,
)
from scoring.method.scheme import Obligation, RatingRule


def expand(x: Expansion, ob: Obligation, rule: RatingRule, rule_id: int, bodies: np.ndarray) -> None:
    x.out.add(bodies, rule_id, np.full(len(bodies), x.out.label("rating")),
              np.full(len(bodies), np.datetime64("NaT"), dtype="datetime64[ns]"))


def judge(j: Judging, mask: np.ndarray) -> Judged:
    rows, pair, r = once_items(j, mask)
    value = mean_values(j)[pair]
    none = np.isnan(value)
    d_missing = j.rules["deduct_missing"].to_numpy()[r]
    credit = np.where(none, 0.0, value / 100)
    return Judged(rows, np.full(len(rows), NAT, dtype=np.int64),
                  np.where(none, Outcome.MISSING, Outcome.RATED).astype(np.int8), np.nan_to_num(credit),
                  np.where(none, d_missing, d_missing * (1 - np.nan_to_num(value) / 100)), value)
