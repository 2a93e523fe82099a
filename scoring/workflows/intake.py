"""Evidence in: importing files (all or nothing, every bad row named), reading, rejecting and accepting records."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from scoring.errors import EvidenceError, GongkaiError, RowProblem, count
from scoring.intake import parts
from scoring.intake.attachments import Attached, Files, FolderFiles, open_bundle, validate_attached
from scoring.intake.evidence import empty_evidence, problem_report
from scoring.intake.tables import csv_bytes, read_table, spreadsheet_safe
from scoring.local_time import local_column
from scoring.method.scheme import Scheme
from scoring.store import accounts, cycle
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.attachments import store_for
from scoring.store.audit import audit, audit_trail
from scoring.store.db import resolve_url
from scoring.store.locks import lock_evidence
from scoring.workflows._base import ATTEMPTS, DatabaseBusy, ReadOnlyDatabase, _as, transaction


class ImportRefused(EvidenceError):
    """An evidence file refused, nothing stored; `rows` are its problem rows as sent, with a 問題
    column, ready to fix and re-send (empty when the file could not be read as a table)."""

    def __init__(self, error: EvidenceError, rows: pd.DataFrame) -> None:
        super().__init__(error.source, error.problems)
        self.rows = rows

    def problems_file(self) -> bytes:
        """The problem rows as the file to fix and re-send (`FILE.problems.csv`): UTF-8 with a BOM, text a
        spreadsheet would run as a formula guarded; the CLI writes it, the dashboard offers it."""
        return b"\xef\xbb\xbf" + csv_bytes(spreadsheet_safe(self.rows))


def import_file(db: str | None, *, actor: Actor, name: str, data: bytes | Path, scheme_id: str | None = None,
                dry_run: bool = False, firm: str | None = None,
                progress: Callable[[int], None] | None = None,
                on_retry: Callable[[str, int], None] | None = None,
                attachments: Path | None = None) -> repo.ImportResult:
    """Import an evidence file (CSV/XLSX bytes, or a .zip of the table and the files its 附件 column
    names; or the table with an `attachments` folder) all or nothing; `dry_run` checks and previews only.
    `data` is the file's bytes, or its path: then it is hashed streamed and read only when it is not
    the latest import's file again (a no-op re-import never holds the file in memory).

    The same checks run for a preview and an import, from any entry point: reading, row validation
    against the scheme, the firm's assignments. A refused file raises `ImportRefused` and is audited.
    A database busy with another writer is tried `ATTEMPTS` times before saying so."""
    if isinstance(data, Path):
        path = data
        try:
            if not path.is_file():  # a pipe (`<(zcat ev.csv.gz)`) can be read once only: read it now
                data = path.read_bytes()
            else:
                with path.open("rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
        except OSError as e:
            raise _unreadable(path, e) from None
    if not isinstance(data, Path):
        digest = hashlib.sha256(data).hexdigest()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _import_once(db, actor, name, data, digest, scheme_id, dry_run, firm, progress, attachments)
        except (DBAPIError, DatabaseBusy) as e:  # another writer holds the database, or changed the same records
            first = e.detail if isinstance(e, DatabaseBusy) else str(e.orig).splitlines()[0]
            if "readonly" in first.replace(" ", "").lower() or "read-only" in first.lower():
                raise ReadOnlyDatabase(f"the database is read-only: nothing from {name} was stored") from None
            busy = any(w in first.lower() for w in ("locked", "busy", "unique", "duplicate key", "serializ"))
            if not busy:
                raise GongkaiError(f"the database refused the import: {first}; nothing from this file was stored") from None
            if attempt == ATTEMPTS:
                raise GongkaiError(
                    f"the database stayed busy with another import or change ({first}); tried {ATTEMPTS} "
                    f"times; nothing from {name} was stored — run the import again") from None
            if on_retry:
                on_retry(first, attempt)
            time.sleep(attempt)
    raise AssertionError("unreachable")


def _unreadable(path: Path, e: OSError) -> EvidenceError:
    return EvidenceError(str(path), [RowProblem(1, "file", str(path), f"cannot read: {e.strerror}")])


def _contents(data: bytes | Path, digest: str, name: str) -> bytes:
    """The bytes of an import file (read now if given as a path), which must be the ones hashed."""
    if not isinstance(data, Path):
        return data
    try:
        content = data.read_bytes()
    except OSError as e:
        raise _unreadable(data, e) from None
    if hashlib.sha256(content).hexdigest() != digest:
        raise GongkaiError(f"{name} changed while it was being imported; nothing from it was stored — "
                           "run the import again once it is written")
    return content


def _import_once(db: str | None, actor: Actor, name: str, data: bytes | Path, digest: str, scheme_id: str | None,
                 dry_run: bool, firm: str | None, progress: Callable[[int], None] | None,
                 attachments: Path | None = None) -> repo.ImportResult:
    table = None
    with transaction(db) as session:
        who = _as(session, actor, "import")
        scheme_id = repo.resolve_scheme_id(session, scheme_id=scheme_id)
        if not dry_run:  # one writer of the scheme's evidence at a time, from before the stored records are read
            lock_evidence(session, scheme_id=scheme_id)
        if attachments is None and who.role != "firm":
            # the file of the latest import again (same bytes, same account, nothing changed since):
            # nothing to read, check or compare — what a firm account may import is checked every time
            again = repo.repeat_of_latest(session, scheme_id=scheme_id, sha256=digest, who=who.name)
            if again is not None:
                return again
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        with ExitStack() as stack:
            try:
                if attachments is None:  # a large CSV is read, checked and imported a part at a time
                    if firm is not None:  # a firm named that is not the account's: refused before reading
                        accounts.check_firm_rows(session, actor=who, scheme=scheme, evidence=empty_evidence(),
                                                 source=name, firm=firm)
                    parted = parts.open_parts(data, scheme, name, digest=digest, check=lambda part: accounts.check_firm_rows(
                        session, actor=who, scheme=scheme, evidence=part, source=name, firm=firm))
                    if parted is not None:
                        stack.enter_context(parted)
                        return _store(session, db, who, scheme, name, digest, firm, dry_run, progress, parted=parted)
                content = _contents(data, digest, name)
                table, files = _bundle(name, content, attachments, scheme)
                del content  # the bytes read are not needed once they are a table (memory: a 10M-row file is 425 MB)
                ev, attached = validate_attached(table, scheme, name, files)
                ev = accounts.check_firm_rows(session, actor=who, scheme=scheme, evidence=ev, source=name, firm=firm)
            except EvidenceError as e:
                rows = problem_report(table, e.problems) if table is not None else getattr(e, "rows", pd.DataFrame())
                refusal = ImportRefused(e, rows)
            else:
                del table  # the table as read is not needed once validated (memory)
                return _store(session, db, who, scheme, name, digest, firm, dry_run, progress, evidence=ev,
                              attached=attached)
    # refused: the refusal is audited in a transaction of its own (nothing of the file is in it)
    try:
        with transaction(db) as session:
            audit(session, who=actor.name, action="import_refused", scheme_id=scheme.id, sha256=digest,
                  detail=f"{name}: {count(len(refusal.problems), 'problem')}, nothing imported")
    except ReadOnlyDatabase:
        pass  # nothing was imported either way; the refusal itself is the answer
    raise refusal


def _store(session: Session, db: str | None, who: Actor, scheme: Scheme, name: str, digest: str, firm: str | None,
           dry_run: bool, progress: Callable[[int], None] | None, *, evidence: pd.DataFrame | None = None,
           attached: list[Attached] | None = None, parted: parts.Parted | None = None) -> repo.ImportResult:
    """Store checked evidence (whole, or a part at a time) and its attachments; a dry run stores nothing."""
    own = accounts.account_firm(session, who)  # a firm account imports as its firm, only
    assessors = parted.assessors if parted is not None else set(evidence["assessor"].unique()) if evidence is not None else set()
    stated = own or (firm if firm is not None else "、".join(sorted(assessors - {""})))
    if parted is not None:
        result = repo.import_parts(session, scheme=scheme, parted=parted, file_name=name, dry_run=dry_run,
                                   sha256=digest, firm=stated, who=who.name, progress=progress)
    else:
        assert evidence is not None
        result = repo.import_evidence(session, scheme=scheme, evidence=evidence, file_name=name, dry_run=dry_run,
                                      sha256=digest, firm=stated, who=who.name, progress=progress)
    if dry_run:
        session.rollback()
    elif attached and result.batch_id is not None:
        new = cycle.save_attachments(session, store=store_for(resolve_url(db)), files=attached)
        audit(session, who=who.name, action="attachments", scheme_id=scheme.id, sha256=digest,
              detail=f"{name}: batch {result.batch_id}, {len(attached)} files ({new} new to the store)")
    return result


def _bundle(name: str, data: bytes, folder: Path | None, scheme: Scheme) -> tuple[pd.DataFrame, Files | None]:
    """The table of an import and where its attachments are: inside a .zip, or a folder, or none."""
    if name.lower().endswith(".zip"):
        table_name, table_data, files = open_bundle(data, name)
        return read_table(table_data, table_name), files
    if folder is not None and not folder.is_dir():
        raise EvidenceError(name, [RowProblem(1, "attachment", str(folder), "--attachments: no such folder")])
    return read_table(data, name), (FolderFiles(folder, scheme.scheme.timezone) if folder else None)


def _visible(session: Session, actor: Actor, frame: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Evidence rows the actor may read: everything for readers; a firm, its assigned bodies ×
    obligations and what it imported itself."""
    if actor.may("read"):
        return frame
    allowed = accounts.assigned_mask(session, actor=actor, scheme=scheme, body=frame["body"],
                                     obligation=frame["obligation"])
    frame = frame[allowed | (frame["imported_by"] == actor.name).to_numpy()]
    # 抽查: while a sampled item is unsettled, another firm's reading of it stays blind to a firm
    from scoring.store.quality import blind_pairs

    blind, own = blind_pairs(session, scheme_id=scheme.id), accounts.account_firm(session, actor)
    if blind and len(frame):
        sampled = pd.Series(list(zip(frame["body"], frame["obligation"], strict=True)), index=frame.index).isin(blind)
        frame = frame[~(sampled & (frame["assessor"] != own) & (frame["imported_by"] != actor.name))]
    return frame


