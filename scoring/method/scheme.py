"""The scheme file (criteria/<id>.yaml): its typed model, and loading with faults named by id."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args
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
from pydantic.fields import FieldInfo

from scoring.errors import AssessmentDateError, SchemeError
from scoring.method import periods
from scoring.method.lineage import Lineage
from scoring.method.lineage import check as check_lineage

T = TypeVar("T")

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


def _a_period(v: str | None) -> str | None:
    """A rule's `start`/`end`: a period label (2017-03, 2017-Q1, 2017-W05, 2017)."""
    if v is not None and periods.parse(str(v)) is None:
        raise ValueError(f"{v!r} is not a period (2017-03, 2017-Q1, 2017-W05, 2017)")
    return None if v is None else str(v)


class PeriodicRule(_Rule):
    kind: Literal["periodic"]
    frequency: periods.Frequency
    within: Window = Window(days=0)
    start: str | None = None
    end: str | None = None
    # periods released together (1–2月 statistics): each group is one item, due after its last
    # period; a group names periods (2017-01) or, every year, months (01) or quarters (Q1)
    merge: list[list[str]] = []

    @field_validator("merge", mode="before")
    @classmethod
    def _merge(cls, v: Any) -> Any:
        if not isinstance(v, list):
            return v
        groups = [[f"{x:02d}" if isinstance(x, int) else str(x) for x in g] if isinstance(g, list) else g for g in v]
        for g in groups:
            if not isinstance(g, list) or len(g) < 2:
                raise ValueError(f"merge: each group names at least two periods (got {g!r})")
            for x in g:
                if periods.parse(x) is None and not re.fullmatch(r"(0[1-9]|1[0-2]|Q[1-4])", x):
                    raise ValueError(f"merge: {x!r} is neither a period (2017-01, 2017-Q1) nor a month (01) or quarter (Q1)")
        return groups

    _period = field_validator("start", "end")(classmethod(lambda cls, v: _a_period(v)))


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
    """An evaluator's grade 0–100; with `frequency`, one grade per period (e.g. quarterly spot checks)."""

    kind: Literal["rating"]
    frequency: periods.Frequency | None = None
    start: str | None = None
    end: str | None = None

    _period = field_validator("start", "end")(classmethod(lambda cls, v: _a_period(v)))


class CheckItem(_Strict):
    """One check of a rubric (評分細則): met or not, worth `points`; a group holds items of its own
    (its points, if given, must equal theirs)."""

    id: str
    text: str
    points: float | None = Field(None, gt=0)
    items: list[CheckItem] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _str_id(cls, v: Any) -> str:
        return str(v)

    @model_validator(mode="after")
    def _points(self) -> CheckItem:
        if self.items is None:
            if self.points is None:
                raise ValueError(f"check item {self.id}: needs points")
        elif not self.items:
            raise ValueError(f"check group {self.id}: has no items")
        elif self.points is not None and abs(self.points - sum(i.total for i in self.items)) > 1e-9:
            raise ValueError(f"check group {self.id}: points {self.points:g} differ from its items' "
                             f"{sum(i.total for i in self.items):g}")
        return self

    @property
    def total(self) -> float:
        return sum(i.total for i in self.items) if self.items is not None else float(self.points or 0)

    def leaves(self, path: tuple[str, ...] = ()) -> list[tuple[CheckItem, tuple[str, ...]]]:
        """The checks themselves (not groups), each with the texts of the groups above it."""
        if self.items is None:
            return [(self, path)]
        return [leaf for i in self.items for leaf in i.leaves((*path, self.text))]


class ChecklistRule(_Rule):
    """A rubric: evidence is one row per check (its id in `step`, `value` 1 met / 0 not met); a check
    with no row is not met. Credit = points met / points listed; in deduction mode each unmet check
    deducts its points."""

    kind: Literal["checklist"]
    items: list[CheckItem] = Field(min_length=1)

    def leaves(self) -> list[tuple[CheckItem, tuple[str, ...]]]:
        return [leaf for i in self.items for leaf in i.leaves()]


