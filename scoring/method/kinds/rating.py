"""rating — one item per body: an evaluator's grade 0–100 (`value`), the mean of several
assessors'; credit value / 100. No rating at all is missing (credit 0). In deduction mode a rating
deducts `deduct.missing` × (1 − value / 100). With `frequency`, one item per body and period (the
quarterly spot checks of 6.4): each period's grade, a period without one missing."""

from __future__ import annotations

import numpy as np

from scoring.method.kinds.base import (
    NAT,
    Expansion,
    Judged,
    Judging,
    Kind,
    Outcome,
    Values,
    mean_values,
    once_items,
    slot_means,
    undated_items,
)
from scoring.method.kinds.periodic import period_labels
from scoring.method.scheme import Obligation, RatingRule

KIND = Kind("rating", ("第三方评分", "third-party rating"), RatingRule,
            {"body": "淄博市", "obligation": "6.4", "value": "86.5", "assessor": "某評估機構"},
            values=Values(0, 100, "a rating is between 0 and 100"), appeal="value", perturb="grade")


def expand(x: Expansion, ob: Obligation, rule: RatingRule, rule_id: int, bodies: np.ndarray) -> None:
    undated_items(x, rule_id, bodies, period_labels(x.scheme, rule) if rule.frequency else ["rating"])


def judge(j: Judging, mask: np.ndarray) -> Judged:
    rows, pair, r = once_items(j, mask)
    item = j.items["item"]  # a period's grade, not the year's: compared on codes, not on 10^7 strings
    year = item.cat.categories.get_indexer(["rating"])[0]
    periodic = item.cat.codes.to_numpy()[rows] != year
    value = np.where(periodic, slot_means(j, mask), mean_values(j)[pair]) if periodic.any() else mean_values(j)[pair]
    none = np.isnan(value)
    d_missing = j.rules["deduct_missing"].to_numpy()[r]
    credit = np.where(none, 0.0, value / 100)
    return Judged(rows, np.full(len(rows), NAT, dtype=np.int64),
                  np.where(none, Outcome.MISSING, Outcome.RATED).astype(np.int8), np.nan_to_num(credit),
                  np.where(none, d_missing, d_missing * (1 - np.nan_to_num(value) / 100)), value)
