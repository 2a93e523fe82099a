"""Matching the names people type (Simplified/Traditional, full-width, 濟南 for 濟南市) to body ids."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """Fold a name or header for matching: NFKC (full-width → ASCII), Traditional → Simplified, no spaces, lower case."""
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join(folded.split())
    return _T2S.convert(folded).lower()


def _keys(name: str) -> set[str]:
    key = normalize(name)
    keys = {key}
    if key.endswith("市") and len(key) >= 2:  # 濟南 matches 濟南市
        keys.add(key[:-1])
    return keys


class BodyResolver:
    """Maps any accepted spelling of a body (id, name, alias) to its id; ambiguous spellings are refused."""

    def __init__(self, bodies: Iterable[tuple[str, str, list[str]]]):
        table: dict[str, set[str]] = {}
        for body_id, name, aliases in bodies:
            for spelling in (body_id, name, *aliases):
                for key in _keys(spelling):
                    table.setdefault(key, set()).add(body_id)
        self._table = table

    def resolve(self, text: str) -> tuple[str | None, str | None]:
        """Return (body id, None) or (None, reason)."""
        matches: set[str] = set()
        for key in _keys(text):
            matches |= self._table.get(key, set())
        if len(matches) == 1:
            return next(iter(matches)), None
        if not matches:
            return None, "unknown body"
        return None, "ambiguous body: matches " + ", ".join(sorted(matches))