class RequestRule(_Rule):
    """Test requests (驗證性申請): each request sent (`event`, `event_at` = received) expects a
    `reply` within the statutory working days; an `extension` notice (延期答覆告知) dated within the
    first window extends it. 2007 條例 §24: 15 + 15 working days; the 2019 revision: 20 + 20."""

    kind: Literal["request"]
    within: Window = Window(working_days=15)
    extension: Window | None = Window(working_days=15)

    @model_validator(mode="after")
    def _working_days(self) -> RequestRule:
        for w in (self.within, self.extension):
            if w is not None and w.working_days is None:
                raise ValueError("a statutory reply window is in working_days")
        return self


class ShareRule(_Rule):
    kind: Literal["share"]
    min: float | None = Field(None, gt=0, le=1)


# the rules a scheme may hold: each registered rule kind's model (scoring.method.kinds), told apart by
# `kind`; the built-in kinds' here, a kind registered later is added by `accept_rule`
Rule = Annotated[
    DeadlineRule | PeriodicRule | ResponseRule | CountRule | RatingRule | ShareRule | ChecklistRule | RequestRule,
    Field(discriminator="kind"),
]
_RULE_MODELS: tuple[type[_Rule], ...] = get_args(get_args(Rule)[0])


def rule_models() -> tuple[type[_Rule], ...]:
    return _RULE_MODELS


