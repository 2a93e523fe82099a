"""Named exceptions whose messages name the bad value and, where useful, the valid ones."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple, overload

import numpy as np
import pandas as pd


class GongkaiError(Exception):
    """A user's mistake (bad scheme, bad evidence, bad option): shown as a message, never a traceback."""


class SchemeError(GongkaiError):
    """A scheme file that does not load; `faults` lists every problem found, each naming its place."""

    def __init__(self, path: str, faults: list[str]):
        self.path = path
        self.faults = faults
        super().__init__(f"{path}: " + "; ".join(faults) if len(faults) == 1 else
                         f"{path}: {len(faults)} faults:\n" + "\n".join(f"  - {f}" for f in faults))


class CalendarError(GongkaiError):
    """A date in a year the working-day calendar does not cover."""


class AssessmentDateError(GongkaiError):
    """An assessment date (as of) that the scheme cannot mean: before it was issued, or long after its period."""


class RowProblem(NamedTuple):
    """One problem of one evidence row: row number as a spreadsheet shows it (header = row 1). A
    named tuple: a file whose every row is wrong makes a million of them (half a frozen dataclass's cost)."""

    row: int
    column: str
    value: str
    reason: str


_CUT = re.compile(r"… \([\d,]+ characters\)$")
SHOWN_CHARS = 200  # an echoed value longer than this is cut: a 50 MB line is not printed back


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """A user's value as a message echoes it: as it is, or its first `limit` characters, an ellipsis
    and its length (`xxxx… (50,000,000 characters)`)."""
    text = str(text)
    if len(text) <= limit or (len(text) <= limit + 40 and _CUT.search(text)):  # a text already cut stays as it is
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun in the right number: 1 problem, 3 problems, 2 bodies."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


class Problems(Sequence[RowProblem]):
    """Row problems kept as four columns — row numbers, and the column, value and reason texts as object
    arrays. A file whose every row is wrong has a million problems: they are sorted, counted, reported and
    written without a Python object each; a `RowProblem` is made only when one is read."""

    __slots__ = ("row", "column", "value", "reason")

    def __init__(self, row: np.ndarray, column: np.ndarray, value: np.ndarray, reason: np.ndarray):
        self.row = np.asarray(row, np.int64)
        self.column, self.value, self.reason = column, value, reason

    @classmethod
    def of(cls, problems: Iterable[RowProblem]) -> Problems:
        """These problems as columns (themselves if they already are)."""
        if isinstance(problems, Problems):
            return problems
        items = list(problems)
        if not items:
            return cls(np.array([], np.int64), *(np.array([], object) for _ in range(3)))
        row, column, value, reason = zip(*items, strict=True)
        return cls(np.array(row, np.int64), *(objects(c) for c in (column, value, reason)))

    @classmethod
    def concat(cls, parts: Sequence[Problems]) -> Problems:
        """The parts one after the other."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.of([])
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__slots__))

    def by_row(self) -> Problems:
        """Ordered by row, then column name; problems of the same row and column keep their order."""
        if len(self) < 2:
            return self
        rank = pd.Categorical(self.column).codes  # categories in alphabetical order: few, hashed not sorted
        order = np.lexsort((rank, self.row))  # stable: ties keep the order they were found in
        return self[order]

    def __len__(self) -> int:
        return len(self.row)

    @overload
    def __getitem__(self, at: int) -> RowProblem: ...
    @overload
    def __getitem__(self, at: slice | np.ndarray) -> Problems: ...
    def __getitem__(self, at):
        if isinstance(at, slice | np.ndarray):
            return Problems(self.row[at], self.column[at], self.value[at], self.reason[at])
        return RowProblem(int(self.row[at]), self.column[at], self.value[at], self.reason[at])

    def __iter__(self) -> Iterator[RowProblem]:
        return map(RowProblem, self.row.tolist(), self.column, self.value, self.reason)

    def __add__(self, other: Iterable[RowProblem]) -> Problems:
        return Problems.concat([self, Problems.of(other)])

    def __radd__(self, other: Iterable[RowProblem]) -> Problems:
        return Problems.concat([Problems.of(other), self])

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same problems in the same order (a list of `RowProblem`)."""
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable arrays, compared by value

    def __repr__(self) -> str:
        return f"Problems({list(self[:3])}{' …' if len(self) > 3 else ''}, {len(self)} in all)"


def objects(values: Iterable[str]) -> np.ndarray:
    """Texts as a one-dimensional object array (never split into characters or made 2-D)."""
    items = list(values)
    out = np.empty(len(items), object)
    out[:] = items
    return out


class EvidenceError(GongkaiError):
    """An evidence file with invalid rows: nothing from it is used. `problems` may be given as any
    sequence of `RowProblem`; it is kept as `Problems` (columns)."""

    def __init__(self, source: str, problems: Iterable[RowProblem]):
        self.source = source
        self.problems = problems = Problems.of(problems)
        listed = "\n".join(f"  row {p.row}, {shown(p.column)} = {shown(p.value)!r}: {shown(p.reason, 1000)}"
                           for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{shown(source)}: {count(len(problems), 'problem')}, nothing imported:\n{listed}{more}")
