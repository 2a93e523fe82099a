"""The dashboard's data access and the only caching. Every call goes through `scoring.workflows` with
the signed-in actor, so the dashboard runs the same checks and audits the same way as the CLI.

Cache keys include the state token (scheme hash, latest audited change), so an import shows at once.
A cached result is the same for every reader who may see it, so the actor is never part of a key:
each public function here checks the actor's permission *before* it reaches the cache (`_may`), and
the cached body calls `workflows`, which checks the account again as the database knows it. Who may
see what is never decided by whether another account warmed the cache.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from scoring import workflows
from scoring.errors import GongkaiError, SchemeError
from scoring.method.engine import Scorecard
from scoring.method.scheme import Scheme
from scoring.store.accounts import Actor
from scoring.store.db import resolve_url
from scoring.store.repository import ImportResult


def url() -> str:
    return resolve_url(None)


def _may(actor: Actor, action: str = "read") -> Actor:
    """Refuse (PermissionDenied) before any cached read: the actor here is the account as resumed on
    this page view, so a disabled account or changed role is already in it."""
    actor.require(action)
    return actor


@st.cache_resource(show_spinner=False)
def ready(db: str) -> bool:
    """Open (and migrate) the database once; load the demo when it holds no scheme (open mode only:
    a database with accounts is set up by its admin)."""
    if not workflows.has_accounts(db):
        workflows.ensure_demo(db, actor=Actor("dashboard", None))
    return True


def scheme_ids(db: str) -> list[str]:
    return workflows.scheme_ids(db)


def default_scheme(db: str) -> str | None:
    return workflows.default_scheme(db)


def token(db: str, scheme_id: str) -> tuple[str, int]:
    """Cheap on every rerun: changes when the scheme is reloaded or evidence imported or rejected."""
    return workflows.state_token(db, scheme_id=scheme_id)


@st.cache_resource(show_spinner=False, max_entries=16)
def _scorecard(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int],
               _actor: Actor) -> Scorecard:
    # the scheme parsed once per hash (for the sidebar) is the one scored: not parsed a second time
    return workflows.scorecard(db, actor=_actor, scheme_id=scheme_id, as_of=as_of,
                               parsed=_scheme(db, scheme_id, state[0], _actor))


def scorecard(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], actor: Actor) -> Scorecard:
    """The scorecard of the stored evidence (scored once per state; the run stored under the actor
    who first looked at that state, or reused)."""
    return _scorecard(db, scheme_id, as_of, state, _may(actor))


@st.cache_resource(show_spinner=False, max_entries=8, ttl=300)
def _year_over_year(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int],
                    _actor: Actor) -> workflows.YearOverYear | None:
    # ttl: publishing the previous scheme's final result does not move this scheme's state token
    return workflows.year_over_year(db, actor=_actor, scheme_id=scheme_id, as_of=as_of)


def year_over_year(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int],
                   actor: Actor) -> workflows.YearOverYear | None:
    """This year beside the previous scheme's final result (None without one); readers only."""
    return _year_over_year(db, scheme_id, as_of, state, _may(actor))


@st.cache_data(show_spinner=False, max_entries=64)
def _explained_body(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], body: str,
                    _actor: Actor) -> pd.DataFrame:
    return workflows.explain(db, actor=_actor, body=body, card=scorecard(db, scheme_id, as_of, state, _actor))


def explained_body(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], body: str,
                   actor: Actor) -> pd.DataFrame:
    """A body's findings explained (readers only)."""
    return _explained_body(db, scheme_id, as_of, state, body, _may(actor))


