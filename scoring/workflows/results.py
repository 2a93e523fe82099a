"""Scoring and runs: the scorecard of the stored evidence, explained, what-if, robustness, year over year, stored runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlmodel import Session

from scoring.intake.evidence import item_groups, read_evidence
from scoring.intake.schemes import load_scheme_cached
from scoring.local_time import local_column
from scoring.method.engine import Scorecard, score
from scoring.method.robustness import Spread
from scoring.method.robustness import robustness as rank_robustness
from scoring.method.scheme import Scheme
from scoring.store import cycle
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.cycle import Stage
from scoring.workflows._base import DatabaseBusy, ReadOnlyDatabase, _as, _signed_in, transaction
from scoring.workflows.cycle import _final


def score_current(db: str | None, *, actor: Actor, scheme_id: str | None = None,
                  as_of: dt.date | None = None, parsed: Scheme | None = None) -> tuple[Scorecard, int | None]:
    """Score the stored evidence; the run is stored (audited by the actor) unless an identical run
    of the same state exists, which is reused. Only an account that may `score` (evaluator, admin)
    stores a run: a viewer's score is computed and shown, with the stored run's id if one exists,
    else None. A read-only database scores when that run exists and says it is read-only otherwise.
    `parsed`: the stored scheme as the caller has it parsed already (used only while it is the stored one)."""
    with transaction(db) as session:
        who = _as(session, actor, "read")
        if not who.may("score"):  # a viewer reads: the score is shown, no run is stored in its name
            return repo.score_unrecorded(session, scheme_id=scheme_id, as_of=as_of, parsed=parsed)
        return repo.score_and_record(session, scheme_id=scheme_id, as_of=as_of, who=who.name, parsed=parsed)


def scorecard(db: str | None, *, actor: Actor, scheme_id: str | None = None,
              as_of: dt.date | None = None, parsed: Scheme | None = None) -> Scorecard:
    """The scorecard for reading (the dashboard): stored as a run like `score_current`, but still
    shown, unstored, when the database is read-only or busy with another writer."""
    try:
        return score_current(db, actor=actor, scheme_id=scheme_id, as_of=as_of, parsed=parsed)[0]
    except (ReadOnlyDatabase, DatabaseBusy):
        return score_unstored(db, actor=actor, scheme_id=scheme_id, as_of=as_of)


def _card_for(db: str | None, actor: Actor, scheme_id: str | None, as_of: dt.date | None,
              card: Scorecard | None) -> Scorecard:
    """The scorecard a reading starts from: `card` when the caller has it already (the dashboard's
    cache), after the actor's account is checked for `read` as the database knows it now."""
    if card is None:
        return scorecard(db, actor=actor, scheme_id=scheme_id, as_of=as_of)
    with transaction(db) as session:
        _as(session, actor, "read")
    return card


def explain(db: str | None, *, actor: Actor, body: str, scheme_id: str | None = None,
            as_of: dt.date | None = None, card: Scorecard | None = None) -> pd.DataFrame:
    """A body's findings, one row per item, with what was found and the points it cost (readers only)."""
    from scoring.method.explain import explained

    return explained(_card_for(db, actor, scheme_id, as_of, card), body)


def share_status(db: str | None, *, actor: Actor, lang: str, scheme_id: str | None = None,
                 as_of: dt.date | None = None, card: Scorecard | None = None) -> pd.Series:
    """Per body: the 4% rule as met / not met / no value, in `lang` (readers only)."""
    from scoring.method.explain import share_status as shares

    return shares(_card_for(db, actor, scheme_id, as_of, card), lang)


def what_if(db: str | None, *, actor: Actor, points: dict[str, float], share: float,
            scheme_id: str | None = None, as_of: dt.date | None = None,
            card: Scorecard | None = None) -> pd.DataFrame:
    """The scores with changed points and 4% share, re-using the findings (readers only; a change
    the scheme's checks refuse raises `SchemeError`). Nothing is stored."""
    from scoring.method.engine import rescore

    card = _card_for(db, actor, scheme_id, as_of, card)
    return rescore(card.scheme.with_changes(points, share), card.credits)[1]


def score_unstored(db: str | None, *, actor: Actor, scheme_id: str | None = None,
                   as_of: dt.date | None = None) -> Scorecard:
    """The stored evidence scored and nothing written: what a read-only or busy database still shows."""
    with transaction(db) as session:
        _as(session, actor, "read")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        return score(scheme, repo.load_evidence(session, scheme_id=scheme.id), as_of)


@dataclass(frozen=True)
class YearOverYear:
    """This year beside the one before (its final result), through the scheme's crosswalk."""

    previous: str                  # the previous scheme's id
    changes: pd.DataFrame          # scoring.method.lineage.compare: score, rank and comparable-score changes
    recurring: pd.DataFrame        # body, name, obligation, title, gap, gap_before: lost in both years (反復出現)
    improved: pd.DataFrame         # kind, body, name, comparable_change: most improved per kind
    trend: pd.DataFrame            # body, scheme, year, score: every stored year, mapped through the lineages


def year_over_year(db: str | None, *, actor: Actor, scheme_id: str | None = None, as_of: dt.date | None = None,
                   final: bool = False) -> YearOverYear | None:
    """The current scores (or, `final`, the published final result) beside the previous scheme's
    final result; None when the scheme names no previous scheme or it has no final result."""
    with transaction(db) as session:
        _as(session, actor, "read")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        if final:
            _, pub = _final(session, scheme.id)
            card = cycle.published_card(pub)
        else:
            card = score(scheme, repo.load_evidence(session, scheme_id=scheme.id), as_of)
        return _year_over_year(session, card)


