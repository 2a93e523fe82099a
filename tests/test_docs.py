"""Documentation stays complete: every scheme field, CLI command and import column is documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from scoring.intake.tables import COLUMNS
from scoring.method import scheme as model

ROOT = Path(__file__).resolve().parents[1]


def _fields(cls: type[BaseModel]) -> set[str]:
    return set(cls.model_fields) - {"sha256", "text"}


def test_every_scheme_field_is_documented():
    doc = (ROOT / "criteria" / "README.md").read_text(encoding="utf-8")
    classes = [model.Header, model.Body, model.Obligation, model.DeadlineRule, model.PeriodicRule,
               model.ResponseRule, model.CountRule, model.RatingRule, model.ShareRule, model.ChecklistRule,
               model.RequestRule]
    fields = set().union(*(_fields(c) for c in classes))
    undocumented = sorted(f for f in fields if f"`{f}`" not in doc)
    assert undocumented == []


def test_every_import_column_and_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c, zh in COLUMNS.items() if f"`{c}`" not in readme or zh not in readme]
    assert missing == []
    for command in ("gongkai criteria check", "gongkai score", "gongkai robustness", "make run", "make test"):
        assert command in readme


def test_every_sample_command_is_in_the_readme():
    from scoring.cli_sample import sample_app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name for c in sample_app.registered_commands]
    assert sorted(names) == ["agreement", "disagreements", "draw", "export", "import", "list", "settle"]
    assert [n for n in names if f"sample {n}" not in readme] == []
    assert "group,n,agreement,kappa,alpha,low,high" in readme
    assert "gongkai self import" in readme and "gongkai self compare" in readme


def test_every_inspection_field_and_setting_is_documented():
    from scoring.inspect import indicators as ind

    doc = (ROOT / "criteria" / "README.md").read_text(encoding="utf-8")
    fields = set().union(*(_fields(c) for c in (ind.Header, ind.Setting, ind.Check, ind.Window, ind.ColumnGroup,
                                                 ind.SettingRef)))
    settings = set(ind.load_inspection().settings)
    assert sorted(f for f in fields | settings | set(ind.MEASURES) if f"`{f}`" not in doc) == []
