"""share — one item per body: the body's own performance-assessment weight for transparency
(`value`, 0.04 or 4%), passing when at least `min` (default: the scheme's min_transparency_share,
the document's 4%). No value fails."""

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
    undated_items,
)
from scoring.method.scheme import Obligation, ShareRule

KIND = Kind("share", ("分值占比", "weight share"), ShareRule,
            {"body": "聊城市", "obligation": "6.6", "value": "4%", "note": "本級績效考核政務公開分值"},
            values=Values(0, 1, "a share is between 0 and 1 (e.g. 0.04 or 4%)", low_open=True), appeal="value")


def expand(x: Expansion, ob: Obligation, rule: ShareRule, rule_id: int, bodies: np.ndarray) -> None:
    undated_items(x, rule_id, bodies, ["share"])


def judge(j: Judging, mask: np.ndarray) -> Judged:
    rows, pair, r = once_items(j, mask)
    value = mean_values(j)[pair]
    with np.errstate(invalid="ignore"):
        passed = ~np.isnan(value) & (value >= j.rules["min"].to_numpy()[r] - 1e-12)
    return Judged(rows, np.full(len(rows), NAT, dtype=np.int64),
                  np.where(passed, Outcome.PASS, Outcome.FAIL).astype(np.int8), passed.astype(float),
                  np.where(passed, 0.0, j.rules["deduct_missing"].to_numpy()[r]), value)
