"""The scheme file (criteria/<id>.yaml): its typed model, and loading with faults named by id."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from scoring.errors import SchemeError
from scoring.method import periods

BODY_KINDS = ("city", "county", "department")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """A time window: exactly one of days, working_days, hours."""

    days: int | None = Field(None, ge=0)
    working_days: int | None = Field(None, ge=1)
    hours: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self) -> Window:
        if sum(v is not None for v in (self.days, self.working_days, self.hours)) != 1:
            raise ValueError("a window is exactly one of days, working_days, hours")
        return self


class Deduct(_Strict):
    """Points taken per item in deduction mode (扣分制)."""

    missing: float = Field(1.0, ge=0)
    late: float = Field(0.5, ge=0)


class _Rule(_Strict):
    label: str | None = None          # the document's words for what this rule checks
    bodies: list[str] | None = None   # narrows the obligation's bodies: ids or kinds
    deduct: Deduct = Deduct()
    late_credit: float | None = Field(None, ge=0, le=1)


class DueAfter(_Strict):
    after: Literal["issued", "period_start"] | dt.date
    within: Window


class DeadlineRule(_Rule):
    kind: Literal["deadline"]
    due: dt.date | DueAfter


class PeriodicRule(_Rule):
    kind: Literal["periodic"]
    frequency: Literal["daily", "weekly", "monthly", "quarterly", "yearly", "pentad"]
    within: Window = Window(days=0)
    start: str | None = None
    end: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _period(cls, v: str | None) -> str | None:
        if v is not None and periods.parse(str(v)) is None:
            raise ValueError(f"{v!r} is not a period (2017-03, 2017-Q1, 2017-W05, 2017)")
        return None if v is None else str(v)


class Step(_Strict):
    name: str
    within: Window


class ResponseRule(_Rule):
    kind: Literal["response"]
    steps: list[Step] = Field(min_length=1)


class CountRule(_Rule):
    kind: Literal["count"]
    min: int = Field(ge=1)


class RatingRule(_Rule):
    kind: Literal["rating"]


class ShareRule(_Rule):
    kind: Literal["share"]
    min: float | None = Field(None, gt=0, le=1)


Rule = Annotated[
    DeadlineRule | PeriodicRule | ResponseRule | CountRule | RatingRule | ShareRule,
    Field(discriminator="kind"),
]
TIME_KINDS = ("deadline", "periodic", "response")


class Body(_Strict):
    id: str
    name: str
    kind: Literal["city", "county", "department"]
    parent: str | None = None
    aliases: list[str] = []


class Obligation(_Strict):
    id: str
    section: list[str]
    title: str
    source: str
    leads: list[str] = []
    applies_to: list[Literal["city", "county", "department"]] = []
    points: float
    mode: Literal["proportional", "deduction"] = "proportional"
    rules: list[Rule] = Field(min_length=1)
    veto: bool = False
    bonus: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _str_id(cls, v: Any) -> str:
        return str(v)


class Grade(_Strict):
    name: str
    min: float


class Bonus(_Strict):
    cap: float = Field(ge=0)
    gate: float = Field(0, ge=0)


class Rollup(_Strict):
    counties: float = Field(gt=0, lt=1)


class CalendarYear(_Strict):
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []


class Period(_Strict):
    start: dt.date
    end: dt.date


class Header(_Strict):
    id: str
    title: str
    document: str = ""
    issued: dt.date
    period: Period
    as_of: dt.date | None = None
    timezone: str = "Asia/Shanghai"
    calendar: Literal["cn"] = "cn"
    calendar_years: dict[int, CalendarYear] = {}
    transparency_share: float = Field(gt=0, le=1)
    min_transparency_share: float = Field(0.04, gt=0, le=1)
    late_credit: float = Field(0.5, ge=0, le=1)
    grades: list[Grade] = Field(min_length=1)
    bonus: Bonus | None = None
    rollup: Rollup | None = None


class Scheme(_Strict):
    """One assessment: header, bodies, obligations, and the hash of the file it came from."""

    scheme: Header
    bodies: list[Body]
    obligations: list[Obligation]
    sha256: str = ""
    text: str = ""
    _bodies: dict[str, Body] = PrivateAttr(default_factory=dict)
    _obligations: dict[str, Obligation] = PrivateAttr(default_factory=dict)
    _static: dict[str, Any] = PrivateAttr(default_factory=dict)  # derived tables that points never change

    def model_post_init(self, _context: Any) -> None:
        self._bodies = {b.id: b for b in self.bodies}
        self._obligations = {o.id: o for o in self.obligations}

    @property
    def id(self) -> str:
        return self.scheme.id

    @property
    def default_as_of(self) -> dt.date:
        return self.scheme.as_of or self.scheme.period.end

    def cached(self, name: str, build: Any) -> Any:
        """A derived table that depends on bodies and rules but not on points (shared by what-ifs)."""
        if name not in self._static:
            self._static[name] = build(self)
        return self._static[name]

    def body(self, body_id: str) -> Body:
        return self._bodies[body_id]

    def obligation(self, obligation_id: str) -> Obligation:
        return self._obligations[obligation_id]

    def with_changes(self, points: dict[str, float] | None = None, share: float | None = None) -> Scheme:
        """The same scheme with other points and/or transparency share, checked like a file
        (points > 0, the 4% rule). The what-if editor re-scores with it."""
        points = points or {}
        header = self.scheme if share is None else self.scheme.model_copy(update={"transparency_share": share})
        faults = _check_header(header)
        faults += [f"obligation {k}: points must be > 0 (got {v:g})" for k, v in points.items() if v <= 0]
        if faults:
            raise SchemeError("what-if", faults)
        obligations = [o.model_copy(update={"points": float(points.get(o.id, o.points))}) for o in self.obligations]
        changed = Scheme(scheme=header, bodies=self.bodies, obligations=obligations, sha256="", text="")
        changed._static = self._static
        return changed

    def assessed(self, ob: Obligation, rule: _Rule | None = None) -> list[str]:
        """Ids of the bodies assessed on an obligation (its leads and every body of applies_to),
        narrowed by a rule's `bodies` (ids or kinds)."""
        leads, kinds = set(ob.leads), set(ob.applies_to)
        if rule is not None and rule.bodies is not None:
            named = set(rule.bodies)
            return [b.id for b in self.bodies if (b.id in leads or b.kind in kinds)
                    and (b.id in named or b.kind in named)]
        return [b.id for b in self.bodies if b.id in leads or b.kind in kinds]


