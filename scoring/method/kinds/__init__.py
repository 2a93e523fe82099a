"""The rule kinds: one module each (`expand` items, `judge` them, `KIND` what it declares about
itself), registered here by name. Everything else asks this registry about a kind — which evidence
values it takes, its words, its template row, how an appeal or robustness treats it — and never
lists kinds by hand (`tests/test_kinds.py` holds every registered kind to a golden case, a template
row, words in every language and a section of docs/method.md).

Kinds that share a judging function (the time kinds share `timed.judge`) are judged in one
vectorised pass over all their items.
"""

from __future__ import annotations

from types import ModuleType

from scoring.i18n import script
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
from scoring.method.kinds.base import Kind
from scoring.method.scheme import accept_rule

MODULES: dict[str, ModuleType] = {m.KIND.name: m for m in (
    deadline, periodic, response, count, rating, share, checklist, request)}


def kind(name: str) -> Kind:
    """What the rule kind `name` declares about itself."""
    return MODULES[name].KIND


def kinds() -> list[Kind]:
    """Every registered kind, in registry order."""
    return [m.KIND for m in MODULES.values()]


def named(test) -> tuple[str, ...]:
    """The names of the kinds whose declaration passes `test` (e.g. `lambda k: k.values`)."""
    return tuple(k.name for k in kinds() if test(k))


def register(module: ModuleType) -> None:
    """Add a rule kind (a module with `expand`, `judge` and `KIND`): how a new kind joins gongkai.
    Schemes may then hold its rule (`KIND.rule`), and everything that asks the registry knows it."""
    accept_rule(module.KIND.rule)
    MODULES[module.KIND.name] = module


def words(name: str, lang: str) -> str:
    """The reader's word for a rule kind and its one item per body (限期完成, third-party rating)."""
    hans, en = kind(name).words
    return en if lang == "en" else script(hans, lang)


def outcome_words(name: str, outcome: str, lang: str) -> str | None:
    """An outcome in the kind's own words where it has them (a rubric's unmet check: 未达到), else None."""
    said = kind(name).outcome_words.get(outcome) if name in MODULES else None
    if said is None:
        return None
    return said[1] if lang == "en" else script(said[0], lang)
