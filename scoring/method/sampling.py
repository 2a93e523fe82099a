"""Samples of assessed items for a blind second reading (抽查): the GB/T 2828.1 sample size of a lot
(the table is data: criteria/sampling-gbt2828-1.yaml) and a reproducible random draw. Pure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import yaml

from scoring.errors import GongkaiError

STRATA = ("body", "obligation", "firm")
KEY = ["body", "obligation", "item"]


@dataclass(frozen=True)
class Plan:
    """The sampling table: lot ranges → code letter, letter → sample size, AQL → letter → (Ac, Re) or an arrow."""

    letters: list[tuple[int, int | None, str]]
    sizes: dict[str, int]
    aql: dict[str, dict[str, tuple[int, int] | str]]
    default_aql: str


@dataclass(frozen=True)
class LotPlan:
    """What the table says for one lot: its size, code letter, the sample size n and (Ac, Re) of the
    plan used (after the arrows), and the letter that plan belongs to."""

    lot: int
    letter: str
    n: int
    ac: int
    re: int
    plan_letter: str


def parse_plan(text: str) -> Plan:
    doc = yaml.safe_load(text)
    letters = [(int(r["from"]), None if r["to"] is None else int(r["to"]), str(r["letter"])) for r in doc["code_letters"]]
    aql = {str(k): {str(letter): (v if isinstance(v, str) else (int(v[0]), int(v[1]))) for letter, v in col.items()}
           for k, col in doc["aql"].items()}
    return Plan(letters, {str(k): int(v) for k, v in doc["sample_sizes"].items()}, aql, str(doc["default_aql"]))


def code_letter(plan: Plan, lot: int) -> str:
    """The code letter of a lot size (general inspection level II)."""
    for low, high, letter in plan.letters:
        if lot >= low and (high is None or lot <= high):
            return letter
    raise GongkaiError(f"lot size {lot}: the sampling table starts at {plan.letters[0][0]}")


def _follow(plan: Plan, aql: str, letter: str) -> str:
    """The letter whose plan is used for `letter` in the AQL column: arrows followed down or up."""
    order = list(plan.sizes)
    column = plan.aql[aql]
    i = order.index(letter)
    while isinstance(column[order[i]], str):
        i += 1 if column[order[i]] == "down" else -1
    return order[i]


def _ac_re(plan: Plan, aql: str, letter: str) -> tuple[int, int]:
    entry = plan.aql[aql][letter]
    assert not isinstance(entry, str), (aql, letter)
    return entry


def lot_plan(plan: Plan, lot: int, aql: str | None = None) -> LotPlan:
    """The single normal sampling plan of a lot: sample size and acceptance number (GB/T 2828.1)."""
    aql = aql or plan.default_aql
    if aql not in plan.aql:
        raise GongkaiError(f"--aql {aql}: the table has AQL {', '.join(plan.aql)}")
    if lot < 2:  # nothing to sample from: the lot is inspected whole
        return LotPlan(lot, "", lot, 0, 1, "")
    letter = code_letter(plan, lot)
    used = _follow(plan, aql, letter)
    ac, re = _ac_re(plan, aql, used)
    return LotPlan(lot, letter, min(plan.sizes[used], lot), ac, re, used)


def fixed_plan(plan: Plan, lot: int, n: int, aql: str | None = None) -> LotPlan:
    """A sample of a size chosen by hand: its acceptance number is that of the table's plan with the
    largest sample size not above n (Ac 0 below the smallest)."""
    aql = aql or plan.default_aql
    if n < 1:
        raise GongkaiError(f"--size {n}: a sample has at least 1 item")
    fits = [(plan.sizes[x], x) for x in plan.sizes
            if not isinstance(plan.aql[aql][x], str) and plan.sizes[x] <= n]
    ac, re = _ac_re(plan, aql, max(fits)[1]) if fits else (0, 1)
    return LotPlan(lot, "", min(n, lot), ac, re, max(fits)[1] if fits else "")


def draw(population: pd.DataFrame, *, size: int | None, by: str | None, seed: int, plan: Plan,
         aql: str | None = None) -> pd.DataFrame:
    """A random sample of the population's items (rows with `body, obligation, item, firm`), the same
    for the same population and seed on any database: items are sorted by stratum and key first, then
    each stratum (with `by`; else the whole population is one lot) is sampled without replacement by
    one numpy Generator seeded with `seed`, strata in sorted order. `size` None: the GB/T 2828.1 size
    of each lot; a number: that many per lot. Returns the drawn rows with `stratum, lot, n, ac, re`."""
    if by is not None and by not in STRATA:
        raise GongkaiError(f"--by {by!r} is not one of: {', '.join(STRATA)}")
    if population.empty:
        raise GongkaiError("no assessed items to sample: import evidence first")
    pop = population.assign(stratum=population[by].astype(str) if by else "")
    pop = pop.sort_values(["stratum", *KEY], kind="stable", ignore_index=True)
    rng = np.random.default_rng(seed)
    parts = []
    for _, lot in pop.groupby("stratum", sort=True):
        p = lot_plan(plan, len(lot), aql) if size is None else fixed_plan(plan, len(lot), size, aql)
        chosen = np.sort(rng.choice(len(lot), size=p.n, replace=False))
        parts.append(lot.iloc[chosen].assign(lot=p.lot, n=p.n, ac=p.ac, re=p.re))
    return pd.concat(parts, ignore_index=True)
