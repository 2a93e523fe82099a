"""The scoring pipeline (spec §3–4): items → findings → earned points → scores, ranks, grades, gaps.

Each step is a pure function of DataFrames; `score` runs them all and keeps every table so any
point can be traced to the obligation and the evidence behind it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.rules import expected_items
from scoring.scheme import Scheme

TIME_KINDS = ("deadline", "periodic", "response")
FINDING_COLUMNS = ["body", "obligation", "rule", "item", "due", "published_at",
                   "outcome", "credit", "deduction", "value", "kind", "rule_no"]


def end_of(day: dt.date) -> pd.Timestamp:
    """The last instant of a day: the assessment date counts whole."""
    return pd.Timestamp(day) + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")


def _evidence_item(evidence: pd.DataFrame) -> pd.Series:
    """The item key a dated evidence row speaks to: `deadline`, a period label, or `event/step`."""
    item = pd.Series("deadline", index=evidence.index, dtype=object)
    item = item.where(evidence["period"] == "", evidence["period"])
    is_event = evidence["event"] != ""
    return item.where(~is_event, evidence["event"] + "/" + evidence["step"])


def _time_findings(items: pd.DataFrame, evidence: pd.DataFrame, as_of_end: pd.Timestamp) -> pd.DataFrame:
    dated = evidence[evidence["published_at"].notna() & (evidence["published_at"] <= as_of_end)]
    dated = dated.assign(item=_evidence_item(dated))
    earliest = dated.groupby(["body", "obligation", "item"], as_index=False)["published_at"].min()
    f = items[items["kind"].isin(TIME_KINDS) & (items["due"] <= as_of_end)]
    f = f.merge(earliest, on=["body", "obligation", "item"], how="left")
    on_time = f["published_at"] <= f["due"]
    missing = f["published_at"].isna()
    f["outcome"] = np.select([missing, on_time], ["missing", "on_time"], "late")
    f["credit"] = np.select([missing, on_time], [0.0, 1.0], f["late_credit"])
    f["deduction"] = np.select([missing, on_time], [f["deduct_missing"], 0.0], f["deduct_late"])
    f["value"] = np.nan
    return f


def _count_findings(items: pd.DataFrame, evidence: pd.DataFrame, start: dt.date,
                    as_of_end: pd.Timestamp) -> pd.DataFrame:
    f = items[items["kind"] == "count"]
    plain = evidence[(evidence["event"] == "") & evidence["published_at"].notna()
                     & (evidence["published_at"] >= pd.Timestamp(start))
                     & (evidence["published_at"] <= as_of_end)]
    n = plain.groupby(["body", "obligation"]).size().rename("value").reset_index()
    f = f.merge(n, on=["body", "obligation"], how="left").fillna({"value": 0.0})
    met = f["value"] >= f["min"]
    f["outcome"] = np.where(met, "met", "short")
    f["credit"] = np.minimum(1.0, f["value"] / f["min"])
    f["deduction"] = np.where(met, 0.0, f["deduct_missing"])
    f["published_at"] = plain.groupby(["body", "obligation"])["published_at"].min().reindex(
        pd.MultiIndex.from_frame(f[["body", "obligation"]])).to_numpy()
    return f


def _value_findings(items: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    f = items[items["kind"].isin(("rating", "share"))]
    vals = evidence[evidence["value"].notna()].groupby(["body", "obligation"])["value"].mean()
    f = f.merge(vals.rename("value").reset_index(), on=["body", "obligation"], how="left")
    rating = f["kind"] == "rating"
    none = f["value"].isna()
    passed = f["value"] >= f["min"] - 1e-12
    f["outcome"] = np.select([rating & none, rating, passed], ["missing", "rated", "pass"], "fail")
    f["credit"] = np.select([none, rating, passed], [0.0, f["value"] / 100, 1.0], 0.0)
    f["deduction"] = np.select([rating & ~none], [f["deduct_missing"] * (1 - f["value"] / 100)],
                               np.where(f["credit"] >= 1, 0.0, f["deduct_missing"]))
    f["published_at"] = pd.NaT
    return f


def judge(items: pd.DataFrame, evidence: pd.DataFrame, scheme: Scheme, as_of: dt.date) -> pd.DataFrame:
    """One finding per item due by `as_of`: outcome, credit (proportional) and deduction (扣分制)."""
    as_of_end = end_of(as_of)
    parts = [
        _time_findings(items, evidence, as_of_end),
        _count_findings(items, evidence, scheme.scheme.period.start, as_of_end),
        _value_findings(items, evidence),
    ]
    nonempty = [p for p in parts if not p.empty]
    f = pd.concat(nonempty, ignore_index=True) if nonempty else parts[0].iloc[0:0]
    modes = {o.id: o.mode for o in scheme.obligations}
    f["deduction"] = f["deduction"].where(f["obligation"].map(modes) == "deduction", 0.0)
    f = f.rename(columns={"rule": "rule_no"}).rename(columns={"ref": "rule"})
    f["published_at"] = f["published_at"].astype("datetime64[ns]")
    return f[FINDING_COLUMNS].sort_values(["body", "obligation", "rule_no", "due", "item"],
                                          ignore_index=True)


def obligation_table(scheme: Scheme) -> pd.DataFrame:
    """Every (body, obligation) pair assessed, with points, mode, veto and bonus."""
    rows = [(b, o.id, o.points, o.mode, o.veto, o.bonus)
            for o in scheme.obligations for b in scheme.assessed(o)]
    return pd.DataFrame(rows, columns=["body", "obligation", "points", "mode", "veto", "bonus"])


def earn(findings: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Earned points per (body, obligation) (spec §4). Proportional: p × mean over rules of each
    rule's mean credit. Deduction: max(0, p − Σ deductions). No finding at all: N/A."""
    per_rule = findings.groupby(["body", "obligation", "rule_no"])["credit"].mean()
    credit = per_rule.groupby(["body", "obligation"]).mean().rename("credit")
    deducted = findings.groupby(["body", "obligation"])["deduction"].sum().rename("deducted")
    vetoed = findings["outcome"].isin(("missing", "short", "fail"))
    missing = vetoed.groupby([findings["body"], findings["obligation"]]).any().rename("has_missing")
    e = pairs.join(credit, on=["body", "obligation"]).join(deducted, on=["body", "obligation"])
    e = e.join(missing, on=["body", "obligation"])
    scored = e["credit"].notna()
    earned = np.where(e["mode"] == "deduction", np.maximum(0.0, e["points"] - e["deducted"]),
                      e["points"] * e["credit"])
    e["earned"] = np.where(scored, earned, 0.0)
    e["status"] = np.where(scored, "scored", "na")
    e["has_missing"] = e["has_missing"].fillna(False).astype(bool) & scored
    return e.drop(columns=["credit", "deducted"])