def _describe(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"] if not str(p).endswith("Rule"))
        value = e.get("input")
        shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
        out.append(f"{where}: {e['msg']}{shown}" if where else f"{e['msg']}{shown}")
    return out


def _duplicates(ids: Iterable[str]) -> list[str]:
    return sorted(i for i, n in Counter(ids).items() if n > 1)


def _check_ids(scheme: Scheme) -> list[str]:
    faults: list[str] = []
    by_id = {b.id: b for b in scheme.bodies}
    for dup in _duplicates(b.id for b in scheme.bodies):
        faults.append(f"body {dup}: duplicate id")
    for dup in _duplicates(o.id for o in scheme.obligations):
        faults.append(f"obligation {dup}: duplicate id")
    for b in scheme.bodies:
        if b.kind == "county":
            if b.parent is None:
                faults.append(f"body {b.id}: a county needs a parent city")
            elif b.parent not in by_id or by_id[b.parent].kind != "city":
                faults.append(f"body {b.id}: parent {b.parent!r} is not a city")
        elif b.parent is not None:
            faults.append(f"body {b.id}: only a county has a parent")
    for o in scheme.obligations:
        faults += _check_obligation(scheme, o, by_id)
    return faults


def _check_obligation(scheme: Scheme, o: Obligation, by_id: dict[str, Body]) -> list[str]:
    faults = [f"obligation {o.id}: lead {lead!r} is not a body" for lead in o.leads if lead not in by_id]
    if o.points <= 0:
        faults.append(f"obligation {o.id}: points must be > 0 (got {o.points})")
    if not scheme.assessed(o):
        faults.append(f"obligation {o.id}: applies to no body (no leads, no applies_to)")
    if o.bonus and scheme.scheme.bonus is None:
        faults.append(f"obligation {o.id}: a bonus obligation needs scheme.bonus (cap, gate)")
    for n, rule in enumerate(o.rules, 1):
        for name in rule.bodies or []:
            if name not in by_id and name not in BODY_KINDS:
                faults.append(f"obligation {o.id}: rule {n} bodies: {name!r} is neither a body nor a kind")
        if rule.bodies is not None and not scheme.assessed(o, rule):
            faults.append(f"obligation {o.id}: rule {n} applies to none of the obligation's bodies")
        if isinstance(rule, ResponseRule):
            names = [s.name for s in rule.steps]
            if len(set(names)) != len(names):
                faults.append(f"obligation {o.id}: rule {n} has duplicate step names")
    return faults


def _check_header(h: Header) -> list[str]:
    faults = []
    if h.transparency_share < h.min_transparency_share:
        faults.append(
            f"scheme.transparency_share {h.transparency_share:g} is below min_transparency_share "
            f"{h.min_transparency_share:g} (政務公開分值不低於{h.min_transparency_share:.0%})"
        )
    mins = [g.min for g in h.grades]
    if any(a <= b for a, b in zip(mins, mins[1:], strict=False)) or mins[-1] != 0:
        faults.append(f"scheme.grades: mins must descend and end at 0 (got {mins})")
    if h.period.end < h.period.start:
        faults.append("scheme.period: end is before start")
    try:
        ZoneInfo(h.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        faults.append(f"scheme.timezone: unknown time zone {h.timezone!r}")
    return faults


def parse_scheme(text: str, where: str = "<scheme>") -> Scheme:
    """Parse and validate scheme YAML; raise SchemeError listing every fault."""
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise SchemeError(where, [f"not valid YAML: {e}"]) from None
    if not isinstance(raw, dict) or not {"scheme", "bodies", "obligations"} <= raw.keys():
        raise SchemeError(where, ["needs the top-level keys scheme, bodies, obligations"])
    faults: list[str] = []
    unknown = sorted(set(raw) - {"scheme", "bodies", "obligations"})
    faults += [f"unknown top-level key {k!r}" for k in unknown]
    parts: dict[str, Any] = {}
    try:
        parts["scheme"] = Header.model_validate(raw["scheme"])
        faults += _check_header(parts["scheme"])
    except ValidationError as e:
        faults += [f"scheme.{d}" for d in _describe(e)]
    for key, model in (("bodies", Body), ("obligations", Obligation)):
        items = []
        for n, item in enumerate(raw[key] or [], 1):
            ident = item.get("id", f"#{n}") if isinstance(item, dict) else f"#{n}"
            try:
                items.append(model.model_validate(item))
            except ValidationError as e:
                noun = {"bodies": "body", "obligations": "obligation"}[key]
                faults += [f"{noun} {ident}: {d}" for d in _describe(e)]
        parts[key] = items
    if faults:
        raise SchemeError(where, faults)
    scheme = Scheme(**parts, sha256=hashlib.sha256(text.encode()).hexdigest(), text=text)
    faults = _check_ids(scheme)
    if faults:
        raise SchemeError(where, faults)
    return scheme


def load_scheme(path: str | Path) -> Scheme:
    """Load `criteria/<id>.yaml` (or any scheme file)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SchemeError(str(p), [f"cannot read: {e}"]) from None
    return parse_scheme(text, str(p))


def rule_ref(ob: Obligation, index: int) -> str:
    """The name of rule `index` (0-based) of an obligation in findings: its kind, numbered if repeated."""
    kind = ob.rules[index].kind
    same = [i for i, r in enumerate(ob.rules) if r.kind == kind]
    return kind if len(same) == 1 else f"{kind}#{same.index(index) + 1}"
