"""periodic — one item per body and period (weekly, monthly, quarterly, yearly, daily, pentad):
each period's publication is due `within` its last day (default: by the end of that day)."""

from __future__ import annotations

import numpy as np

from scoring.method import periods
from scoring.method.kinds.base import Expansion, Kind, due_after
from scoring.method.kinds.timed import judge as judge
from scoring.method.scheme import Obligation, PeriodicRule, RatingRule, Scheme

KIND = Kind("periodic", ("定期发布", "periodic publication"), PeriodicRule,
            {"body": "省財政廳", "obligation": "1.1.1", "period": "2017-03",
             "published_at": "2017-04-14 10:00", "url": "http://czt.shandong.gov.cn/…"},
            item_columns=("period",), perturb="time", counted=True)


def expected_labels(scheme: Scheme, rule: PeriodicRule) -> list[str]:
    """The period labels a periodic rule expects within the scheme period (and its start/end)."""
    return period_labels(scheme, rule)


def period_labels(scheme: Scheme, rule: PeriodicRule | RatingRule) -> list[str]:
    """The periods of a rule's `frequency` whose last day lies in the scheme period, narrowed by the
    rule's `start` and `end`."""
    assert rule.frequency is not None
    start, end = scheme.scheme.period.start, scheme.scheme.period.end
    if rule.start:
        start = max(start, periods.parse(rule.start)[1])  # type: ignore[index]
    if rule.end:
        end = min(end, periods.parse(rule.end)[2])  # type: ignore[index]
    return periods.expected(rule.frequency, start, end)["period"].tolist()


def merged(rule: PeriodicRule, labels: list[str]) -> dict[str, str]:
    """Period → the period whose item it is part of (the last of its `merge` group), for every
    period of a merge group but the last."""
    out: dict[str, str] = {}
    years = sorted({s[:4] for s in labels})
    for group in rule.merge:
        full = [[x] if periods.parse(x) else [f"{y}-{x}" for y in years] for x in group]
        for per_year in zip(*full, strict=False) if all(len(f) == len(years) for f in full) else [sum(full, [])]:
            present = [s for s in per_year if s in labels]
            if len(present) > 1:
                last = max(present, key=lambda s: periods.parse(s)[2])  # type: ignore[index]
                out.update({s: last for s in present if s != last})
    return out


def expand(x: Expansion, ob: Obligation, rule: PeriodicRule, rule_id: int, bodies: np.ndarray) -> None:
    labels = expected_labels(x.scheme, rule)
    aliases = merged(rule, labels)
    for label, target in aliases.items():
        x.out.alias(rule_id, label, target)
    labels = [s for s in labels if s not in aliases]
    last = np.array([periods.parse(s)[2] for s in labels], dtype="datetime64[D]")  # type: ignore[index]
    dues = due_after(last, rule.within, x.tables.calendar)
    ids = np.array([x.out.label(s) for s in labels])
    x.out.grid(bodies, rule_id, ids, dues)