def _rank(scores: pd.Series) -> pd.Series:
    return scores.round(2).rank(method="min", ascending=False).astype("Int64")


def total(earned: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Per body: base, bonus, score (with county roll-up), grade with veto, rank within kind."""
    h = scheme.scheme
    base_rows = earned[(earned["status"] == "scored") & ~earned["bonus"]]
    sums = base_rows.groupby("body")[["earned", "points"]].sum()
    bodies = pd.DataFrame([(b.id, b.name, b.kind, b.parent) for b in scheme.bodies],
                          columns=["body", "name", "kind", "parent"]).set_index("body")
    s = bodies.join(sums.rename(columns={"earned": "earned_base", "points": "points_base"}))
    s["base"] = 100 * s["earned_base"] / s["points_base"]
    bonus = earned[(earned["status"] == "scored") & earned["bonus"]].groupby("body")["earned"].sum()
    s["bonus"] = bonus.reindex(s.index).fillna(0.0)
    if h.bonus is not None:
        s["bonus"] = np.where(s["base"] >= h.bonus.gate, np.minimum(s["bonus"], h.bonus.cap), 0.0)
    s["own"] = s["base"] + s["bonus"]
    s["score"] = s["own"]
    if h.rollup is not None:
        w = h.rollup.counties
        county_mean = s[s["kind"] == "county"].groupby("parent")["own"].mean()
        has = s.index.isin(county_mean.index) & (s["kind"] == "city")
        s.loc[has, "score"] = (1 - w) * s.loc[has, "own"] + w * county_mean.reindex(s.index[has]).to_numpy()
    vetoes = earned[earned["veto"] & earned["has_missing"]].groupby("body")["obligation"].agg(
        lambda x: ", ".join(sorted(x)))
    s["veto"] = vetoes.reindex(s.index).fillna("")
    bands = [(g.min, g.name) for g in h.grades]
    s["grade"] = s["score"].map(lambda v: next((n for m, n in bands if v >= m - 1e-9), "") if pd.notna(v) else "")
    s.loc[s["veto"] != "", "grade"] = bands[-1][1]
    s["rank"] = s.groupby("kind")["score"].transform(_rank).astype("Int64")
    s = s.reset_index()
    order = {"city": 0, "department": 1, "county": 2}
    s = s.sort_values(["kind", "rank", "body"], key=lambda c: c.map(order) if c.name == "kind" else c,
                      ignore_index=True, na_position="last")
    return s[["body", "name", "kind", "parent", "score", "rank", "grade", "base", "bonus", "own",
              "veto", "points_base"]]


def gaps(earned: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Points lost per (body, obligation) as score points: 100 × (p − earned) / Σp (bonus and N/A: 0)."""
    g = earned.merge(scores[["body", "points_base"]], on="body", how="left")
    lost = (g["status"] == "scored") & ~g["bonus"]
    g["gap"] = np.where(lost, 100 * (g["points"] - g["earned"]) / g["points_base"], 0.0)
    return g.drop(columns=["points_base"])


@dataclass(frozen=True)
class Scorecard:
    """The named tables of one scoring run; every number in `scores` is traceable to `findings`."""

    scheme: Scheme
    as_of: dt.date
    items: pd.DataFrame
    findings: pd.DataFrame
    obligations: pd.DataFrame  # earned points and gaps per (body, obligation)
    scores: pd.DataFrame       # per body

    def gaps_of(self, body: str) -> pd.DataFrame:
        """A body's gaps (差距), largest first, each with the count of findings not fully earned."""
        g = self.obligations[(self.obligations["body"] == body) & (self.obligations["gap"] > 1e-12)]
        return g.sort_values(["gap", "obligation"], ascending=[False, True], ignore_index=True)

    def findings_of(self, body: str, obligation: str) -> pd.DataFrame:
        f = self.findings
        return f[(f["body"] == body) & (f["obligation"] == obligation)].reset_index(drop=True)


def rescore(scheme: Scheme, findings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Earned points, gaps and scores from existing findings: a points change needs no new findings."""
    earned = earn(findings, obligation_table(scheme))
    scores = total(earned, scheme)
    return gaps(earned, scores), scores


def score(scheme: Scheme, evidence: pd.DataFrame, as_of: dt.date | None = None) -> Scorecard:
    """Score every body of a scheme from validated evidence, judged at `as_of`."""
    as_of = as_of or scheme.default_as_of
    items = expected_items(scheme, evidence)
    findings = judge(items, evidence, scheme, as_of)
    obligations, scores = rescore(scheme, findings)
    return Scorecard(scheme, as_of, items, findings, obligations, scores)
