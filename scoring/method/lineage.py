"""A scheme and the one before it: the crosswalk of bodies and obligations between two years, and
what follows from it — each body's previous score (a merged body's from its predecessors), rank and
score changes, a comparable score on the obligations both years share, and the problems lost in
both years (反復出現). Pure: scorecards in, DataFrames out."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from scoring.method import LOST

CHANGES = ("same", "renamed", "merged", "split", "dropped", "new")


def _ids(v: object) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


class Link(BaseModel):
    """One line of the crosswalk: what became of `from` (ids of the previous scheme) in `to` (ids of
    this one), since `on`. merged: several → one; split: one → several; dropped: no `to`; new: no
    `from`. A body merged from several takes their previous results weighted by `weights` (default
    equal)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    was: list[str] = Field([], alias="from")
    to: list[str] = []
    change: Literal["same", "renamed", "merged", "split", "dropped", "new"]
    on: dt.date | None = None
    weights: list[float] | None = None
    note: str = ""

    _list = field_validator("was", "to", mode="before")(classmethod(lambda cls, v: _ids(v)))

    def faults(self, what: str) -> list[str]:
        where = f"lineage.{what} {'+'.join(self.was) or '—'} → {'+'.join(self.to) or '—'}"
        shape = {"same": (1, 1), "renamed": (1, 1), "dropped": (1, 0), "new": (0, 1)}
        out = []
        if self.change in shape and (len(self.was), len(self.to)) != shape[self.change]:
            n, m = shape[self.change]
            out.append(f"{where}: {self.change} links {n} previous id(s) to {m}")
        if self.change == "merged" and (len(self.was) < 2 or len(self.to) != 1):
            out.append(f"{where}: merged links at least two previous ids to one")
        if self.change == "split" and (len(self.was) != 1 or len(self.to) < 2):
            out.append(f"{where}: split links one previous id to at least two")
        if self.weights is not None and (len(self.weights) != len(self.was) or min(self.weights, default=1) <= 0):
            out.append(f"{where}: weights give one positive number per previous id")
        return out


class Lineage(BaseModel):
    """`lineage:` of a scheme file: the previous scheme's id and the crosswalk. A previous id that is
    an id here too, and appears in no link, is the same body or obligation."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    previous: str
    bodies: list[Link] = []
    obligations: list[Link] = []


def check(lineage: Lineage, *, bodies: set[str], obligations: set[str],
          previous: tuple[set[str], set[str]] | None = None) -> list[str]:
    """Faults of a crosswalk: its shapes, `to` ids that are not of this scheme and — given the previous
    scheme's (bodies, obligations) — `from` ids it lacks and previous ids not accounted for."""
    out = []
    for what, links, here, before in (("bodies", lineage.bodies, bodies, previous[0] if previous else None),
                                      ("obligations", lineage.obligations, obligations, previous[1] if previous else None)):
        for link in links:
            out += link.faults(what)
            noun = "a body" if what == "bodies" else "an obligation"
            out += [f"lineage.{what}: {x!r} is not {noun} of this scheme" for x in link.to if x not in here]
            if before is not None:
                out += [f"lineage.{what}: {x!r} is not in {lineage.previous}" for x in link.was if x not in before]
        if before is not None:
            named = {x for link in links for x in link.was}
            missing = sorted(before - here - named)
            if missing:
                out.append(f"lineage.{what}: not accounted for — {', '.join(missing)} of {lineage.previous} "
                           "(same id here, or a link: renamed, merged, split, dropped)")
    return out


def body_map(lineage: Lineage | None, bodies: list[str], previous: list[str]) -> pd.DataFrame:
    """Per body of this scheme, its previous bodies and their weights (summing to 1): body, previous, weight."""
    rows = [(b, b, 1.0) for b in bodies if b in set(previous)]
    if lineage is not None:
        linked = {x for link in lineage.bodies for x in link.to}
        rows = [r for r in rows if r[0] not in linked]
        for link in lineage.bodies:
            if link.change == "split":  # each part continues the whole's record
                rows += [(to, link.was[0], 1.0) for to in link.to]
            elif link.to:
                w = np.asarray(link.weights or [1.0] * len(link.was), float)
                rows += [(link.to[0], was, float(x)) for was, x in zip(link.was, w / w.sum(), strict=True)]
    return pd.DataFrame(rows, columns=["body", "previous", "weight"])


def obligation_map(lineage: Lineage | None, obligations: list[str], previous: list[str]) -> pd.DataFrame:
    """Per obligation of this scheme, the previous obligations it continues: obligation, previous."""
    rows = [(o, o) for o in obligations if o in set(previous)]
    if lineage is not None:
        linked = {x for link in lineage.obligations for x in (*link.to, *link.was)}
        rows = [r for r in rows if r[0] not in linked]
        rows += [(to, was) for link in lineage.obligations for to in link.to for was in link.was]
    return pd.DataFrame(rows, columns=["obligation", "previous"])