def accept_rule(model: type[_Rule]) -> None:
    """Let schemes hold rules of `model`, a newly registered kind's rule (`scoring.method.kinds.register`):
    the obligations' rule union is rebuilt with it."""
    global _RULE_MODELS
    if model in _RULE_MODELS:
        return
    _RULE_MODELS = (*_RULE_MODELS, model)
    union = Annotated[Union[_RULE_MODELS], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
    Obligation.model_fields["rules"] = FieldInfo.from_annotated_attribute(list[union], Field(min_length=1))
    Obligation.model_rebuild(force=True)
    Scheme.model_rebuild(force=True)


class CollectHint(_Strict):
    """Where and how a body publishes an obligation's items on its website, for the web collector
    (scoring/collect/match.py): channel (欄目) names, title keywords, how a period appears in a title."""

    keywords: list[str] = Field(min_length=1)   # a title with any of these may be the obligation's item
    channels: list[str] = []    # 欄目 names where the item is published (a match raises confidence)
    periods: list[str] = []     # how a period appears in a title, by example: 2017年3月, 第一季度, 1-2月, 2017年
    exclude: list[str] = []     # a title with any of these is not the item (解讀, 徵求意見稿 …)


class Body(_Strict):
    id: str
    name: str
    kind: Literal["city", "county", "department"]
    parent: str | None = None
    aliases: list[str] = []
    # a central unit in the province (人民銀行濟南分行, 銀監局, 省國稅局 …), outside the government
    # that issued the document: assessed only on obligations naming it as a lead, never through
    # `applies_to`, never on a share rule (it has no place in the province's performance assessment)
    central: bool = False
    sites: list[str] = []  # the body's website addresses (the first its main site), for the web collector


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
    review: list[str] = []        # a draft's open decisions about this obligation
    collect: CollectHint | None = None  # hints for the web collector (criteria/README.md)

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
    review: list[str] = []        # a draft's open decisions (`gongkai criteria draft`): none in a scheme in use


AS_OF_YEARS = 5  # an assessment date may lie at most this many years after the scheme period's end


class Scheme(_Strict):
    """One assessment: header, bodies, obligations, and the hash of the file it came from."""

    scheme: Header
    bodies: list[Body]
    obligations: list[Obligation]
    lineage: Lineage | None = None  # the scheme of the year before and the crosswalk to it
    sha256: str = ""
    text: str = ""
    _bodies: dict[str, Body] = PrivateAttr(default_factory=dict)
    _obligations: dict[str, Obligation] = PrivateAttr(default_factory=dict)
    _compiled: object | None = PrivateAttr(None)  # scoring.method.compiled.Compiled, built on first use
    _assessed: dict[tuple[str, int], list[str]] = PrivateAttr(default_factory=dict)  # assessed(), per (ob, rule)
    _memo: dict[str, object] = PrivateAttr(default_factory=dict)  # what other layers derive from it: `memo`

    def model_post_init(self, _context: Any) -> None:
        self._bodies = {b.id: b for b in self.bodies}
        self._obligations = {o.id: o for o in self.obligations}

    def __eq__(self, other: object) -> bool:
        """Equal schemes say the same (header, bodies, obligations, text); what was derived from them
        (compiled tables, assessed bodies, memos) does not enter."""
        if not isinstance(other, Scheme):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @property
    def id(self) -> str:
        return self.scheme.id

    def open_reviews(self) -> list[str]:
        """A draft's decisions still to make (`review:` entries), each named by its place."""
        return ([f"scheme: {r}" for r in self.scheme.review]
                + [f"obligation {o.id}: {r}" for o in self.obligations for r in o.review])

    @property
    def default_as_of(self) -> dt.date:
        return self.scheme.as_of or self.scheme.period.end

    @property
    def as_of_range(self) -> tuple[dt.date, dt.date]:
        """The assessment dates this scheme can mean (see `as_of_range`)."""
        return as_of_range(self.scheme)

    def assessment_date(self, as_of: dt.date | None) -> dt.date:
        """`as_of`, or the scheme's default; refused, naming the range, outside `as_of_range`."""
        when = as_of or self.default_as_of
        if (fault := as_of_fault(self.scheme, when)) is not None:
            raise AssessmentDateError(f"assessment date (--as-of) {when} is outside what scheme {self.id} can mean: "
                                      + fault)
        return when

    @property
    def compiled_tables(self) -> object | None:
        """The compiled, points-independent tables, once built (see `scoring.method.compiled`)."""
        return self._compiled

    def keep_compiled(self, tables: object) -> None:
        self._compiled = tables

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """What `build` derives from this scheme (e.g. the intake's body-name index), built once and
        kept with it — in the scheme cache too, when built before the scheme is cached."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[return-value]

    def prepare(self) -> None:
        """Work out what every scoring derives from the scheme alone (each rule's assessed bodies), so a
        cached copy carries it: 21,700 bodies × 46 obligations take a second to sort out."""
        for ob in self.obligations:
            self.assessed(ob)
            for rule in ob.rules:
                self.assessed(ob, rule)

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
        changed._compiled = self._compiled  # points and share never change the compiled tables
        return changed

    def assessed(self, ob: Obligation, rule: _Rule | None = None) -> list[str]:
        """Ids of the bodies assessed on an obligation (its leads and every body of applies_to),
        narrowed by a rule's `bodies` (ids or kinds). Worked out once per obligation and rule."""
        if self._obligations.get(ob.id) is not ob:  # not this scheme's own obligation: not kept
            return self._find_assessed(ob, rule)
        n = -1 if rule is None else next((i for i, r in enumerate(ob.rules) if r is rule), None)
        if n is None:
            return self._find_assessed(ob, rule)
        if (ob.id, n) not in self._assessed:
            self._assessed[ob.id, n] = self._find_assessed(ob, rule)
        return list(self._assessed[ob.id, n])

    def _find_assessed(self, ob: Obligation, rule: _Rule | None) -> list[str]:
        leads, kinds = set(ob.leads), set(ob.applies_to)
        if rule is not None and rule.bodies is not None:
            named = set(rule.bodies)
            return [b.id for b in self.bodies if (b.id in leads or (b.kind in kinds and not b.central))
                    and (b.id in named or b.kind in named)]
        return [b.id for b in self.bodies if b.id in leads or (b.kind in kinds and not b.central)]


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
        if b.central and b.kind != "department":
            faults.append(f"body {b.id}: only a department may be central (got kind {b.kind})")
    for o in scheme.obligations:
        faults += _check_obligation(scheme, o, by_id)
    if scheme.lineage is not None:
        faults += check_lineage(scheme.lineage, bodies=set(by_id), obligations={o.id for o in scheme.obligations})
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
        if isinstance(rule, ShareRule):
            central = [b for b in scheme.assessed(o, rule) if by_id[b].central]
            if central:
                faults.append(f"obligation {o.id}: rule {n} (share) assesses central unit(s) {', '.join(central)}, "
                              "which have no place in the province's performance assessment")
        if isinstance(rule, ResponseRule):
            names = [s.name for s in rule.steps]
            if len(set(names)) != len(names):
                faults.append(f"obligation {o.id}: rule {n} has duplicate step names")
        if isinstance(rule, ChecklistRule):
            ids = [leaf.id for leaf, _ in rule.leaves()]
            faults += [f"obligation {o.id}: rule {n} items: duplicate check id {i!r}" for i in _duplicates(ids)]
    return faults


def as_of_range(h: Header) -> tuple[dt.date, dt.date]:
    """The assessment dates a scheme can mean: from its issue date (its period's end, if issued later) to
    AS_OF_YEARS years after its period ends — a late review or a re-run, never a day before the
    document existed, nor one whose every item is long past (0001-01-01, 9999-12-31)."""
    end = h.period.end
    later = end.replace(year=end.year + AS_OF_YEARS, day=min(end.day, 28) if end.month == 2 else end.day)
    return min(h.issued, end), later


def as_of_fault(h: Header, when: dt.date) -> str | None:
    """Why `when` is no assessment date of the scheme (the allowed range), or None."""
    first, last = as_of_range(h)
    if first <= when <= last:
        return None
    return (f"give a date from {first} ({'its issue date' if first == h.issued else 'its period end'}) to {last} "
            f"({AS_OF_YEARS} years after its period ends on {h.period.end})")


def _check_header(h: Header) -> list[str]:
    faults = []
    if h.as_of is not None and (fault := as_of_fault(h, h.as_of)) is not None:
        faults.append(f"scheme.as_of {h.as_of}: {fault}")
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


def lineage_faults(scheme: Scheme, previous: Scheme) -> list[str]:
    """The crosswalk checked against the previous scheme: every previous body and obligation accounted
    for (same id here, or a link), every `from` id one of the previous scheme's."""
    if scheme.lineage is None:
        return []
    return check_lineage(scheme.lineage, bodies={b.id for b in scheme.bodies}, obligations={o.id for o in scheme.obligations},
                         previous=({b.id for b in previous.bodies}, {o.id for o in previous.obligations}))


def draft_reviews(text: str) -> list[str]:
    """The `review:` entries of a scheme file's text, read without validating it (a draft that does not
    load yet still says what is left to decide)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return []
    if not isinstance(doc, dict):
        return []
    header = doc.get("scheme")
    out = [f"scheme: {r}" for r in ((header.get("review") if isinstance(header, dict) else None) or [])]
    for o in doc.get("obligations") or []:
        if isinstance(o, dict):
            out += [f"obligation {o.get('id')}: {r}" for r in (o.get("review") or [])]
    return out


def parse_scheme(text: str, where: str = "<scheme>") -> Scheme:
    """Parse and validate scheme YAML; raise SchemeError listing every fault."""
    try:
        raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise SchemeError(where, [f"not valid YAML: {e}"]) from None
    if not isinstance(raw, dict) or not {"scheme", "bodies", "obligations"} <= raw.keys():
        raise SchemeError(where, ["needs the top-level keys scheme, bodies, obligations"])
    faults: list[str] = []
    unknown = sorted(set(raw) - {"scheme", "bodies", "obligations", "lineage"})
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
    if raw.get("lineage") is not None:
        try:
            parts["lineage"] = Lineage.model_validate(raw["lineage"])
        except ValidationError as e:
            faults += [f"lineage.{d}" for d in _describe(e)]
    if faults:
        raise SchemeError(where, faults)
    scheme = Scheme(**parts, sha256=hashlib.sha256(text.encode()).hexdigest(), text=text)
    faults = _check_ids(scheme)
    if faults:
        raise SchemeError(where, faults)
    return scheme


def scheme_text(path: str | Path) -> str:
    """A scheme file's text (UTF-8); one that cannot be read is a SchemeError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SchemeError(str(path), [f"cannot read: {e}"]) from None


def load_scheme(path: str | Path) -> Scheme:
    """Load `criteria/<id>.yaml` (or any scheme file)."""
    return parse_scheme(scheme_text(path), str(path))


def natural_key(obligation_id: object) -> tuple[tuple[int, int, str], ...]:
    """A sort key that orders ids as a reader expects (1.2 before 1.10, A1 before A2) and never
    fails, whatever id a scheme uses (`6.7`, `A1`, `B-2`, `十`): digit runs compare as numbers,
    other runs as text."""
    parts = re.split(r"([0-9]+)", str(obligation_id))
    return tuple((0, int(p), "") if p.isascii() and p.isdigit() else (1, 0, p) for p in parts if p)


def rule_ref(ob: Obligation, index: int) -> str:
    """The name of rule `index` (0-based) of an obligation in findings: its kind, numbered if repeated."""
    kind = ob.rules[index].kind
    same = [i for i, r in enumerate(ob.rules) if r.kind == kind]
    return kind if len(same) == 1 else f"{kind}#{same.index(index) + 1}"
