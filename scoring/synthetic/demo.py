"""Deterministic, clearly labelled synthetic evidence for a scheme (the demo, the docs, the tests).

Each body gets a seeded diligence; items are published on time, late or not at all accordingly.
A few bodies have emergencies (one press conference late), the firm tests every body with one
information request (依申請公開, answered within the legal limit by the diligent), some reports are
seen twice (the department's site and the portal, on different dates: sightings), and one city's own
performance assessment gives 政務公開 only 3%. Rows use the Chinese import headers, so the demo goes through
the same validation as a firm's file.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from scoring.intake.evidence import empty_evidence
from scoring.intake.tables import COLUMNS
from scoring.method.compiled import rule_table
from scoring.method.rules import expected_items
from scoring.method.scheme import RequestRule, ResponseRule, Scheme

FIRM = "示例評估機構（合成數據）"
NOTE = "合成示例數據 synthetic demo data"
LOW_SHARE_CITY = "liaocheng"      # its own assessment weighs 政務公開 at 3%
LATE_PRESS_CITY = "linyi"         # its press conference came 30 hours after the emergency
EMERGENCIES = {"linyi": "2017-07-14 09:20", "jining": "2017-08-02 16:05",
               "yantai": "2017-10-19 07:40", "anjian": "2017-04-26 22:10"}
REQUEST_SENT = "2017-09-04 10:00"  # the firm's test request (依申請公開), received by every body


def diligence(scheme: Scheme, seed: int) -> pd.Series:
    """A body's chance of publishing an item on time (seeded; spread from 0.30 to 0.97)."""
    rng = np.random.default_rng(seed)
    ids = [b.id for b in scheme.bodies]
    return pd.Series(np.round(rng.uniform(0.30, 0.97, len(ids)), 3), index=ids)


def _in_year(when: str, scheme: Scheme) -> str:
    """A demo date of 2017 moved to the scheme's year (the synthetic second year's events)."""
    return str(scheme.scheme.period.start.year) + when[4:]


def _events(scheme: Scheme) -> pd.DataFrame:
    rows = []
    for ob in scheme.obligations:
        for rule in ob.rules:
            if not isinstance(rule, ResponseRule | RequestRule):
                continue
            for body in scheme.assessed(ob, rule):
                hourly = isinstance(rule, ResponseRule) and any(s.within.hours is not None for s in rule.steps)
                at = EMERGENCIES.get(body) if hourly else REQUEST_SENT
                if at is None:
                    continue
                at = _in_year(at, scheme)
                rows.append((body, ob.id, "E-" + at[:10].replace("-", ""), at, rule))
    return pd.DataFrame(rows, columns=["body", "obligation", "event", "event_at", "rule"])


def generate(scheme: Scheme, seed: int = 2017) -> pd.DataFrame:
    """The demo evidence as an import table (Chinese headers, strings), ready for validation."""
    rng = np.random.default_rng(seed)
    d = diligence(scheme, seed)
    items = expected_items(scheme, empty_evidence())
    items = items.assign(kind=rule_table(scheme)["kind"].to_numpy()[items["rule_id"].to_numpy()],
                         body=items["body"].astype(str), item=items["item"].astype(str),
                         obligation=items["obligation"].astype(str))
    p = items["body"].map(d).to_numpy(dtype=float)
    u = rng.uniform(size=len(items))
    timed = items["kind"].isin(["deadline", "periodic"]).to_numpy()
    due = items["due"].dt.normalize()
    early = pd.to_timedelta(rng.integers(0, 6, len(items)), unit="D")
    late = pd.to_timedelta(rng.integers(1, 25, len(items)), unit="D")
    published = np.where(u < p, due - early, np.where(u < p + (1 - p) * 0.6, due + late, pd.NaT))
    out = items[["body", "obligation", "item", "kind"]].copy()
    out["published_at"] = pd.to_datetime(published)
    out.loc[~timed & (items["kind"] == "count").to_numpy(), "published_at"] = pd.Timestamp(_in_year("2017-09-15", scheme))
    out["value"] = ""
    rating = (items["kind"] == "rating").to_numpy()
    grade = np.clip(rng.normal(30 + 65 * p, 7), 15, 100).round(1)
    out.loc[rating, "value"] = grade[rating].astype(str)
    share = (items["kind"] == "share").to_numpy()
    out.loc[share, "value"] = np.where(out.loc[share, "body"] == LOW_SHARE_CITY, "3%", "5%")
    keep = out["published_at"].notna() | rating | share
    keep &= ~((items["kind"] == "count") & (u > p + 0.2)).to_numpy()  # some never met their leaders
    out = out[keep]
    names = {b.id: b.name for b in scheme.bodies}
    table = pd.DataFrame({
        "body": out["body"].map(names),
        "obligation": out["obligation"],
        "period": np.where((out["kind"] == "periodic") | ((out["kind"] == "rating") & (out["item"] != "rating")),
                           out["item"], ""),
        "published_at": np.where(out["published_at"].notna(),
                                 out["published_at"].dt.strftime("%Y-%m-%d"), ""),
        "value": out["value"],
    })
    # some periodic reports were seen again on another site a few days later: sightings (the earliest counts)
    seen = out["kind"].eq("periodic").to_numpy() & (rng.uniform(size=len(out)) < 0.08)
    again = table[seen].assign(published_at=(out.loc[seen, "published_at"]
                                             + pd.to_timedelta(rng.integers(1, 6, int(seen.sum())), unit="D")
                                             ).dt.strftime("%Y-%m-%d").to_numpy())
    table = pd.concat([table, again, _event_rows(scheme, d)], ignore_index=True).fillna("")
    table["assessor"] = FIRM
    table["note"] = NOTE
    table["url"] = "https://example.gov.cn/gk/" + table.index.astype(str)
    return table.rename(columns=COLUMNS)[[COLUMNS[c] for c in
                                          ("body", "obligation", "period", "event", "event_at", "step",
                                           "published_at", "value", "url", "assessor", "note")]]


def _event_rows(scheme: Scheme, diligence: pd.Series) -> pd.DataFrame:
    rows = []
    for ev in _events(scheme).itertuples(index=False):
        at = dt.datetime.fromisoformat(ev.event_at)
        if isinstance(ev.rule, RequestRule):  # received on the day sent; the diligent answer in about three weeks,
            slow = diligence[ev.body] < 0.5   # the others tell of an extension first, some answer after it all
            received = {"body": ev.body, "obligation": ev.obligation, "event": ev.event, "event_at": ev.event_at[:10]}
            if slow:
                rows.append({**received, "step": "extension", "published_at": (at + dt.timedelta(days=10)).strftime("%Y-%m-%d")})
            reply = at + dt.timedelta(days=14 if not slow else 38 if diligence[ev.body] >= 0.35 else 50)
            rows.append({**received, "step": "reply", "published_at": reply.strftime("%Y-%m-%d")})
            continue
        for step in ev.rule.steps:
            w = step.within
            if w.hours is not None:
                hours = 30.0 if (ev.body == LATE_PRESS_CITY and step.name == "press_conference") else w.hours * 0.6
                when = at + dt.timedelta(hours=hours)
            else:
                when = at + dt.timedelta(days=14 if diligence[ev.body] >= 0.5 else 30)
            rows.append({"body": ev.body, "obligation": ev.obligation,
                         "event": ev.event, "event_at": ev.event_at, "step": step.name,
                         "published_at": when.strftime("%Y-%m-%d %H:%M")})
    return pd.DataFrame(rows)