def _comparable(obligations: pd.DataFrame, shared: set[str]) -> pd.Series:
    """Per body, 100 × Σ earned / Σ points over the shared obligations it is scored on."""
    on = obligations[obligations["obligation"].astype(str).isin(shared) & (obligations["status"] == "scored")]
    sums = on.groupby(on["body"].astype(str), observed=True)[["earned", "points"]].sum()
    return 100 * sums["earned"] / sums["points"]


def _rank(scores: pd.Series, kinds: pd.Series) -> pd.Series:
    """Rank within each kind, best first; equal scores (to 2 decimals) share the best rank."""
    return scores.round(2).groupby(kinds).rank(method="min", ascending=False)


def compare(now_scores: pd.DataFrame, now_obligations: pd.DataFrame, before_scores: pd.DataFrame,
            before_obligations: pd.DataFrame, bodies: pd.DataFrame, obligations: pd.DataFrame) -> pd.DataFrame:
    """Year over year, one row per body of this scheme with a previous result: score, rank, previous
    score (a merged body: its predecessors' weighted), previous rank (among the same bodies), change,
    rank change (positive: moved up), and the comparable score of both years on the obligations they
    share (`obligations`: this scheme's obligation → previous obligation), with its change."""
    now = now_scores.dropna(subset=["score"]).assign(body=lambda f: f["body"].astype(str)).set_index("body")
    before = before_scores.dropna(subset=["score"]).assign(body=lambda f: f["body"].astype(str)).set_index("body")
    links = bodies[bodies["body"].isin(now.index) & bodies["previous"].isin(before.index)]
    shared_now, shared_before = set(obligations["obligation"]), set(obligations["previous"])
    comp_now, comp_before = _comparable(now_obligations, shared_now), _comparable(before_obligations, shared_before)

    def weighted(values: pd.Series) -> pd.Series:
        return mapped_scores(links, values)

    out = now.loc[sorted(set(links["body"])), ["name", "kind", "score"]].copy()
    out["previous_score"] = weighted(before["score"])
    out["rank"] = _rank(out["score"], out["kind"]).astype(int)
    out["previous_rank"] = _rank(out["previous_score"], out["kind"]).astype(int)
    out["change"] = out["score"] - out["previous_score"]
    out["rank_change"] = out["previous_rank"] - out["rank"]
    out["comparable"] = comp_now.reindex(out.index)
    out["comparable_previous"] = weighted(comp_before).reindex(out.index)
    out["comparable_change"] = out["comparable"] - out["comparable_previous"]
    return out.reset_index()[["body", "name", "kind", "score", "rank", "previous_score", "previous_rank", "change",
                              "rank_change", "comparable", "comparable_previous", "comparable_change"]]


def recurring(now_obligations: pd.DataFrame, before_obligations: pd.DataFrame, bodies: pd.DataFrame,
              obligations: pd.DataFrame) -> pd.DataFrame:
    """Problems lost in both years (反復出現): body, obligation, gap (this year), gap_before (the
    previous obligations it continues, of the body's predecessors)."""
    lost = now_obligations[now_obligations["gap"] > LOST][["body", "obligation", "gap"]].astype({"body": str, "obligation": str})
    before = before_obligations[before_obligations["gap"] > LOST][["body", "obligation", "gap"]]
    before = before.astype({"body": str, "obligation": str}).rename(
        columns={"body": "previous", "obligation": "previous_obligation", "gap": "gap_before"})
    pairs = (lost.merge(bodies[["body", "previous"]], on="body")
             .merge(obligations.rename(columns={"previous": "previous_obligation"}), on="obligation")
             .merge(before, on=["previous", "previous_obligation"]))
    both = pairs.groupby(["body", "obligation"], as_index=False).agg(gap=("gap", "first"), gap_before=("gap_before", "sum"))
    return both.sort_values(["body", "gap"], ascending=[True, False]).reset_index(drop=True)


def most_improved(changes: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """Per kind, the n bodies whose comparable score rose most (rose at all): kind, body, name, comparable_change."""
    up = changes[changes["comparable_change"] > 1e-9].sort_values(["kind", "comparable_change", "body"],
                                                                   ascending=[True, False, True])
    return up.groupby("kind").head(n)[["kind", "body", "name", "comparable_change"]].reset_index(drop=True)


def compose(mapping: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Two crosswalks one after the other: body → previous (weight) then previous → the one before:
    body → the one before, weights multiplied."""
    both = mapping.merge(links.rename(columns={"body": "previous", "previous": "before", "weight": "w2"}), on="previous")
    both["weight"] = both["weight"] * both["w2"]
    return both.groupby(["body", "before"], as_index=False)["weight"].sum().rename(columns={"before": "previous"})


def mapped_scores(mapping: pd.DataFrame, scores: pd.Series) -> pd.Series:
    """Per body, the weighted score of the bodies it continues (those with a score)."""
    w = mapping.assign(v=mapping["previous"].map(scores)).dropna(subset=["v"])
    return (w["v"] * w["weight"]).groupby(w["body"]).sum() / w.groupby("body")["weight"].sum()
