"""The rule kinds: one module each (expand items + judge them), registered here by name.

Kinds that share a judging function (the time kinds share `timed.judge`) are judged in one
vectorised pass over all their items.
"""

from __future__ import annotations

from types import ModuleType

from scoring.method.kinds import (
    checklist,
    count,
    deadline,
    periodic,
    rating,
    request,
    response,
    share,
)

KINDS: dict[str, ModuleType] = {
    "deadline": deadline, "periodic": periodic, "response": response,
    "count": count, "rating": rating, "share": share, "checklist": checklist, "request": request,
}
