"""Explaining points: what each finding cost a body (in score points) and how late a late item was."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.i18n import text
from scoring.method.compiled import compiled
from scoring.method.engine import Scorecard
from scoring.method.scheme import ChecklistRule


def losses(card: Scorecard, findings: pd.DataFrame | None = None, lost_over: float | None = None) -> pd.DataFrame:
    """Findings with `lost`: the score points each one cost its body (`findings`: some bodies' own,
    every one of theirs; default all); with `lost_over`, only those that cost more (kept before the
    body and obligation are written out as text: a nation's 1M findings, half of them lost).

    Proportional: p × (1 − credit) / (rules scored × items of its rule); deduction: its share of
    the points actually deducted. Both × 100 / Σp of the body, so a body's losses add up to its gaps.
    """
    f = card.findings if findings is None else findings
    body_names, ob_names = f["body"].cat.categories.astype(str), f["obligation"].cat.categories.astype(str)
    body, ob = f["body"].cat.codes.to_numpy(np.int64), f["obligation"].cat.codes.to_numpy(np.int64)
    # each (body, obligation)'s points, earned points, mode and bonus, and each body's Σp, looked up
    # by the findings' codes (merging 8M findings of 21,700 bodies held gigabytes)
    o = card.obligations
    at = (pd.Index(body_names).get_indexer(o["body"].astype(str)) * len(ob_names)
          + pd.Index(ob_names).get_indexer(o["obligation"].astype(str)))
    known = (at >= 0) & ~o["body"].isna().to_numpy()

    def by_pair(values, fill) -> np.ndarray:
        table = np.full(len(body_names) * len(ob_names), fill)
        table[at[known]] = np.asarray(values)[known]
        return table
    pair = body * len(ob_names) + ob
    del body, ob
    n_pairs = len(body_names) * len(ob_names)
    points = by_pair(o["points"].to_numpy(float), np.nan)[pair]
    base = np.full(len(body_names), np.nan)
    base[pd.Index(body_names).get_indexer(card.scores["body"].astype(str))] = card.scores["points_base"].to_numpy(float)
    base = base[f["body"].cat.codes.to_numpy()]
    keep = ~np.isnan(points) & ~np.isnan(base)   # as an inner join on both would keep
    # per rule: Σ weight of its items; per (body, obligation): rules with findings, Σ deductions
    rule_no = f["rule_no"].to_numpy(np.int64)
    width = int(rule_no.max(initial=0)) + 1
    rules, rule_group = np.unique(pair * width + rule_no, return_inverse=True)
    del rule_no
    weight = f["weight"].to_numpy(float)
    lost = points * (1 - f["credit"].to_numpy(float)) * weight   # proportional: p × (1 − credit) × w / (rules × Σw)
    lost /= np.bincount(rule_group, weights=weight, minlength=len(rules))[rule_group]
    del rule_group
    lost /= np.bincount(rules // width, minlength=n_pairs)[pair]
    deduction_mode = by_pair((o["mode"] == "deduction").to_numpy(), False)[pair]
    if deduction_mode.any():   # deduction: its share of the points actually deducted
        deducted = np.nan_to_num(f["deduction"].to_numpy(float))
        total = np.bincount(pair, weights=deducted * keep, minlength=n_pairs)[pair]
        earned = by_pair(o["earned"].to_numpy(float), np.nan)[pair]
        with np.errstate(invalid="ignore", divide="ignore"):
            lost = np.where(deduction_mode, np.where(total > 0, deducted / total * (points - earned), 0.0), lost)
    lost *= 100
    lost /= base
    lost[by_pair(o["bonus"].to_numpy(bool), False)[pair]] = 0.0
    if lost_over is not None:
        keep &= lost > lost_over
    kept = f.assign(lost=lost) if keep.all() else f[keep].assign(lost=lost[keep])   # no copy of 8M rows for nothing
    return kept.astype({"body": str, "obligation": str}).reset_index(drop=True)


def lateness(card: Scorecard, findings: pd.DataFrame | None = None) -> pd.DataFrame:
    """For late time items: working days late (whole-day dues) or hours late (hour windows)."""
    findings = card.findings if findings is None else findings
    f = findings[findings["outcome"] == "late"].copy()
    due, pub = f["due"], f["published_at"]
    whole_day = (due + pd.Timedelta(1, "ns")).dt.normalize() == due + pd.Timedelta(1, "ns")
    f["late_hours"] = ((pub - due).dt.total_seconds() / 3600).where(~whole_day).round(1)
    f["late_working_days"] = pd.Series(pd.NA, index=f.index, dtype="Int64")
    days = f[whole_day]
    if not days.empty:
        cal = compiled(card.scheme).calendar
        first = int(days["due"].dt.year.min())
        last = int(days["published_at"].dt.year.max())
        table = np.concatenate([cal._year_workdays(y) for y in range(first, last + 1)])
        d0 = days["due"].to_numpy().astype("datetime64[D]")
        d1 = days["published_at"].to_numpy().astype("datetime64[D]")
        counts = np.searchsorted(table, d1, side="right") - np.searchsorted(table, d0, side="right")
        f.loc[whole_day, "late_working_days"] = counts
    return f[["body", "obligation", "rule", "item", "late_working_days", "late_hours"]]


def costed(card: Scorecard, findings: pd.DataFrame | None = None, lost_over: float | None = None) -> pd.DataFrame:
    """Findings (default: every body's) with what each cost (`lost`) and how late it was, in their
    order; with `lost_over`, only those that cost more. One pass for any number of bodies."""
    f = losses(card, findings)
    if lost_over is not None:
        f = f[f["lost"] > lost_over]
    # lateness is of each row itself (its due, publication and outcome): joined by the rows' index,
    # never merged on four text keys (3M rows of 21,700 bodies)
    return f.join(lateness(card, f)[["late_working_days", "late_hours"]])


def worst_first(found: pd.DataFrame, by_body: bool = False) -> pd.DataFrame:
    """Findings worst first (most lost, then obligation and item), per body with `by_body`."""
    keys = ["body"] * by_body + ["lost", "obligation", "item"]
    return found.sort_values(keys, ascending=[True] * by_body + [False, True, True], ignore_index=True)


def explained(card: Scorecard, body: str) -> pd.DataFrame:
    """A body's findings with what they cost and how late they were, worst first."""
    f = costed(card, card.findings_of_body(body))
    labels = {(o.id, n): (r.label or r.kind) for o in card.scheme.obligations for n, r in enumerate(o.rules)}
    f["label"] = [labels[(o, n)] for o, n in zip(f["obligation"], f["rule_no"], strict=True)]
    checks = {(o.id, n, leaf.id): " › ".join((*path, leaf.text)) for o in card.scheme.obligations
              for n, r in enumerate(o.rules) if isinstance(r, ChecklistRule) for leaf, path in r.leaves()}
    f["item_text"] = [checks.get((o, n, str(i)), "") for o, n, i in zip(f["obligation"], f["rule_no"], f["item"], strict=True)]
    return worst_first(f)


def late_texts(found: pd.DataFrame, lang: str) -> pd.Series:
    """`late_text` of every row at once (a report over the nation has hundreds of thousands)."""
    out = pd.Series("", index=found.index, dtype=object)
    if "late_working_days" in found:
        days = found["late_working_days"].dropna()
        out[days.index] = days.astype(int).astype(str) + text("working_days", lang)
        hours = found["late_hours"].dropna().drop(days.index, errors="ignore")
        out[hours.index] = [f"{h:g}{text('hours', lang)}" for h in hours]
    return out


def late_text(row: pd.Series, lang: str) -> str:
    """How late a finding was, in words: "3个工作日" / "6小时" (empty when it was not late)."""
    if pd.notna(row.get("late_working_days")):
        return f"{int(row['late_working_days'])}{text('working_days', lang)}"
    if pd.notna(row.get("late_hours")):
        return f"{row['late_hours']:g}{text('hours', lang)}"
    return ""


def share_status(card: Scorecard, lang: str) -> pd.Series:
    """The 4% rule per body, in `card.scores` order: met / not met / no value given, "—" where the
    body has no share rule. Shared by the dashboard and the report."""
    f = card.findings_of_kind("share")
    if f.empty:  # a scheme without a share rule
        return pd.Series("—", index=card.scores["body"].astype(str).to_numpy())
    # per body without a Python call per body (3,237 bodies at national scale): all passed, any value
    per = pd.DataFrame({"body": f["body"], "fail": (f["outcome"] != "pass").to_numpy(),
                        "given": f["value"].notna().to_numpy()}).groupby("body", observed=True)
    met, given = ~per["fail"].any(), per["given"].any()
    words = {True: text("share_pass", lang), False: text("share_fail", lang)}
    status = met.map(words).where(given | met, text("share_none", lang))
    status.index = status.index.astype(str)
    return status.reindex(card.scores["body"].astype(str)).fillna("—")


def evidence_item(evidence: pd.DataFrame) -> pd.Series:
    """The item each evidence row speaks to, as the engine reads it: `event/step` for an event, a
    rubric check's `step`, else its period, else `deadline`."""
    item = evidence["period"].where(evidence["period"] != "", "deadline")
    item = item.where(~((evidence["event"] == "") & (evidence["step"] != "")), evidence["step"])
    return item.where(evidence["event"] == "", evidence["event"] + "/" + evidence["step"])


def finding_files(findings: pd.DataFrame, evidence: pd.DataFrame) -> list[list[str]]:
    """Per finding: the preserved files (sha256) of the scored evidence records of its body,
    obligation and item, earliest published first, each once."""
    if evidence.empty or "attachment" not in evidence:
        return [[] for _ in range(len(findings))]
    scored = evidence[(evidence["attachment"].fillna("") != "") & (evidence["rejected"].fillna("") == "")]
    scored = scored.assign(item=evidence_item(scored)).sort_values("published_at", na_position="last")
    files: dict[tuple[str, str, str], list[str]] = {}
    for r in scored.itertuples():
        key = (r.body, r.obligation, str(r.item))
        if r.attachment not in files.setdefault(key, []):
            files[key].append(r.attachment)
    return [files.get((b, o, str(i)), []) for b, o, i in
            zip(findings["body"], findings["obligation"], findings["item"], strict=True)]
