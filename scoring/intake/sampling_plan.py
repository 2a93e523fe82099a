"""The GB/T 2828.1 sampling table shipped as data (criteria/sampling-gbt2828-1.yaml), read once."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from scoring.method.sampling import Plan, parse_plan

PLAN_FILE = "sampling-gbt2828-1.yaml"


@cache
def sampling_plan() -> Plan:
    """The general inspection level II, single normal sampling table (`--size auto`)."""
    return parse_plan((files("criteria") / PLAN_FILE).read_text(encoding="utf-8"))