def runs(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    return workflows.runs(db, actor=actor, scheme_id=scheme_id)


def run_scores(db: str, run_id: int, actor: Actor) -> pd.DataFrame:
    return workflows.run_scores(db, actor=actor, run_id=run_id)


def evidence(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    """Stored evidence this actor may read (not cached: it is filtered per account)."""
    return workflows.evidence(db, actor=actor, scheme_id=scheme_id)


def history(db: str, evidence_id: int, actor: Actor) -> pd.DataFrame:
    return workflows.history(db, actor=actor, evidence_id=evidence_id)


def check_upload(db: str, scheme_id: str, name: str, data: bytes, actor: Actor) -> ImportResult:
    """Preview an upload with every check an import makes (raises `workflows.ImportRefused`)."""
    return workflows.import_file(db, actor=actor, name=name, data=data, scheme_id=scheme_id, dry_run=True)


def do_import(db: str, scheme_id: str, name: str, data: bytes, actor: Actor) -> ImportResult:
    return workflows.import_file(db, actor=actor, name=name, data=data, scheme_id=scheme_id)


@st.cache_resource(show_spinner=False, max_entries=16)
def _scheme(db: str, scheme_id: str, sha: str, _actor: Actor) -> Scheme:
    return workflows.scheme(db, actor=_actor, scheme_id=scheme_id)


def scheme(db: str, scheme_id: str, state: tuple[str, int], actor: Actor) -> Scheme:
    """The stored scheme (parsed once per scheme hash): every signed-in account reads it."""
    return _scheme(db, scheme_id, state[0], actor)


@st.cache_data(show_spinner=False, max_entries=64)
def _share_status(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], lang: str,
                  _actor: Actor) -> pd.Series:
    return workflows.share_status(db, actor=_actor, lang=lang, card=scorecard(db, scheme_id, as_of, state, _actor))


def share_status(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], lang: str,
                 actor: Actor) -> pd.Series:
    """Per body: the 4% rule as met / not met / no value, in `lang` (a small series, once per state)."""
    return _share_status(db, scheme_id, as_of, state, lang, _may(actor))


@st.cache_data(show_spinner=False, max_entries=16)
def synthetic(db: str, scheme_id: str, state: tuple[str, int]) -> bool:
    """Whether any stored evidence came from the synthetic demo (one small query, not every row)."""
    return workflows.has_synthetic_evidence(db, scheme_id=scheme_id)


def has_accounts(db: str) -> bool:
    return workflows.has_accounts(db)


def login(db: str, name: str, password: str, client: str) -> Actor:
    return workflows.sign_in(db, name=name, password=password, client=client)


def session_token(db: str, actor: Actor) -> str:
    return workflows.session_token(db, actor=actor)


def sign_out(db: str, token: str) -> None:
    """End the token's session server-side: a copy of the token (a URL) no longer signs in."""
    workflows.sign_out(db, token=token)


def resume(db: str, token: str) -> Actor:
    """The account of a session token as it is now (checked on every page view)."""
    return workflows.resume_session(db, token=token)


def change_password(db: str, actor: Actor, password: str) -> None:
    workflows.set_password(db, actor=actor, name=None, password=password)


def reject(db: str, evidence_id: int, reason: str, actor: Actor) -> None:
    workflows.reject(db, actor=actor, evidence_id=evidence_id, reason=reason)


def accept(db: str, evidence_id: int, actor: Actor) -> None:
    workflows.accept(db, actor=actor, evidence_id=evidence_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _whatif(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int],
            points: tuple[tuple[str, float], ...], share: float, _actor: Actor) -> tuple[pd.DataFrame | None, str]:
    try:
        return workflows.what_if(db, actor=_actor, points=dict(points), share=share,
                                 card=scorecard(db, scheme_id, as_of, state, _actor)), ""
    except SchemeError as e:
        return None, str(e)


def whatif(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int],
           points: tuple[tuple[str, float], ...], share: float, actor: Actor) -> tuple[pd.DataFrame | None, str]:
    """Scores with changed points and share, reusing the credits; or the reason it is refused."""
    return _whatif(db, scheme_id, as_of, state, points, share, _may(actor))


