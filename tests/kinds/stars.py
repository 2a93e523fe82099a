"""stars — a rule kind that exists only in the tests: one item per body, an evaluator's star
rating of 0–5 (`value`, several assessors averaged); credit stars / 5, no rating at all missing.

It is everything a new kind needs: its rule model, `KIND` (what it declares), `expand` and `judge`.
Registered with `scoring.method.kinds.register`, it is scored, imported from its template row,
explained in a report and appealed with no other change to gongkai (tests/test_kind_plugin.py)."""

from __future__ import annotations

from typing import Literal

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
    undated_items,
)
from scoring.method.scheme import Obligation, _Rule


class StarsRule(_Rule):
    kind: Literal["stars"]


KIND = Kind("stars", ("星级评定", "star rating"), StarsRule,
            {"body": "甲市", "obligation": "9", "value": "4", "assessor": "某评估机构"},
            values=Values(0, 5, "stars are between 0 and 5"), appeal="value")


def expand(x: Expansion, ob: Obligation, rule: StarsRule, rule_id: int, bodies: np.ndarray) -> None:
    undated_items(x, rule_id, bodies, ["stars"])


def judge(j: Judging, mask: np.ndarray) -> Judged:
    rows, pair, r = once_items(j, mask)
    value = mean_values(j)[pair]
    none = np.isnan(value)
    credit = np.where(none, 0.0, np.nan_to_num(value) / 5)
    d_missing = j.rules["deduct_missing"].to_numpy()[r]
    return Judged(rows, np.full(len(rows), NAT, dtype=np.int64),
                  np.where(none, Outcome.MISSING, Outcome.RATED).astype(np.int8), credit, d_missing * (1 - credit), value)
