"""A body's self-assessment (自評) beside the third-party finding: where the body's claim about an
obligation differs from what the assessment found. Pure; a claim is never evidence and never scored."""

from __future__ import annotations

import numpy as np
import pandas as pd

OUTCOMES = ("on_time", "late", "missing", "met", "short", "pass", "fail")
COLUMNS = ["body", "obligation", "claim", "published_at", "url", "third_party", "third_published_at",
           "items", "differ", "differs", "unsupported", "supported"]
# how good an outcome is: a claim is unsupported by an item whose finding is worse than the claim
# (claimed on time, found late or missing; claimed met, found short)
RANK = {"on_time": 2, "met": 2, "pass": 2, "late": 1, "missing": 0, "short": 0, "fail": 0}


def claim_problem(claim: str) -> str:
    """'' for a valid claim (an outcome word, or a number: a rating or a share), else why not."""
    text = claim.strip().removesuffix("%")
    if claim.strip() in OUTCOMES:
        return ""
    try:
        float(text)
    except ValueError:
        return f"a claim is one of {', '.join(OUTCOMES)} or a number (a rating, or a share such as 4%)"
    return ""


def _number(claim: str) -> float:
    text = claim.strip()
    return float(text.removesuffix("%")) / 100 if text.endswith("%") else float(text)


def compare(claims: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """Per claim (body, obligation, claim, published_at, url): the third-party findings of that body ×
    obligation summarised (`on_time 10 · late 1`), their earliest publication, how many items and how
    many differ from the claim — an outcome claim: items with another outcome (ratings left out); a
    number: rating or share items whose value differs — and `differs`; `unsupported`: the items the
    firm's evidence found worse than the claim (an outcome below the claimed one; a value below the
    claimed number, or none), and `supported`: findings exist and none of them is below the claim."""
    rows = []
    # only the claimed bodies' and obligations' findings are grouped (a nation's findings are millions)
    findings = findings[findings["body"].isin(claims["body"]) & findings["obligation"].isin(claims["obligation"])]
    f = findings.assign(body=findings["body"].astype(str), obligation=findings["obligation"].astype(str),
                        outcome=findings["outcome"].astype(str), kind=findings["kind"].astype(str))
    groups = {k: g for k, g in f.groupby(["body", "obligation"], sort=False)}
    for c in claims.itertuples():
        mine = groups.get((c.body, c.obligation), f.iloc[:0])
        summary = " · ".join(f"{o} {n}" for o, n in mine["outcome"].value_counts().sort_index().items())
        if c.claim.strip() in OUTCOMES:
            judged = mine[mine["kind"] != "rating"]
            differ = int((judged["outcome"] != c.claim.strip()).sum())
            below = int((judged["outcome"].map(RANK).fillna(0) < RANK[c.claim.strip()]).sum())
        else:
            valued = mine[mine["kind"].isin(["rating", "share"])]
            values = valued["value"].to_numpy(float)
            differ = int((np.isnan(values) | (np.abs(values - _number(c.claim)) > 1e-9)).sum())
            below = int((np.isnan(values) | (values < _number(c.claim) - 1e-9)).sum())
        first = mine["published_at"].min() if len(mine) else pd.NaT
        rows.append((c.body, c.obligation, c.claim, c.published_at, c.url, summary or "—",
                     first, len(mine), differ, differ > 0 or mine.empty, below, below == 0 and not mine.empty))
    return pd.DataFrame(rows, columns=COLUMNS)