REPORT_NAME = "gongkai-report"   # the downloads' name (a part apart: gongkai-report-附录.csv …)


def report_files(db: str, scheme_id: str, as_of: dt.date | None, fmts: list[str], lang: str,
                 actor: Actor) -> dict[str, tuple[bytes, str]]:
    """The report of the current run in each format asked for (the model built once for all of
    them): per format its bytes, or the reason it cannot be made here; at national scale also the
    parts written apart (the appendix, the body sections), each under its file name (….csv)."""
    with tempfile.TemporaryDirectory(prefix="gongkai-report-") as tmp:
        paths = {fmt: Path(tmp) / f"{REPORT_NAME}{fmt}" for fmt in fmts}   # the report names its appendix's CSV by it
        done = workflows.write_report(db, actor=actor, outs=list(paths.values()), scheme_id=scheme_id, as_of=as_of,
                                      lang=lang)
        problems = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in done.failed}
        files = {fmt: (b"", problems[p.name]) if p.name in problems else (p.read_bytes(), "") for fmt, p in paths.items()}
        # parts written apart, by their file names (every format's appendix is the same file)
        return files | {p.name: (p.read_bytes(), "") for p in done.written if p.suffix == ".csv"}


def audit_trail(db: str, actor: Actor) -> pd.DataFrame:
    """Not cached: the trail must show an action the moment it happens."""
    return workflows.audit_entries(db, actor=actor)


@st.cache_data(show_spinner=False, max_entries=16)
def _robustness(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], _actor: Actor) -> pd.DataFrame:
    return workflows.robustness(db, actor=_actor, draws=1000, seed=0, card=scorecard(db, scheme_id, as_of, state, _actor))


def robustness(db: str, scheme_id: str, as_of: dt.date | None, state: tuple[str, int], actor: Actor) -> pd.DataFrame:
    """Rank intervals and grade certainty of the current scores (1,000 draws, seed 0, default spreads)."""
    return _robustness(db, scheme_id, as_of, state, _may(actor))


# ---- the assessment cycle (not cached: every call is per account and must show a change at once) ----

def publications(db: str, scheme_id: str, actor: Actor) -> list[workflows.Published]:
    return workflows.publications(db, actor=actor, scheme_id=scheme_id) if actor.may("own") else []


def appeal_window_closed(db: str, scheme_id: str, actor: Actor) -> bool:
    return workflows.appeal_window_closed(db, actor=actor, scheme_id=scheme_id)


def body_result(db: str, scheme_id: str, body: str | None, actor: Actor) -> workflows.BodyResult:
    return workflows.body_result(db, actor=actor, body=body, scheme_id=scheme_id)


def add_appeal(db: str, scheme_id: str, actor: Actor, **fields) -> int:
    return workflows.add_appeal(db, actor=actor, scheme_id=scheme_id, **fields)


