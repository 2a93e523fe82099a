"""Expanding a scheme's rules into items: what each rule expects from each body it assesses, and
when it is due. Each rule kind's `expand` (scoring.method.kinds) adds its items.

Items are coded for speed at national scale: `body`, `obligation` and `item` are categoricals whose
categories are sorted (so sorting by code is sorting by text), `rule_id` indexes the compiled rule table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.method.compiled import Compiled, compiled
from scoring.method.kinds import KINDS
from scoring.method.kinds.base import Collector, Expansion
from scoring.method.kinds.periodic import expected_labels
from scoring.method.scheme import Scheme

ITEM_COLUMNS = ["body", "obligation", "rule_id", "rule_no", "item", "due", "weight"]
__all__ = ["ITEM_COLUMNS", "expected_items", "expected_labels"]


def expected_items(scheme: Scheme, evidence: pd.DataFrame) -> pd.DataFrame:
    """Every item every rule expects from every body it assesses, with its due time.

    Dues are naive local times in the scheme's timezone; count, rating and share items have none.
    Response items come from the events found in the evidence.
    """
    tables = compiled(scheme)
    x = Expansion(scheme, tables, evidence, Collector())
    rule_id = -1
    for ob in scheme.obligations:
        for rule in ob.rules:
            rule_id += 1
            bodies = tables.bodies.get_indexer(scheme.assessed(ob, rule))
            KINDS[rule.kind].expand(x, ob, rule, rule_id, bodies)
    return _assemble(tables, x.out)


def _assemble(tables: Compiled, out: Collector) -> pd.DataFrame:
    rules = tables.rules
    names = np.array(list(out.labels), dtype=object)
    order = np.argsort(names, kind="stable")
    remap = np.empty(len(names), dtype=np.int32)
    remap[order] = np.arange(len(names), dtype=np.int32)
    body = np.concatenate([p[0] for p in out.parts]) if out.parts else np.array([], np.int32)
    rule_id = np.concatenate([np.full(len(p[0]), p[1], np.int32) for p in out.parts]) if out.parts else body
    label = remap[np.concatenate([p[2] for p in out.parts])] if out.parts else body
    due = np.concatenate([p[3] for p in out.parts]) if out.parts else np.array([], "datetime64[ns]")
    weight = (np.concatenate([np.ones(len(p[0])) if p[4] is None else p[4] for p in out.parts])
              if out.parts else np.array([], float))
    ob_of_rule = tables.obligations.get_indexer(rules["obligation"]).astype(np.int32)
    items = pd.DataFrame({
        "body": pd.Categorical.from_codes(body, categories=tables.bodies),
        "obligation": pd.Categorical.from_codes(ob_of_rule[rule_id], categories=tables.obligations),
        "rule_id": rule_id,
        "rule_no": rules["rule_no"].to_numpy()[rule_id].astype(np.int16),
        "item": pd.Categorical.from_codes(label, categories=pd.Index(names[order])),
        "due": pd.to_datetime(due).astype("datetime64[ns]"),
        "weight": weight,
    })
    items.attrs["aliases"] = list(out.aliases)  # (obligation, label, target): merged periods
    return items
