"""Seeded synthetic schemes and evidence at national scale, for benchmarks and load tests.

`national()` keeps the 2017 obligations over 333 cities, 2,844 counties and 60 departments (the
nation's counts) and adds `channels` daily website/new-media monitoring obligations (日常監測) for
every body: each adds 365 records a body, which is how evidence reaches millions of rows.
`evidence()` draws publications, lateness, ratings and shares from each body's seeded diligence,
directly in the engine's coded form (categorical columns), so 10 million rows fit in memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from scoring import SCHEME_FILE
from scoring.intake.evidence import EVIDENCE_COLUMNS, empty_evidence
from scoring.method import periods
from scoring.method.compiled import rule_table
from scoring.method.rules import expected_items
from scoring.method.scheme import Scheme, parse_scheme

NATIONAL = {"cities": 333, "counties": 2844, "departments": 60}


def national(cities: int = 333, counties: int = 2844, departments: int = 60, channels: int = 0) -> Scheme:
    """The 2017 obligations over a nation of bodies, plus `channels` daily monitoring obligations.
    The document's 34 lead units are always there; `departments` beyond them are synthetic."""
    doc = yaml.safe_load(SCHEME_FILE.read_text(encoding="utf-8"))
    leads = [b for b in doc["bodies"] if b["kind"] == "department"]
    extra = [{"id": f"dept{i:04d}", "name": f"合成部門{i:04d}", "kind": "department"}
             for i in range(max(0, departments - len(leads)))]
    bodies = [{"id": f"c{c:04d}", "name": f"合成{c:04d}市", "kind": "city"} for c in range(cities)]
    bodies += [{"id": f"k{k:05d}", "name": f"合成{k:05d}縣", "kind": "county", "parent": f"c{k % max(cities, 1):04d}"}
               for k in range(counties if cities else 0)]
    doc["bodies"] = bodies + leads + extra
    doc["scheme"]["id"] = f"synthetic-{cities}-{counties}-{departments}-{channels}"
    doc["scheme"]["rollup"] = {"counties": 0.3}
    for ch in range(channels):
        doc["obligations"].append({
            "id": f"7.{ch + 1}", "section": ["合成"], "title": f"日常監測 渠道{ch + 1}（合成）", "source": "加大網站內容日常監測",
            "applies_to": ["city", "county", "department"], "points": 1,
            "rules": [{"kind": "periodic", "frequency": "daily", "within": {"days": 1}}]})
    return parse_scheme(yaml.safe_dump(doc, allow_unicode=True), doc["scheme"]["id"])


def for_rows(rows: int, counties: int = NATIONAL["counties"]) -> Scheme:
    """A national scheme whose synthetic evidence has about `rows` records (≥ ~36,000).
    With more `counties` the scheme is larger but has the same obligations, and the nation's bodies
    keep their ids and names: the evidence drawn for `for_rows(rows)` is valid for it too."""
    n = sum(NATIONAL.values())
    base, kept = 36_000, 0.86  # the 2017 obligations' records; the share of daily items published
    return national(counties=counties, channels=max(0, round((rows - base) / (n * 365 * kept))))


def evidence(scheme: Scheme, seed: int = 7) -> pd.DataFrame:
    """Synthetic evidence in the engine's validated form (coded), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    items = expected_items(scheme, empty_evidence())
    rules = rule_table(scheme)
    kind = rules["kind"].to_numpy()[items["rule_id"].to_numpy()]
    body = items["body"].cat.codes.to_numpy()
    diligence = rng.uniform(0.3, 0.97, len(items["body"].cat.categories))[body]
    u = rng.random(len(items))
    timed = np.isin(kind, ("deadline", "periodic"))
    due = items["due"].to_numpy(dtype="datetime64[ns]")
    day = np.timedelta64(1, "D")
    early = rng.integers(0, 6, len(items)) * day
    late = rng.integers(1, 25, len(items)) * day
    on_time, is_late = u < diligence, u < diligence + (1 - diligence) * 0.6
    published = np.where(on_time, due - early, np.where(is_late, due + late, np.datetime64("NaT")))
    published = np.where(timed, published, np.datetime64("NaT")).astype("datetime64[D]").astype("datetime64[ns]")
    # never before the period begins (a publication cannot precede what it reports: criteria/README.md)
    firsts = np.array([(periods.parse(str(x)) or (None, np.datetime64("NaT")))[1] for x in items["item"].cat.categories],
                      dtype="datetime64[D]").astype("datetime64[ns]")
    first = np.where(kind == "periodic", firsts[items["item"].cat.codes.to_numpy()], np.datetime64("NaT"))
    published = np.where(~np.isnat(first) & (published < first), first, published)
    published = np.where(kind == "count", np.datetime64("2017-09-15", "ns"), published)
    value = np.where(kind == "rating", np.clip(rng.normal(30 + 65 * diligence, 7), 15, 100).round(1), np.nan)
    value = np.where(kind == "share", np.where(u < 0.05, 0.03, 0.05), value)
    keep = ~np.isnat(published) | ~np.isnan(value)
    keep &= ~((kind == "count") & (u > diligence + 0.2))
    items = items[keep]
    labels = items["item"].cat.categories
    item_text = np.asarray(labels, dtype=object)[items["item"].cat.codes.to_numpy()]
    # a periodic publication, or a rating given per period (a quarterly spot check), names its period
    periodic = (kind == "periodic")[keep] | (((kind == "rating")[keep]) & (item_text != "rating"))
    period = pd.Categorical.from_codes(np.where(periodic, items["item"].cat.codes.to_numpy() + 1, 0),
                                       categories=pd.Index(["", *labels]))
    n = len(items)
    blank = pd.Categorical.from_codes(np.zeros(n, np.int8), categories=[""])
    out = pd.DataFrame({
        "row": np.arange(2, n + 2), "body": items["body"].to_numpy(), "obligation": items["obligation"].to_numpy(),
        "period": period, "event": blank, "event_at": pd.NaT, "step": blank,
        "published_at": pd.to_datetime(published[keep]), "has_time": False, "value": value[keep],
        "url": blank, "assessor": blank, "note": blank,
        "record": pd.Categorical.from_codes((~np.isnan(value[keep])).astype(np.int8), ["publication", "value"])})
    out["event_at"] = out["event_at"].astype("datetime64[ns]")
    return out[EVIDENCE_COLUMNS]


def write_csv(scheme: Scheme, frame: pd.DataFrame, path, chunk: int = 500_000) -> None:
    """Synthetic evidence as an import file (Chinese headers, UTF-8), written in chunks."""
    from scoring.intake.tables import COLUMNS

    names = {b.id: b.name for b in scheme.bodies}
    for start in range(0, len(frame), chunk):
        part = frame.iloc[start:start + chunk]
        text = pd.DataFrame({
            COLUMNS["body"]: part["body"].astype(str).map(names), COLUMNS["obligation"]: part["obligation"].astype(str),
            COLUMNS["period"]: part["period"].astype(str),
            COLUMNS["published_at"]: part["published_at"].dt.strftime("%Y-%m-%d").fillna(""),
            COLUMNS["value"]: part["value"].map(lambda v: "" if np.isnan(v) else f"{v:g}")})
        if isinstance(path, (str, Path)):
            text.to_csv(path, mode="w" if start == 0 else "a", header=start == 0, index=False)
        else:  # an open text stream
            text.to_csv(path, header=start == 0, index=False)
