"""The demo: the 2017 Shandong scheme with synthetic evidence and its assessment cycle, and the synthetic second year."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd

from scoring import SCHEME_FILE
from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.scheme import Scheme, load_scheme
from scoring.store import cycle, documents
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.cycle import Stage
from scoring.synthetic import demo
from scoring.workflows._base import _as, transaction
from scoring.workflows.cycle import publish

DEMO_FILE = "demo（合成數據 synthetic）"


def demo_evidence(scheme: Scheme) -> tuple[pd.DataFrame, bytes]:
    """The demo's evidence table (a firm's file, as text) and the bytes of that file."""
    table = demo.generate(scheme)
    return table, table.to_csv(index=False).encode("utf-8")


def load_demo(db: str | None, *, actor: Actor, scheme_file: Path = SCHEME_FILE) -> repo.ImportResult:
    """Store the 2017 scheme with its labelled synthetic evidence (idempotent), and the example
    letterhead of its documents (marked 示例) unless one is set."""
    scheme = load_scheme(scheme_file)
    result = _with_demo_evidence(db, actor, scheme, seed=2017)
    with transaction(db) as session:
        if documents.notice_settings(session, scheme_id=scheme.id) is None:
            documents.set_notice_settings(session, scheme_id=scheme.id, who=actor.name, defaults=DEMO_LETTERHEAD)
    return result


DEMO_LETTERHEAD = {"office": "山东省人民政府办公厅（示例）", "number": "鲁政办字〔{year}〕1号（示例）",
                   "to": "各市人民政府，省政府各部门、各直属机构", "cc": "省委各部门，省人大常委会办公厅，省政协办公厅（示例）"}


DEMO_CYCLE = (dt.date(2018, 2, 5), dt.date(2018, 2, 26))  # the demo's 2017 cycle: preliminary, final


def load_second_year(db: str | None, *, actor: Actor) -> repo.ImportResult:
    """The demo's second year (`gongkai demo --years 2`): 2017's result published, preliminary then
    final, on the demo's own dates (once), and the synthetic 2018 scheme — clearly labelled, derived
    from 2017 with a merger, a renaming, a dropped and a new obligation — with its synthetic evidence."""
    from scoring.method.scheme import parse_scheme
    from scoring.synthetic.second_year import ID, second_year

    first = load_scheme(SCHEME_FILE)
    load_demo(db, actor=actor)
    with transaction(db) as session:
        stages = {p.stage for p in cycle.publications(session, scheme_id=first.id)}
    if Stage.FINAL not in stages:
        if Stage.PRELIMINARY not in stages:
            publish(db, actor=actor, stage=Stage.PRELIMINARY, scheme_id=first.id, today=DEMO_CYCLE[0])
        publish(db, actor=actor, stage=Stage.FINAL, scheme_id=first.id, today=DEMO_CYCLE[1])
    return _with_demo_evidence(db, actor, parse_scheme(second_year(first.text), ID), seed=2018)


def _with_demo_evidence(db: str | None, actor: Actor, scheme: Scheme, *, seed: int) -> repo.ImportResult:
    table = demo.generate(scheme, seed)
    data = table.to_csv(index=False).encode("utf-8")
    ev = validate(read_table(data, "demo"), scheme, "demo")
    with transaction(db) as session:
        who = _as(session, actor, "scheme")
        repo.save_scheme(session, scheme=scheme, who=who.name)
        return repo.import_evidence(session, scheme=scheme, evidence=ev, file_name=DEMO_FILE,
                                    sha256=hashlib.sha256(data).hexdigest(), firm=demo.FIRM, who=who.name)


def ensure_demo(db: str | None, *, actor: Actor) -> bool:
    """Load the demo into a database that holds no scheme yet (the dashboard's first start)."""
    with transaction(db) as session:
        if repo.scheme_ids(session):
            return False
    load_demo(db, actor=actor)
    return True
