"""Judging time items (deadline, periodic, response): the earliest publication per item against
its due time → on_time, late (with `late_credit`) or missing."""

from __future__ import annotations

import numpy as np

from scoring.method.kinds.base import NAT, NEVER, Judged, Judging, Outcome


def judge(j: Judging, mask: np.ndarray) -> Judged:
    """Every item under `mask` due by `as_of`, judged by its earliest publication.

    Every (obligation, item label) pair that some item has gets a slot; the earliest publication
    per (body, slot) is then a dense array filled with np.minimum.at — no hashing or sorting of
    10^7 keys.
    """
    items, ev, rules = j.items, j.evidence, j.rules
    n_item = len(items["item"].cat.categories)
    n_pairs = j.n_ob * n_item
    due = items["due"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    keep = mask & (due <= j.as_of_end)
    it_body = items["body"].cat.codes.to_numpy(np.int64)[keep]
    it_pair = (items["obligation"].cat.codes.to_numpy(np.int64) * n_item
               + items["item"].cat.codes.to_numpy(np.int64))[keep]
    present = np.bincount(it_pair, minlength=n_pairs) > 0
    ob_of_rule = items["obligation"].cat.categories.get_indexer(rules["obligation"])
    aliases = items.attrs.get("aliases", [])  # (rule, label, target): a rule's merged periods
    for r, src, _ in aliases:
        present[ob_of_rule[r] * n_item + src] = True  # the merged-away period's evidence gets a slot too
    slot_of = np.cumsum(present) - 1
    n_slots = max(int(present.sum()), 1)
    ok = (ev.published != NAT) & (ev.published <= j.as_of_end) & (ev.body >= 0) & (ev.ob >= 0) & (ev.item >= 0)
    ev_pair = ev.ob[ok] * n_item + ev.item[ok]
    match = present[ev_pair]
    earliest = np.full(j.n_body * n_slots, NEVER, dtype=np.int64)
    np.minimum.at(earliest, ev.body[ok][match] * n_slots + slot_of[ev_pair[match]], ev.published[ok][match])
    published = earliest[it_body * n_slots + slot_of[it_pair]]
    r = items["rule_id"].to_numpy()[keep]
    if aliases:
        label = items["item"].cat.codes.to_numpy(np.int64)[keep]
        for rule, src, tgt in aliases:  # the merged item: its own period's or a merged-away period's, earliest
            at = np.flatnonzero((r == rule) & (label == tgt))
            other = earliest[it_body[at] * n_slots + slot_of[ob_of_rule[rule] * n_item + src]]
            published[at] = np.minimum(published[at], other)
    missing = published == NEVER
    published[missing] = NAT
    on_time = ~missing & (published <= due[keep])
    credit = np.where(missing, 0.0, np.where(on_time, 1.0, rules["late_credit"].to_numpy()[r]))
    deduction = np.where(missing, rules["deduct_missing"].to_numpy()[r],
                         np.where(on_time, 0.0, rules["deduct_late"].to_numpy()[r]))
    outcome = np.where(missing, Outcome.MISSING, np.where(on_time, Outcome.ON_TIME, Outcome.LATE)).astype(np.int8)
    return Judged(np.flatnonzero(keep), published, outcome, credit, deduction, np.full(len(r), np.nan))
