"""The website inspection's indicators (criteria/website-2019.yaml): their typed model, and loading
with every fault named by check id and field. Numbers the document does not state are `settings`,
referenced as `{setting: NAME}` and overridable by GONGKAI_INSPECT_<NAME> or by the caller."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scoring.errors import SchemeError
from scoring.method.scheme import _describe

CRITERIA = Path(__file__).resolve().parents[2] / "criteria" / "website-2019.yaml"

# what each check measures from the polls (judge.py computes each), and the fields it needs
MEASURES: dict[str, tuple[str, ...]] = {
    "failed_poll_share": ("window", "min_polls_per_day", "timeout_seconds", "threshold"),
    "days_since_home_update": ("threshold",),
    "stale_columns": ("columns",),
    "long_stale_columns": ("window", "threshold"),
    "blank_columns": ("threshold",),
    "consultation_channels": ("threshold",),
    "broken_columns": (),
    "service_columns_down": (),
    "unanswered_messages": ("window", "columns", "threshold"),
    "not_observed": (),
}
SETTING_PREFIX = "GONGKAI_INSPECT_"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingRef(_Strict):
    setting: str


class Window(_Strict):
    """An observation window ending at the inspection date: exactly one of days, months."""

    days: int | None = Field(None, ge=1)
    months: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one(self) -> Window:
        if (self.days is None) == (self.months is None):
            raise ValueError("a window is exactly one of days, months")
        return self


class ColumnGroup(_Strict):
    """Columns named with any of `words` (e.g. 動態, 要聞) and the window they must be updated in."""

    words: list[str] = Field(min_length=1)
    window: Window


class Setting(_Strict):
    value: int | float | list[str]
    meaning: str = Field(min_length=1)


class Header(_Strict):
    id: str = Field(min_length=1)
    title: str
    document: str
    total: float = Field(gt=0)
    services_points: float = Field(ge=0)
    fail_below: float = Field(ge=0)
    feeds: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _parts(self) -> Header:
        if self.services_points >= self.total:
            raise ValueError(f"services_points {self.services_points:g} must be below total {self.total:g}")
        if self.fail_below > self.total:
            raise ValueError(f"fail_below {self.fail_below:g} is above total {self.total:g}")
        return self


Number = float | SettingRef


class Check(_Strict):
    """One indicator: a single-veto check (any failure makes the site 不合格) or a deduction check
    (points off per failing unit, at most `cap`). A veto check fails when the measured value is at
    or over `threshold` (`inclusive`: at counts), or — with `below` — at or under it."""

    id: str = Field(min_length=1)
    name: str
    name_en: str
    kind: Literal["veto", "deduct"]
    measure: str
    source: str = Field(min_length=1)
    window: Window | SettingRef | None = None
    min_polls_per_day: int | None = Field(None, ge=1)
    timeout_seconds: float | None = Field(None, gt=0)
    threshold: Number | None = None
    inclusive: bool = True
    below: bool = False
    columns: list[ColumnGroup] | None = None
    part: str | None = None
    services: bool = False
    points: Number | None = None
    cap: Number | None = None

    @model_validator(mode="after")
    def _complete(self) -> Check:
        if self.measure not in MEASURES:
            raise ValueError(f"measure {self.measure} is not one of {', '.join(MEASURES)}")
        missing = [f for f in MEASURES[self.measure] if getattr(self, f) is None]
        if self.kind == "veto":
            missing += [] if self.threshold is not None else ["threshold"]
            extra = [f for f in ("points", "cap", "part") if getattr(self, f) is not None]
            if extra:
                raise ValueError(f"a veto check has no {', '.join(extra)} (it decides 不合格 on its own)")
        else:
            missing += [f for f in ("points", "cap", "part") if getattr(self, f) is None]
        if missing:
            raise ValueError(f"measure {self.measure} ({self.kind}) needs {', '.join(dict.fromkeys(missing))}")
        return self


class Resolved(BaseModel):
    """A check with its settings put in: plain numbers, and which fields came from which setting."""

    model_config = ConfigDict(frozen=True)
    check: Check
    window: Window | None
    threshold: float | None
    points: float | None
    cap: float | None
    settings: dict[str, str]  # field → setting name (the number is not the document's)


class Inspection(BaseModel):
    model_config = ConfigDict(frozen=True)
    header: Header
    settings: dict[str, Setting]
    checks: list[Resolved]

    def setting(self, name: str) -> Any:
        return self.settings[name].value

    def check(self, check_id: str) -> Resolved:
        for c in self.checks:
            if c.check.id == check_id:
                return c
        raise KeyError(check_id)


def _override(name: str, setting: Setting, raw: str | object) -> Setting:
    """A setting's value from an override: a number for a number, a JSON list or comma list for a list."""
    if not isinstance(raw, str):
        value = raw
    elif isinstance(setting.value, list):
        value = json.loads(raw) if raw.strip().startswith("[") else [w.strip() for w in raw.split(",") if w.strip()]
    else:
        value = float(raw)
    return Setting(value=value, meaning=setting.meaning)


