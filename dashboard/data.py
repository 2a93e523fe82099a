"""The dashboard's data access and the only caching: scorecards per evidence state, runs, evidence.

Cache keys include the state token (scheme hash, latest import batch), so an import shows at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import streamlit as st
from sqlmodel import Session

from scoring import SCHEME_FILE, accounts, demo, store
from scoring.accounts import Actor
from scoring.db import engine_for, resolve_url
from scoring.engine import Scorecard, rescore, score
from scoring.errors import EvidenceError, GongkaiError
from scoring.evidence import validate
from scoring.explain import explained
from scoring.scheme import load_scheme
from scoring.tables import read_table


def url() -> str:
    return resolve_url(None)


@st.cache_resource(show_spinner=False)
def ready(db: str) -> bool:
    """Open (and migrate) the database once; load the demo when it holds no scheme."""
    with Session(engine_for(db)) as s:
        if not store.scheme_ids(s):
            scheme = load_scheme(SCHEME_FILE)
            data = demo.generate(scheme).to_csv(index=False).encode("utf-8")
            ev = validate(read_table(data, "demo"), scheme, "demo")
            store.save_scheme(s, scheme=scheme)
            store.import_evidence(s, scheme=scheme, evidence=ev, file_name="demo（合成數據 synthetic）",
                                  sha256=hashlib.sha256(data).hexdigest(), firm=demo.FIRM)
            s.commit()
    return True


def scheme_ids(db: str) -> list[str]:
    with Session(engine_for(db)) as s:
        return store.scheme_ids(s)


def token(db: str, scheme_id: str) -> tuple[str, int]:
    """Cheap on every rerun: changes when the scheme is reloaded or evidence imported."""
    with Session(engine_for(db)) as s:
        return store.state_token(s, scheme_id=scheme_id)


@st.cache_resource(show_spinner=False, max_entries=16)
def scorecard(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int]) -> Scorecard:
    """Score the stored evidence (once per state); the run is stored unless this exact state has one."""
    with Session(engine_for(db)) as s:
        scheme = store.get_scheme(s, scheme_id=scheme_id)
        evidence = store.load_evidence(s, scheme_id=scheme_id)
        card = score(scheme, evidence, as_of)
        if store.run_for(s, scheme=scheme, as_of=card.as_of, digest=store.evidence_digest(evidence)) is None:
            store.store_run(s, card=card, evidence=evidence)
            s.commit()
    return card


@st.cache_data(show_spinner=False, max_entries=64)
def explained_body(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], body: str) -> pd.DataFrame:
    return explained(scorecard(db, scheme_id, as_of, state), body)


@st.cache_data(show_spinner=False)
def runs(db: str, scheme_id: str, state: tuple[str, int]) -> pd.DataFrame:
    with Session(engine_for(db)) as s:
        return store.runs(s, scheme_id=scheme_id)


@st.cache_data(show_spinner=False)
def run_scores(db: str, run_id: int) -> pd.DataFrame:
    with Session(engine_for(db)) as s:
        return store.run_scores(s, run_id=run_id)


@st.cache_data(show_spinner=False)
def evidence(db: str, scheme_id: str, state: tuple[str, int]) -> pd.DataFrame:
    with Session(engine_for(db)) as s:
        return store.evidence_with_provenance(s, scheme_id=scheme_id)


def history(db: str, evidence_id: int) -> pd.DataFrame:
    with Session(engine_for(db)) as s:
        return store.history(s, evidence_id=evidence_id)


def check_upload(db: str, scheme_id: str, name: str, data: bytes) -> tuple[pd.DataFrame | None, object]:
    """Validate an uploaded file and preview the import (nothing stored): (evidence, result) or
    (None, EvidenceError with the table of problem rows)."""
    with Session(engine_for(db)) as s:
        scheme = store.get_scheme(s, scheme_id=scheme_id)
        try:
            table = read_table(data, name)
            ev = validate(table, scheme, name)
        except EvidenceError as e:
            from scoring.evidence import problem_report

            rows = problem_report(table, e.problems) if "table" in locals() else pd.DataFrame()
            return None, (e, rows)
        result = store.import_evidence(s, scheme=scheme, evidence=ev, file_name=name, dry_run=True,
                                       sha256=hashlib.sha256(data).hexdigest())
        s.rollback()
    return ev, result


def do_import(db: str, scheme_id: str, name: str, data: bytes, ev: pd.DataFrame, actor: Actor) -> store.ImportResult:
    with Session(engine_for(db)) as s:
        actor.require("import")
        scheme = store.get_scheme(s, scheme_id=scheme_id)
        accounts.check_firm_rows(s, actor=actor, scheme=scheme, evidence=ev, source=name)
        firm = "、".join(sorted(set(ev["assessor"]) - {""}))
        sha = hashlib.sha256(data).hexdigest()
        result = store.import_evidence(s, scheme=scheme, evidence=ev, file_name=name, firm=firm, sha256=sha,
                                       imported_by=actor.name)
        s.commit()
    return result


def has_accounts(db: str) -> bool:
    with Session(engine_for(db)) as s:
        return accounts.has_accounts(s)


def login(db: str, name: str, password: str) -> Actor:
    with Session(engine_for(db)) as s:
        return accounts.authenticate(s, name=name, password=password)


def reject(db: str, evidence_id: int, reason: str, actor: Actor) -> None:
    with Session(engine_for(db)) as s:
        accounts.reject(s, evidence_id=evidence_id, reason=reason, by=actor)
        s.commit()


@st.cache_data(show_spinner=False, max_entries=256)
def whatif(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int],
           points: tuple[tuple[str, float], ...], share: float) -> tuple[pd.DataFrame | None, str]:
    """Scores with changed points and share, reusing the findings; or the reason it is refused."""
    card = scorecard(db, scheme_id, as_of, state)
    try:
        scheme = card.scheme.with_changes(dict(points), share)
    except GongkaiError as e:
        return None, str(e)
    return rescore(scheme, card.findings)[1], ""


@st.cache_data(show_spinner=False, max_entries=16)
def report_file(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], fmt: str,
                lang: str) -> tuple[bytes, str]:
    """The report of the current run as bytes in one format, or the reason it cannot be made here."""
    import tempfile
    from pathlib import Path

    from scoring import report

    with Session(engine_for(db)) as s:
        card, run_id = store.scored_run(s, scheme_id=scheme_id, as_of=as_of)
        summary = store.evidence_summary(s, scheme_id=scheme_id)
        s.commit()
    with tempfile.TemporaryDirectory(prefix="gongkai-report-") as tmp:
        path = Path(tmp) / f"report{fmt}"
        try:
            report.write(report.build(card, summary, run_id, lang), path)
        except GongkaiError as e:
            return b"", str(e)
        return path.read_bytes(), ""


def audit_trail(db: str) -> pd.DataFrame:
    """Not cached: the trail must show an action the moment it happens."""
    with Session(engine_for(db)) as s:
        return store.audit_trail(s)