def appeals(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    return workflows.appeals(db, actor=actor, scheme_id=scheme_id)


def decide_appeal(db: str, appeal_id: int, accept: bool, reason: str, published_at: dt.datetime | None,
                  actor: Actor) -> workflows.Decision:
    return workflows.decide_appeal(db, actor=actor, appeal_id=appeal_id, accept=accept, reason=reason,
                                   published_at=published_at)


def problems(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    return workflows.problems(db, actor=actor, scheme_id=scheme_id)


def problems_by_city(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    return workflows.problems_by_city(db, actor=actor, scheme_id=scheme_id)


def set_problem(db: str, problem_id: int, status: str, note: str, attachment: tuple[str, bytes] | None,
                actor: Actor) -> None:
    workflows.set_problem(db, actor=actor, problem_id=problem_id, status=status, note=note, attachment=attachment)


def body_files(db: str, scheme_id: str, body: str, actor: Actor) -> pd.DataFrame:
    return workflows.body_files(db, actor=actor, body=body, scheme_id=scheme_id)


def attachment(db: str, sha256: str, actor: Actor) -> tuple[str, str, bytes]:
    return workflows.attachment(db, actor=actor, sha256=sha256)


# ---- the web collector (uncached: a crawl or an acceptance changes them) ---------------------------

def crawls(db: str, actor: Actor) -> pd.DataFrame:
    from scoring.workflows import collect as workflows_collect

    return workflows_collect.crawls(db, actor=actor)


def proposals(db: str, crawl_id: int, actor: Actor) -> pd.DataFrame:
    from scoring.workflows import collect as workflows_collect

    return workflows_collect.proposals(db, actor=actor, crawl_id=crawl_id)


def review(db: str, crawl_id: int, proposal_id: int, actor: Actor):
    from scoring.workflows import collect as workflows_collect

    return workflows_collect.review(db, actor=actor, crawl_id=crawl_id, proposal_id=proposal_id)


def accept_proposals(db: str, crawl_id: int, ids: list[int], actor: Actor):
    from scoring.workflows import collect as workflows_collect

    return workflows_collect.accept(db, actor=actor, crawl_id=crawl_id, ids=ids)


# ---- the website inspection (uncached: a poll changes it) ------------------------------------------

def inspection(db: str, scheme_id: str, as_of, actor: Actor):
    """(indicators, inspection date, each polled site's judgement)."""
    from scoring.workflows import inspection as workflows_inspect

    return workflows_inspect.inspect(db, actor=actor, scheme_id=scheme_id, as_of=as_of)


def inspection_to_evidence(db: str, scheme_id: str, as_of, actor: Actor):
    from scoring.workflows import inspection as workflows_inspect

    return workflows_inspect.to_evidence(db, actor=actor, scheme_id=scheme_id, as_of=as_of)


# ---- the quality of the assessment (抽查): read fresh (a second import changes no state token) ----

def sample_items(db: str, scheme_id: str, actor: Actor):
    """(the latest sample, its items with both readings), or None when none is drawn."""
    from scoring.workflows import quality as workflows_quality

    try:
        return workflows_quality.sample_items(db, actor=actor, scheme_id=scheme_id)
    except GongkaiError as e:
        if "no sample" in str(e):
            return None
        raise


def agreement(db: str, scheme_id: str, actor: Actor, by: str = "obligation") -> pd.DataFrame:
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.agreement(db, actor=actor, scheme_id=scheme_id, by=by)


def disagreements(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.disagreements(db, actor=actor, scheme_id=scheme_id)


def settle(db: str, scheme_id: str, item_id: int, how: str, reason: str, value: str, actor: Actor) -> int | None:
    """Settle one disagreement of the sample (evaluator, admin): keep, take or a new value, with a reason."""
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.settle(db, actor=actor, item_id=item_id, how=how, reason=reason, value=value,
                                    scheme_id=scheme_id)


def draw_sample(db: str, scheme_id: str, seed: int | None, size: str, by: str | None, actor: Actor):
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.draw_sample(db, actor=actor, scheme_id=scheme_id, seed=seed, size=size, by=by)


def export_blind(db: str, scheme_id: str, actor: Actor) -> bytes:
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.export_blind(db, actor=actor, scheme_id=scheme_id)


def import_second(db: str, scheme_id: str, name: str, data: bytes, actor: Actor):
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.import_second(db, actor=actor, name=name, data=data, scheme_id=scheme_id)


def self_comparison(db: str, scheme_id: str, actor: Actor) -> pd.DataFrame:
    """The self-assessments beside the findings: a body account its own body's, others every body's."""
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.self_comparison(db, actor=actor, scheme_id=scheme_id)


def import_self(db: str, scheme_id: str, name: str, data: bytes, actor: Actor) -> tuple[int, int]:
    from scoring.workflows import quality as workflows_quality

    return workflows_quality.import_self_assessment(db, actor=actor, name=name, data=data, scheme_id=scheme_id)
