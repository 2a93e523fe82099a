"""count — one item per body: at least `min` publications dated in the scheme period and by
`as_of` (e.g. 年內至少聽取一次). Credit min(1, n / min); the first publication is shown."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.method.kinds.base import (
    NAT,
    Expansion,
    Judged,
    Judging,
    Kind,
    Outcome,
    once_items,
    pair_sums,
    undated_items,
)
from scoring.method.scheme import CountRule, Obligation

KIND = Kind("count", ("发布数量", "number published"), CountRule,
            {"body": "青島市", "obligation": "6.1", "period": "2017-09", "published_at": "2017-09-15",
             "note": "常務會議聽取政務公開工作彙報"},
            outcome_words={"short": ("数量不足", "too few")})


def expand(x: Expansion, ob: Obligation, rule: CountRule, rule_id: int, bodies: np.ndarray) -> None:
    undated_items(x, rule_id, bodies, ["count"])


def judge(j: Judging, mask: np.ndarray) -> Judged:
    rows, pair, r = once_items(j, mask)
    ev, n = j.evidence, j.n_body * j.n_ob
    dated = ((ev.body >= 0) & (ev.ob >= 0) & ev.plain & (ev.published != NAT)
             & (ev.published >= j.period_start) & (ev.published <= j.as_of_end))
    counts = pair_sums(ev.body[dated], ev.ob[dated], j.n_ob, n, np.ones(int(dated.sum())))[pair]
    first = pd.Series(ev.published[dated]).groupby(ev.body[dated] * j.n_ob + ev.ob[dated]).min()
    pos = first.index.get_indexer(pair)
    published = np.full(len(pair), NAT, dtype=np.int64)
    published[pos >= 0] = first.to_numpy(dtype=np.int64)[pos[pos >= 0]]
    minimum = j.rules["min"].to_numpy()[r]
    met = counts >= minimum
    return Judged(rows, published, np.where(met, Outcome.MET, Outcome.SHORT).astype(np.int8),
                  np.minimum(1.0, counts / minimum), np.where(met, 0.0, j.rules["deduct_missing"].to_numpy()[r]),
                  counts)