def _year_over_year(session: Session, card: Scorecard) -> YearOverYear | None:
    from scoring.method import lineage

    chain = _finals_before(session, card.scheme)
    if not chain:
        return None
    (before, before_card), now = chain[0], card.scheme
    bodies = lineage.body_map(now.lineage, [b.id for b in now.bodies], [b.id for b in before.bodies])
    obligations = lineage.obligation_map(now.lineage, [o.id for o in now.obligations], [o.id for o in before.obligations])
    changes = lineage.compare(card.scores, card.obligations, before_card.scores, before_card.obligations, bodies, obligations)
    again = lineage.recurring(card.obligations, before_card.obligations, bodies, obligations)
    names, titles = {b.id: b.name for b in now.bodies}, {o.id: o.title for o in now.obligations}
    again.insert(1, "name", again["body"].map(names))
    again.insert(3, "title", again["obligation"].map(titles))
    trend, mapping, later = [], pd.DataFrame({"body": [b.id for b in now.bodies], "previous": [b.id for b in now.bodies],
                                              "weight": 1.0}), now
    scores = card.scores.dropna(subset=["score"])
    trend.append(pd.DataFrame({"body": scores["body"].astype(str), "scheme": now.id,
                               "year": now.scheme.period.start.year, "score": scores["score"].to_numpy()}))
    for scheme, final_card in chain:
        links = lineage.body_map(later.lineage, [b.id for b in later.bodies], [b.id for b in scheme.bodies])
        mapping, later = lineage.compose(mapping, links), scheme
        mapped = lineage.mapped_scores(mapping, final_card.scores.assign(body=final_card.scores["body"].astype(str))
                                       .set_index("body")["score"].dropna())
        trend.append(pd.DataFrame({"body": mapped.index, "scheme": scheme.id, "year": scheme.scheme.period.start.year,
                                   "score": mapped.to_numpy()}))
    return YearOverYear(before.id, changes, again, lineage.most_improved(changes),
                        pd.concat(trend, ignore_index=True).sort_values(["body", "year"]).reset_index(drop=True))


def _finals_before(session: Session, scheme: Scheme) -> list[tuple[Scheme, Scorecard]]:
    """The schemes before this one, newest first, each with its final result's scorecard — as far back
    as the lineage goes through stored schemes with a final result."""
    out: list[tuple[Scheme, Scorecard]] = []
    stored, now = set(repo.scheme_ids(session)), scheme
    while now.lineage is not None and now.lineage.previous in stored and len(out) < 50:
        final = next((p for p in cycle.publications(session, scheme_id=now.lineage.previous) if p.stage == Stage.FINAL), None)
        if final is None:
            break
        card = cycle.published_card(final)
        out.append((card.scheme, card))
        now = card.scheme
    return out


def score_files(scheme_path: Path, evidence_paths: list[Path], as_of: dt.date | None = None) -> Scorecard:
    """Score evidence files against a scheme file, nothing stored. Several files are read in order as
    one evidence set, as importing them one after another would store it: a later file's rows for an
    item replace the earlier files' rows for it (spec §5)."""
    scheme = load_scheme_cached(scheme_path)
    frames: list[pd.DataFrame] = []
    for path in evidence_paths:
        ev = read_evidence(path, scheme)
        if frames:
            later = item_groups(ev)
            frames = [f[~item_groups(f).isin(later).to_numpy()] for f in frames]
        frames.append(ev)
    return score(scheme, frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True), as_of)


def verify_run(db: str | None, *, actor: Actor, run_id: int) -> list[str]:
    """Recompute a stored run: [] when it reproduces exactly, else what changed since."""
    with transaction(db) as session:
        _as(session, actor, "read")
        published = cycle.publication_of_run(session, run_id=run_id)
        if published is not None:  # a published run reproduces from the scheme and evidence frozen with it
            return cycle.verify_frozen(session, pub=published)
        return repo.verify_run(session, run_id=run_id)


def runs(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> pd.DataFrame:
    with transaction(db) as session:
        _as(session, actor, "read")
        runs = repo.runs(session, scheme_id=scheme_id)
        return runs.assign(created_at=local_column(runs["created_at"]))   # as a user reads it: Asia/Shanghai


def run_scores(db: str | None, *, actor: Actor, run_id: int) -> pd.DataFrame:
    with transaction(db) as session:
        _as(session, actor, "read")
        return repo.run_scores(session, run_id=run_id)


def scheme(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> Scheme:
    """A stored scheme (the only one when `scheme_id` is left out)."""
    with transaction(db) as session:
        _as(session, actor, _signed_in(actor))
        return repo.get_scheme(session, scheme_id=scheme_id)


def robustness(db: str | None, *, actor: Actor, scheme_id: str | None = None, as_of: dt.date | None = None,
               draws: int = 1000, seed: int = 0, spread: Spread | None = None,
               card: Scorecard | None = None) -> pd.DataFrame:
    """How sure each body's rank and grade are under perturbed points, late credit and ratings
    (re-scored from the current run's findings; see `scoring.method.robustness`)."""
    card = _card_for(db, actor, scheme_id, as_of, card)
    return rank_robustness(card, draws=draws, seed=seed, spread=spread)
