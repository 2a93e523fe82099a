"""Named exceptions whose messages name the bad value and, where useful, the valid ones."""

from __future__ import annotations

from typing import NamedTuple


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


class RowProblem(NamedTuple):
    """One problem of one evidence row: row number as a spreadsheet shows it (header = row 1). A
    named tuple: a file whose every row is wrong makes a million of them (half a frozen dataclass's cost)."""

    row: int
    column: str
    value: str
    reason: str


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun in the right number: 1 problem, 3 problems, 2 bodies."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


class EvidenceError(GongkaiError):
    """An evidence file with invalid rows: nothing from it is used."""

    def __init__(self, source: str, problems: list[RowProblem]):
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  row {p.row}, {p.column} = {p.value!r}: {p.reason}" for p in problems[:50])
        more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{source}: {count(len(problems), 'problem')}, nothing imported:\n{shown}{more}")
