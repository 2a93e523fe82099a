"""Seeded synthetic schemes at any scale (the 2017 obligations over many bodies), for benchmarks.

`national(cities, counties_per_city, departments, weekly=True)` keeps the 2017 obligations and adds
a weekly website-monitoring obligation (日常監測) for every body, which is what makes evidence reach
millions of records.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from scoring.scheme import Scheme, parse_scheme

_BASE = Path(__file__).resolve().parents[1] / "criteria" / "shandong-2017.yaml"


def national(cities: int, counties_per_city: int, departments: int = 40, weekly: bool = True) -> Scheme:
    """A scheme with the 2017 obligations over `cities` × `counties_per_city` counties and
    `departments` departments (the 2017 leads first, then synthetic ones)."""
    doc = yaml.safe_load(_BASE.read_text(encoding="utf-8"))
    leads = [b for b in doc["bodies"] if b["kind"] == "department"]
    extra = [{"id": f"dept{i:04d}", "name": f"合成部門{i:04d}", "kind": "department"}
             for i in range(max(0, departments - len(leads)))]
    bodies = [{"id": f"c{c:04d}", "name": f"合成{c:04d}市", "kind": "city"} for c in range(cities)]
    bodies += [{"id": f"c{c:04d}k{k:02d}", "name": f"合成{c:04d}市{k:02d}縣", "kind": "county",
                "parent": f"c{c:04d}"} for c in range(cities) for k in range(counties_per_city)]
    doc["bodies"] = bodies + leads + extra
    doc["scheme"]["id"] = f"synthetic-{cities}x{counties_per_city}"
    doc["scheme"]["rollup"] = {"counties": 0.3}
    if weekly:
        doc["obligations"].append({
            "id": "7.1", "section": ["合成"], "title": "網站日常監測（合成）", "source": "加大網站內容日常監測",
            "applies_to": ["city", "county", "department"], "points": 2,
            "rules": [{"kind": "periodic", "frequency": "weekly", "within": {"days": 3}}],
        })
    return parse_scheme(yaml.safe_dump(doc, allow_unicode=True), doc["scheme"]["id"])