def evidence(db: str | None, *, actor: Actor, scheme_id: str) -> pd.DataFrame:
    """Stored evidence with provenance, filtered to what the actor may read."""
    with transaction(db) as session:
        who = _as(session, actor, "browse")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        return _visible(session, who, repo.evidence_with_provenance(session, scheme_id=scheme_id), scheme)


def history(db: str | None, *, actor: Actor, evidence_id: int) -> pd.DataFrame:
    """Earlier values of a record, if the actor may read that record (else it does not exist for them)."""
    with transaction(db) as session:
        _readable_record(session, _as(session, actor, "browse"), evidence_id)
        return repo.history(session, evidence_id=evidence_id)


def _readable_record(session: Session, who: Actor, evidence_id: int) -> dict:
    record = repo.evidence_record(session, evidence_id=evidence_id)
    if record is not None and not who.may("read"):
        scheme = repo.get_scheme(session, scheme_id=record["scheme_id"])
        if _visible(session, who, pd.DataFrame([record]), scheme).empty:
            record = None
    if record is None:
        raise GongkaiError(f"no evidence record {evidence_id}")
    return record


def reject(db: str | None, *, actor: Actor, evidence_id: int, reason: str) -> None:
    """Reject an evidence record with a reason: kept and shown, no longer scored. A new value the
    firm sends for it later waits, unscored, until an evaluator accepts it."""
    with transaction(db) as session:
        accounts.reject(session, evidence_id=evidence_id, reason=reason, by=_as(session, actor, "reject"))


def accept(db: str | None, *, actor: Actor, evidence_id: int) -> None:
    """Accept a record's re-sent (or rejected) value: scored again; the rejection stays in history."""
    with transaction(db) as session:
        accounts.accept(session, evidence_id=evidence_id, by=_as(session, actor, "reject"))


def audit_entries(db: str | None, *, actor: Actor, limit: int = 1000) -> pd.DataFrame:
    with transaction(db) as session:
        _as(session, actor, "audit")
        trail = audit_trail(session, limit=limit)
        return trail.assign(at=local_column(trail["at"]))   # as a user reads it: Asia/Shanghai
