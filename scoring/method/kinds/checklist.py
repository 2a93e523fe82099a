"""checklist — a rubric (評分細則): one item per body and check, weighted by the check's points;
evidence is one row per check (its id in `step`, `value` 1 met / 0 not met, several assessors
averaged). A check with no row is not met. Credit = points met / points listed; in deduction mode
each unmet check deducts its points."""

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
    slot_means,
)
from scoring.method.scheme import ChecklistRule, Obligation

KIND = Kind("checklist", ("评分细则", "rubric checklist"), ChecklistRule,
            {"body": "威海市", "obligation": "6.4", "step": "a1", "value": "1",
             "note": "評分細則：每個檢查項一行，環節填檢查項編號，分值 1 達標 / 0 未達標"},
            values=Values(0, 1, "a check is met (1) or not met (0)", whole=True, steps=True), appeal="value",
            item_columns=("step",), outcome_words={"short": ("未达到", "not met")})


def expand(x: Expansion, ob: Obligation, rule: ChecklistRule, rule_id: int, bodies: np.ndarray) -> None:
    leaves = rule.leaves()
    ids = np.array([x.out.label(leaf.id) for leaf, _ in leaves])
    points = np.array([leaf.total for leaf, _ in leaves])
    x.out.add(np.repeat(bodies, len(leaves)), rule_id, np.tile(ids, len(bodies)),
              np.full(len(bodies) * len(leaves), np.datetime64("NaT"), dtype="datetime64[ns]"),
              weights=np.tile(points, len(bodies)))


def judge(j: Judging, mask: np.ndarray) -> Judged:
    rows = np.flatnonzero(mask)
    value = slot_means(j, mask)
    none = np.isnan(value)
    credit = np.where(none, 0.0, np.clip(value, 0.0, 1.0))
    outcome = np.where(none, Outcome.MISSING, np.where(credit >= 0.5, Outcome.MET, Outcome.SHORT)).astype(np.int8)
    points = j.items["weight"].to_numpy()[rows]
    return Judged(rows, np.full(len(rows), NAT, dtype=np.int64), outcome, credit, points * (1 - credit), value)