def _resolve(check: Check, settings: dict[str, Setting], faults: list[str]) -> Resolved | None:
    used: dict[str, str] = {}
    values: dict[str, Any] = {}
    for f in ("window", "threshold", "points", "cap"):
        v = getattr(check, f)
        if isinstance(v, SettingRef):
            s = settings.get(v.setting)
            if s is None:
                faults.append(f"check {check.id}: {f}: no setting {v.setting!r} (settings: {', '.join(settings) or 'none'})")
                return None
            if isinstance(s.value, list) or s.value < 0:
                faults.append(f"check {check.id}: {f}: setting {v.setting} is {s.value!r}, not a number ≥ 0")
                return None
            used[f] = v.setting
            v = Window(days=int(s.value)) if f == "window" else float(s.value)
        values[f] = float(v) if isinstance(v, int | float) else v
    return Resolved(check=check, settings=used, **values)


def parse_inspection(text: str, where: str = "<inspection>", overrides: Mapping[str, object] | None = None) -> Inspection:
    """Parse and validate an inspection file; raise SchemeError listing every fault. `overrides`
    (setting name → value) win over GONGKAI_INSPECT_<NAME>, which wins over the file."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise SchemeError(where, [f"not valid YAML: {e}"]) from None
    if not isinstance(raw, dict) or not {"inspection", "checks"} <= raw.keys():
        raise SchemeError(where, ["needs the top-level keys inspection, checks (and settings)"])
    faults = [f"unknown top-level key {k!r}" for k in sorted(set(raw) - {"inspection", "settings", "checks"})]
    header: Header | None = None
    try:
        header = Header.model_validate(raw["inspection"])
    except ValidationError as e:
        faults += [f"inspection.{d}" for d in _describe(e)]
    settings: dict[str, Setting] = {}
    for name, item in (raw.get("settings") or {}).items():
        try:
            settings[name] = Setting.model_validate(item)
        except ValidationError as e:
            faults += [f"setting {name}: {d}" for d in _describe(e)]
            continue
        given = (overrides or {}).get(name, os.environ.get(SETTING_PREFIX + name.upper()))
        if given is not None:
            try:
                settings[name] = _override(name, settings[name], given)
            except (ValueError, ValidationError):
                faults.append(f"setting {name}: override {given!r} is not a {type(settings[name].value).__name__}")
    for name in sorted(set(overrides or {}) - set(settings)):
        faults.append(f"no setting {name!r} to override (settings: {', '.join(settings)})")
    checks: list[Resolved] = []
    for n, item in enumerate(raw["checks"] or [], 1):
        ident = item.get("id", f"#{n}") if isinstance(item, dict) else f"#{n}"
        try:
            check = Check.model_validate(item)
        except ValidationError as e:
            faults += [f"check {ident}: {d.replace('Value error, ', '')}" for d in _describe(e)]
            continue
        if (resolved := _resolve(check, settings, faults)) is not None:
            checks.append(resolved)
    faults += [f"duplicate check id {i!r}" for i, k in Counter(c.check.id for c in checks).items() if k > 1]
    marked = any(isinstance(c, dict) and c.get("services") for c in raw["checks"] or [])
    if header is not None and header.services_points > 0 and not marked:
        faults.append(f"services_points {header.services_points:g} but no check is marked services: true")
    if faults or header is None:
        raise SchemeError(where, faults)
    return Inspection(header=header, settings=settings, checks=checks)


def load_inspection(path: str | Path = CRITERIA, overrides: Mapping[str, object] | None = None) -> Inspection:
    """Load criteria/website-2019.yaml (or another inspection file)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise SchemeError(str(p), [f"cannot read: {e.strerror}"]) from None
    return parse_inspection(text, str(p), overrides)
