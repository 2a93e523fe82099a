"""Expanding a scheme's rules into items: what each rule expects from each body it assesses, and
when it is due. Each rule kind's `expand` (scoring.method.kinds) adds its items.

Items are coded for speed at national scale: `body`, `obligation` and `item` are categoricals whose
categories are sorted (so sorting by code is sorting by text), `rule_id` indexes the compiled rule table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.method.compiled import Compiled, compiled
from scoring.method.kinds import MODULES
from scoring.method.kinds.base import Collector, Expansion
from scoring.method.kinds.periodic import expected_labels
from scoring.method.scheme import Scheme

ITEM_COLUMNS = ["body", "obligation", "rule_id", "rule_no", "item", "due", "weight"]
__all__ = ["ITEM_COLUMNS", "assemble", "expand", "expected_items", "expected_labels", "label_codes"]


def expected_items(scheme: Scheme, evidence: pd.DataFrame) -> pd.DataFrame:
    """Every item every rule expects from every body it assesses, with its due time.

    Dues are naive local times in the scheme's timezone; count, rating and share items have none.
    Response items come from the events found in the evidence.
    """
    return assemble(compiled(scheme), expand(scheme, evidence))


def expand(scheme: Scheme, evidence: pd.DataFrame) -> Collector:
    """Each rule's items as coded blocks (time rules' blocks as grids: bodies × labels, not multiplied out)."""
    tables = compiled(scheme)
    x = Expansion(scheme, tables, evidence, Collector())
    rule_id = -1
    for ob in scheme.obligations:
        for rule in ob.rules:
            rule_id += 1
            bodies = tables.bodies.get_indexer(scheme.assessed(ob, rule))
            MODULES[rule.kind].expand(x, ob, rule, rule_id, bodies)
    return x.out


def label_codes(out: Collector) -> tuple[pd.Index, np.ndarray]:
    """The item labels, sorted (the `item` categories), and each collected label's code among them."""
    names = np.array(list(out.labels), dtype=object)
    order = np.argsort(names, kind="stable")
    remap = np.empty(len(names), dtype=np.int32)
    remap[order] = np.arange(len(names), dtype=np.int32)
    return pd.Index(names[order]), remap


def assemble(tables: Compiled, out: Collector, grids: bool = True, only: int | None = None) -> pd.DataFrame:
    """The items of the collected blocks, one row each (`grids=False`: the grid blocks left out; the
    `item` categories are every label all the same, so evidence codes alike); `only`: that body's items."""
    rules = tables.rules
    categories, remap = label_codes(out)
    blocks = [p if only is None else p.of_body(only) for p in out.parts if grids or not p.grid]
    parts = [(p, *p.rows()) for p in blocks]
    body = np.concatenate([b for _, b, _, _ in parts]) if parts else np.array([], np.int32)
    rule_id = np.concatenate([np.full(len(b), p.rule_id, np.int32) for p, b, _, _ in parts]) if parts else body
    label = remap[np.concatenate([lab for _, _, lab, _ in parts])] if parts else body
    due = np.concatenate([d for _, _, _, d in parts]) if parts else np.array([], "datetime64[ns]")
    weight = (np.concatenate([np.ones(len(b)) if p.weights is None else p.weights for p, b, _, _ in parts])
              if parts else np.array([], float))
    ob_of_rule = tables.obligations.get_indexer(rules["obligation"]).astype(np.int32)
    items = pd.DataFrame({
        "body": pd.Categorical.from_codes(body, categories=tables.bodies),
        "obligation": pd.Categorical.from_codes(ob_of_rule[rule_id], categories=tables.obligations),
        "rule_id": rule_id,
        "rule_no": rules["rule_no"].to_numpy()[rule_id].astype(np.int16),
        "item": pd.Categorical.from_codes(label, categories=categories),
        "due": pd.to_datetime(due).astype("datetime64[ns]"),
        "weight": weight,
    })
    items.attrs["aliases"] = [(r, int(remap[out.labels[a]]), int(remap[out.labels[t]]))  # merged periods:
                              for r, a, t in out.aliases]                                # (rule, label, target) codes
    return items
