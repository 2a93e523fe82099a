"""Schemes: loading, drafting next year's from its document, which are stored, their state."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scoring.errors import GongkaiError, SchemeError
from scoring.intake.schemes import load_scheme_cached
from scoring.method.scheme import Scheme, lineage_faults, load_scheme
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.synthetic import demo
from scoring.workflows._base import _as, transaction


def load_scheme_file(db: str | None, *, actor: Actor, path: Path) -> tuple[Scheme, bool]:
    """Validate a scheme file and store it (or its new version). Returns (scheme, changed). A draft
    with decisions still open (`review:`) is refused."""
    scheme = load_scheme(path)
    if opened := scheme.open_reviews():
        raise SchemeError(str(path), [f"a draft: {len(opened)} decisions are still open (review:); decide each "
                                      "and delete its entry — `gongkai criteria check` lists them", *opened[:10]])
    with transaction(db) as session:
        who = _as(session, actor, "scheme")
        if scheme.lineage is not None and scheme.lineage.previous in repo.scheme_ids(session):
            faults = lineage_faults(scheme, repo.get_scheme(session, scheme_id=scheme.lineage.previous))
            if faults:
                raise SchemeError(str(path), faults)
        return scheme, repo.save_scheme(session, scheme=scheme, who=who.name)


def draft_scheme(db: str | None, *, actor: Actor | None, data: bytes, name: str, previous: str | None = None) -> str:
    """A draft scheme (YAML text) from next year's document (.txt or .docx); `previous` names the
    scheme of the year before — a file, or a stored scheme's id — whose bodies, grades and points the
    draft takes up where the document matches them."""
    from scoring.intake.draft import draft, read_document, to_yaml

    text = read_document(data, name)
    before = None
    if previous is not None:
        if Path(previous).is_file():
            before = load_scheme_cached(Path(previous))
        else:
            with transaction(db) as session:
                assert actor is not None
                _as(session, actor, "read")
                before = repo.get_scheme(session, scheme_id=previous)
    return to_yaml(draft(text, before), name)


def compare_draft(data: bytes, name: str, previous: Scheme) -> pd.DataFrame:
    """A draft scheme file (YAML, perhaps not loadable yet) beside the scheme it follows: added,
    changed, dropped obligations (scoring.intake.draft.compare_with)."""
    import yaml

    from scoring.intake.draft import compare_with

    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as e:
        raise GongkaiError(f"{name}: not a YAML scheme file ({type(e).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("obligations"), list):
        raise GongkaiError(f"{name}: not a scheme file (no obligations:)")
    return compare_with(doc, previous)


def scheme_ids(db: str | None) -> list[str]:
    with transaction(db) as session:
        return repo.scheme_ids(session)


def default_scheme(db: str | None) -> str | None:
    """The scheme meant when none is named: the only one stored, or the newest of one lineage."""
    with transaction(db) as session:
        try:
            return repo.resolve_scheme_id(session)
        except GongkaiError:
            return None


def has_synthetic_evidence(db: str | None, *, scheme_id: str) -> bool:
    """Whether any evidence of the scheme came from the synthetic demo (so screens can say so)."""
    with transaction(db) as session:
        return repo.has_firm(session, scheme_id=scheme_id, firm=demo.FIRM)


def state_token(db: str | None, *, scheme_id: str) -> tuple[str, int]:
    """Changes whenever scores could change (a reload, an import, a replacement, a rejection)."""
    with transaction(db) as session:
        return repo.state_token(session, scheme_id=scheme_id)
