"""The only orchestration: importing, loading the demo or a scheme, scoring, rejecting, reports, runs,
accounts. The command line and the dashboard are thin callers of these functions.

Every function takes the database URL (`None`: the default) and the acting `Actor` explicitly. Each
opens one transaction, re-reads the actor's account (a disabled account or a changed role takes
effect at once, even in an open dashboard session), checks its permission, and audits what it
changes under the actor's name.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

import pandas as pd
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from scoring import SCHEME_FILE
from scoring.errors import EvidenceError, GongkaiError, RowProblem, SchemeError, count
from scoring.intake.attachments import Files, FolderFiles, open_bundle, validate_attached
from scoring.intake.evidence import item_groups, problem_report, read_evidence, validate
from scoring.intake.schemes import load_scheme_cached
from scoring.intake.tables import csv_bytes, read_table, spreadsheet_safe
from scoring.method.engine import Scorecard, score
from scoring.method.robustness import Spread
from scoring.method.robustness import robustness as rank_robustness
from scoring.method.scheme import Scheme, lineage_faults, load_scheme
from scoring.report.model import build as build_report
from scoring.report.write import FORMATS, write
from scoring.store import accounts, cycle, documents
from scoring.store import repository as repo
from scoring.store.accounts import Actor, LoginRefused, PermissionDenied
from scoring.store.attachments import store_for
from scoring.store.audit import audit, audit_trail
from scoring.store.db import engine_for, resolve_url, session_secret
from scoring.store.locks import lock_evidence
from scoring.synthetic import demo

DEMO_FILE = "demo（合成數據 synthetic）"
ATTEMPTS = 3  # an import meeting a busy database is tried this often


class ReadOnlyDatabase(GongkaiError):
    """A write was asked of a database (or file system) that is read-only."""


BUSY = "the database is busy (another import is writing); try again in a moment"


class DatabaseBusy(GongkaiError):
    """A write met another writer holding the database past the busy timeout (SQLite: "database is
    locked"); `detail` is the database's own first line. Reads never wait on a writer (WAL)."""

    def __init__(self, detail: str):
        super().__init__(BUSY)
        self.detail = detail


def _busy(e: DBAPIError) -> str:
    """The database's first line when `e` is another writer holding it ('' otherwise)."""
    first = (str(e.orig).splitlines() or [""])[0]
    return first if any(w in first.lower() for w in ("database is locked", "database is busy",
                                                      "database table is locked")) else ""


@contextmanager
def transaction(db: str | None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with Session(engine_for(db)) as session:
        try:
            yield session
            session.commit()
        except DBAPIError as e:  # SQLite: "attempt to write a readonly database"; PostgreSQL: "read-only transaction"
            session.rollback()
            if "readonly" in str(e.orig).replace(" ", "").lower() or "read-only" in str(e.orig).lower():
                raise ReadOnlyDatabase("the database is read-only: nothing was changed") from None
            if _busy(e):
                raise DatabaseBusy(_busy(e)) from None
            raise
        except BaseException:
            session.rollback()
            raise


def _signed_in(actor: Actor) -> str:
    """The permission every signed-in account has: a body account its own result, any other reading."""
    return "own" if actor.role == "body" else "browse"


def _as(session: Session, actor: Actor, action: str) -> Actor:
    return accounts.recheck(session, actor, action)


# ---- signing in --------------------------------------------------------------------------------

def sign_in(db: str | None, *, name: str | None, password: str | None, client: str = "") -> Actor:
    """The actor for a name and password; a database without accounts is open (`name` or `local`).

    `client` names where the attempt comes from (a terminal's user@host, a browser's address). A
    refused sign-in is recorded and audited in a transaction of its own; too many failures for a
    name or from a client lock further sign-ins (see `accounts.Limits`)."""
    try:
        with transaction(db) as session:
            return accounts.authenticate(session, name=name, password=password, client=client)
    except LoginRefused as refusal:
        try:
            with transaction(db) as session:
                accounts.record_login_refusal(session, refusal)
        except (ReadOnlyDatabase, DatabaseBusy):
            pass  # a read-only (or busy) database cannot count failures; the refusal stands
        raise


def session_token(db: str | None, *, actor: Actor) -> str:
    """A signed, expiring token that signs `actor` in again (a dashboard reload), until it expires or
    its session ends: signed out, the account disabled, its password or role changed."""
    try:
        with transaction(db) as session:
            who = _as(session, actor, _signed_in(actor))
            return accounts.session_token(session, actor=who, secret=session_secret(db))
    except ReadOnlyDatabase:  # no row can be stored: a session of this server process only
        with transaction(db) as session:
            who = _as(session, actor, _signed_in(actor))
            return accounts.session_token(session, actor=who, secret=session_secret(db), stored=False)


def sign_out(db: str | None, *, token: str) -> None:
    """End the session of a token: the token (and any copy of it) is refused from now on."""
    with transaction(db) as session:
        accounts.end_session(session, token=token, secret=session_secret(db))


def resume_session(db: str | None, *, token: str) -> Actor:
    """The account a session token signs in (refused when forged, expired, or no longer valid)."""
    with transaction(db) as session:
        return accounts.resume(session, token=token, secret=session_secret(db))


def has_accounts(db: str | None) -> bool:
    with transaction(db) as session:
        return accounts.has_accounts(session)


# ---- schemes and the demo ----------------------------------------------------------------------

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
    if "final" not in stages:
        if "preliminary" not in stages:
            publish(db, actor=actor, stage="preliminary", scheme_id=first.id, today=DEMO_CYCLE[0])
        publish(db, actor=actor, stage="final", scheme_id=first.id, today=DEMO_CYCLE[1])
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


# ---- importing evidence ------------------------------------------------------------------------

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
        content = _contents(data, digest, name)
        try:
            table, files = _bundle(name, content, attachments, scheme)
            del content  # the bytes read are not needed once they are a table (memory: a 10M-row file is 425 MB)
            ev, attached = validate_attached(table, scheme, name, files)
            ev = accounts.check_firm_rows(session, actor=who, scheme=scheme, evidence=ev, source=name, firm=firm)
        except EvidenceError as e:
            refusal = ImportRefused(e, problem_report(table, e.problems) if table is not None else pd.DataFrame())
        else:
            del table  # the table as read is not needed once validated (memory)
            own = accounts.account_firm(session, who)  # a firm account imports as its firm, only
            stated = own or (firm if firm is not None else "、".join(sorted(set(ev["assessor"].unique()) - {""})))
            result = repo.import_evidence(session, scheme=scheme, evidence=ev, file_name=name, dry_run=dry_run,
                                          sha256=digest, firm=stated, who=who.name, progress=progress)
            if dry_run:
                session.rollback()
            elif attached and result.batch_id is not None:
                new = cycle.save_attachments(session, store=store_for(resolve_url(db)), files=attached)
                audit(session, who=who.name, action="attachments", scheme_id=scheme.id, sha256=digest,
                      detail=f"{name}: batch {result.batch_id}, {len(attached)} files ({new} new to the store)")
            return result
    # refused: the refusal is audited in a transaction of its own (nothing of the file is in it)
    try:
        with transaction(db) as session:
            audit(session, who=actor.name, action="import_refused", scheme_id=scheme.id, sha256=digest,
                  detail=f"{name}: {count(len(refusal.problems), 'problem')}, nothing imported")
    except ReadOnlyDatabase:
        pass  # nothing was imported either way; the refusal itself is the answer
    raise refusal


def _bundle(name: str, data: bytes, folder: Path | None, scheme: Scheme) -> tuple[pd.DataFrame, Files | None]:
    """The table of an import and where its attachments are: inside a .zip, or a folder, or none."""
    if name.lower().endswith(".zip"):
        table_name, table_data, files = open_bundle(data, name)
        return read_table(table_data, table_name), files
    if folder is not None and not folder.is_dir():
        raise EvidenceError(name, [RowProblem(1, "attachment", str(folder), "--attachments: no such folder")])
    return read_table(data, name), (FolderFiles(folder, scheme.scheme.timezone) if folder else None)


# ---- scoring -----------------------------------------------------------------------------------

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
        final = next((p for p in cycle.publications(session, scheme_id=now.lineage.previous) if p.stage == "final"), None)
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
        return repo.runs(session, scheme_id=scheme_id)


def run_scores(db: str | None, *, actor: Actor, run_id: int) -> pd.DataFrame:
    with transaction(db) as session:
        _as(session, actor, "read")
        return repo.run_scores(session, run_id=run_id)


# ---- evidence: reading and rejecting -----------------------------------------------------------

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
        return audit_trail(session, limit=limit)


# ---- reports -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    """A report run: the run it shows, the files written, and the formats that failed (and why)."""

    run_id: int
    as_of: dt.date
    written: list[Path]
    failed: list[str]


def write_report(db: str | None, *, actor: Actor, outs: list[Path], scheme_id: str | None = None,
                 as_of: dt.date | None = None, lang: str = "zh-Hans",
                 on_step: Callable[[str], None] | None = None) -> Written:
    """The annual report of the current run in every format asked for. A format whose system part
    is missing is named in `failed`; the others are still written. `on_step` hears each step begin."""
    for path in outs:
        if path.suffix.lower() not in FORMATS:
            raise GongkaiError(f"--out {path.name}: unknown report format; use one of {', '.join(FORMATS)}")
    with transaction(db) as session:
        who = _as(session, actor, "score")
        card, run_id = repo.score_and_record(session, scheme_id=scheme_id, as_of=as_of, who=who.name)
        summary = repo.evidence_summary(session, scheme_id=card.scheme.id)
        files = cycle.attachment_files(session, sha256s=summary.evidence["attachment"].tolist())
        summary.evidence = summary.evidence.merge(files, on="attachment", how="left")
        yoy = _year_over_year(session, card)
    if on_step:
        on_step("building the report")
    built = build_report(card, summary, run_id, lang, previous=yoy.previous if yoy else "",
                         changes=yoy.changes if yoy else None)
    written, failed = [], []
    for path in outs:
        if on_step:
            on_step(f"writing {path.name}")
        try:
            written.append(write(built, path))
        except GongkaiError as e:
            failed.append(f"{path.name}: {e}")
    return Written(run_id, card.as_of, written, failed)


# ---- accounts ----------------------------------------------------------------------------------

def add_user(db: str | None, *, actor: Actor | None, name: str, password: str, role: str,
             firm: str | None = None) -> None:
    """Add an account. The first account (actor None: nobody can sign in yet) must be an admin."""
    with transaction(db) as session:
        if accounts.has_accounts(session):
            if actor is None:
                raise PermissionDenied("this database has accounts: sign in as an admin to add one")
            by = _as(session, actor, "users")
        else:
            by = Actor(name, None)
        accounts.add_user(session, name=name, password=password, role=role, by=by, firm=firm)


def set_role(db: str | None, *, actor: Actor, name: str, role: str, firm: str | None = None) -> None:
    """Change a role (never leaving no active admin); a firm account names its firm."""
    with transaction(db) as session:
        accounts.set_role(session, name=name, role=role, firm=firm, by=_as(session, actor, "users"))


def disable_user(db: str | None, *, actor: Actor, name: str) -> None:
    """Disable an account (refused for the last active admin); its open sessions end at once."""
    with transaction(db) as session:
        accounts.disable(session, name=name, by=_as(session, actor, "users"))


def enable_user(db: str | None, *, actor: Actor, name: str) -> None:
    """Enable a disabled account again (and lift its sign-in lockout)."""
    with transaction(db) as session:
        accounts.enable(session, name=name, by=_as(session, actor, "users"))


def set_password(db: str | None, *, actor: Actor, name: str | None, password: str) -> None:
    """Change one's own password (`name` None or one's own), or, as an admin, reset another's.
    Sessions signed in with the old password end."""
    with transaction(db) as session:
        who = _as(session, actor, _signed_in(actor))
        accounts.set_password(session, name=name or who.name, password=password, by=who)


def assign(db: str | None, *, actor: Actor, name: str, body: str, obligation: str) -> None:
    with transaction(db) as session:
        accounts.assign(session, name=name, body=body, obligation=obligation, by=_as(session, actor, "users"))


def users(db: str | None, *, actor: Actor) -> pd.DataFrame:
    with transaction(db) as session:
        _as(session, actor, "users")
        return accounts.users_with_firms(session)


def current_actor(db: str | None, *, actor: Actor) -> Actor:
    """The actor as the database knows it now (a dashboard re-checks this on every page view):
    refused when the account was disabled or removed; with its current role otherwise."""
    with transaction(db) as session:
        return _as(session, actor, _signed_in(actor))


def scheme(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> Scheme:
    """A stored scheme (the only one when `scheme_id` is left out)."""
    with transaction(db) as session:
        _as(session, actor, _signed_in(actor))
        return repo.get_scheme(session, scheme_id=scheme_id)


def robustness(db: str | None, *, actor: Actor, scheme_id: str | None = None, as_of: dt.date | None = None,
               draws: int = 1000, seed: int = 0, spread: Spread | None = None) -> pd.DataFrame:
    """How sure each body's rank and grade are under perturbed points, late credit and ratings
    (re-scored from the current run's findings; see `scoring.method.robustness`)."""
    card = scorecard(db, actor=actor, scheme_id=scheme_id, as_of=as_of)
    return rank_robustness(card, draws=draws, seed=seed, spread=spread)


# ---- the assessment cycle: publish → appeal → decide → final → 通報 → 整改 ------------------------

PROVISIONAL = "暂定"  # said of a cycle date computed on an estimated calendar (its year is not loaded)
FEEDBACK_DAYS = 5   # working days a preliminary result is open to appeals
RECTIFY_DAYS = 20   # working days a body has to rectify a problem of the final result


P = ParamSpec("P")
R = TypeVar("R")


def _refusals_audited(action: str, *, only: type[GongkaiError] = GongkaiError
                      ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Audit a refused cycle step as `<action>_refused` (who, the message), in a transaction of its own
    as refused imports and sign-ins are: the refusal stands, nothing of the step is stored. Steps that
    change something audit every refusal; reads only those the account's role or body does not allow."""
    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def step(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except only as refusal:
                if not isinstance(refusal, (ReadOnlyDatabase, DatabaseBusy)):
                    actor = kwargs["actor"]
                    assert isinstance(actor, Actor)
                    try:
                        with transaction(args[0] if args else kwargs.get("db")) as session:  # type: ignore[arg-type]
                            audit(session, who=actor.name, action=f"{action}_refused",
                                  scheme_id=str(kwargs.get("scheme_id") or ""), detail=str(refusal)[:1000])
                    except (ReadOnlyDatabase, DatabaseBusy, DBAPIError):
                        pass  # a database that cannot record it: the refusal itself is the answer
                raise
        return step
    return wrap


def _clock() -> dt.datetime:
    """Now, as an aware UTC instant — the one place the cycle reads the clock. `GONGKAI_CLOCK` (an ISO
    date or date-time; without an offset it is the scheme timezone's wall clock, Asia/Shanghai) sets
    it for tests and for rehearsing a cycle: the feedback window, the 整改 due date and the documents'
    dates follow it; the audit trail keeps the real time."""
    import os

    fixed = os.environ.get("GONGKAI_CLOCK", "").strip()
    if not fixed:
        return dt.datetime.now(dt.UTC)
    try:
        at = dt.datetime.fromisoformat(fixed)
    except ValueError:
        raise GongkaiError(f"GONGKAI_CLOCK={fixed!r} is not an ISO date or date-time "
                           "(2026-12-28, 2026-12-28T10:00 or 2026-12-28T10:00+08:00)") from None
    if at.tzinfo is None:
        from zoneinfo import ZoneInfo

        at = at.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return at.astimezone(dt.UTC)


def _today(scheme: Scheme, today: dt.date | None) -> dt.date:
    """The day it is on the scheme's calendar: in its timezone (Asia/Shanghai), not the server's."""
    from zoneinfo import ZoneInfo

    return today or _clock().astimezone(ZoneInfo(scheme.scheme.timezone)).date()


def _window_closed(scheme: Scheme, pub, today: dt.date | None) -> bool:
    """Whether a preliminary result's feedback window is over on the scheme's calendar."""
    return pub.closes_on is not None and _today(scheme, today) > pub.closes_on


def _working_days_after(scheme: Scheme, day: dt.date, n: int) -> tuple[dt.date, bool]:
    """The n-th working day after `day` on the scheme's calendar (as this database has it), and
    whether it is provisional (暫定): a year it reaches that nobody covers is estimated, never refused."""
    from scoring.method.compiled import compiled

    return compiled(scheme).calendar.cycle_date(day, n)


def _own_body(session: Session, who: Actor, body: str | None) -> str | None:
    """The body an actor acts for: a `body` account its own (asking for another is refused); others
    the body they name (None: all)."""
    if who.role != "body":
        return body
    own = cycle.body_of(session, user=who.name)
    if own is None:
        raise PermissionDenied(f"the body account {who.name} is not tied to a body yet (gongkai user body NAME ID)")
    if body is not None and body != own:
        raise PermissionDenied(f"user {who.name} acts only for its own body {own}, not {body}")
    return own


@dataclass(frozen=True)
class Published:
    """A published result: its publication id, stage, run, and the feedback window's last day."""

    id: int
    stage: str
    run_id: int
    as_of: dt.date
    published_at: dt.datetime
    closes_on: dt.date | None
    problems: int = 0
    provisional: bool = False  # its window's end (feedback, or 整改 due) is estimated: 暫定 until the year is loaded
    due_on: dt.date | None = None  # a final result's 整改 due date


def _published(pub, problems: int = 0, due_on: dt.date | None = None) -> Published:
    return Published(pub.id, pub.stage, pub.run_id, pub.as_of, pub.published_at, pub.closes_on, problems,
                     bool(pub.provisional), due_on)


@_refusals_audited("user_body")
def tie_body(db: str | None, *, actor: Actor, name: str, body: str) -> None:
    """Tie a `body` account to the one assessed unit it acts for."""
    with transaction(db) as session:
        who = _as(session, actor, "users")
        cycle.tie_body(session, user=name, body=body)
        audit(session, who=who.name, action="user_body", detail=f"{name}: body {body}")


@_refusals_audited("publish")
def publish(db: str | None, *, actor: Actor, stage: str, scheme_id: str | None = None,
            as_of: dt.date | None = None, days: int = FEEDBACK_DAYS, rectify_days: int = RECTIFY_DAYS,
            today: dt.date | None = None) -> Published:
    """Publish the current run: `preliminary` opens a feedback window of `days` working days;
    `final` (refused while an appeal is undecided, and once a final exists) freezes it and opens a
    整改 problem for every point lost. The scheme and evidence are frozen with the run."""
    if stage not in ("preliminary", "final"):
        raise GongkaiError(f"stage {stage!r} is not one of: preliminary, final")
    if days < 1:
        raise GongkaiError(f"--days {days}: a feedback window is at least 1 working day")
    with transaction(db) as session:
        who = _as(session, actor, "publish")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        earlier = cycle.publications(session, scheme_id=scheme.id)
        final = next((p for p in earlier if p.stage == "final"), None)
        if final is not None:
            raise GongkaiError(f"the final result of {scheme.id} was published on {final.published_at:%Y-%m-%d} "
                               f"(run {final.run_id}); it is frozen — later evidence makes new runs, not a new final")
        if stage == "final":
            if not earlier:
                raise GongkaiError("publish --preliminary first: bodies get a feedback window before the final result")
            undecided = cycle.appeals(session, scheme_id=scheme.id, open_only=True)
            if len(undecided):
                listed = ", ".join(f"{r.id} ({r.body} · {r.obligation} · {r.item})" for r in undecided.itertuples())
                raise GongkaiError(f"{len(undecided)} appeal(s) undecided: {listed}; decide them first "
                                   "(gongkai appeal decide N --accept|--reject --reason TEXT)")
        card, run_id = repo.score_and_record(session, scheme_id=scheme.id, as_of=as_of, who=who.name)
        evidence, digest = repo.evidence_state(session, scheme_id=scheme.id)
        day = _today(scheme, today)
        window = days if stage == "preliminary" else rectify_days
        end, provisional = _working_days_after(scheme, day, window)
        pub = cycle.publish(session, stage=stage, scheme=scheme, run_id=run_id, as_of=card.as_of,
                            evidence=evidence, who=who.name, closes_on=end if stage == "preliminary" else None,
                            opened_on=day, days=window, provisional=provisional)
        opened = cycle.open_problems(session, pub=pub, card=card, due_on=end) if stage == "final" else 0
        mark = f" ({PROVISIONAL}: {end.year} is not loaded)" if provisional else ""
        audit(session, who=who.name, action=f"publish_{stage}", scheme_id=scheme.id, sha256=digest,
              detail=f"publication {pub.id}: run {run_id}, as of {card.as_of}"
                     + (f", feedback window to {end}{mark} ({days} working days)" if stage == "preliminary" else
                        f", frozen; {opened} 整改 problems due {end}{mark}"))
        return _published(pub, opened, end if stage == "final" else None)


# ---- the working-day calendar --------------------------------------------------------------------

@dataclass(frozen=True)
class CalendarLoad:
    """What loading a notice did: per year (holidays, make-up working days), and each cycle date it
    made exact: (publication, what, provisional date, exact date)."""

    years: dict[int, tuple[int, int]]
    recomputed: list[tuple[int, str, dt.date, dt.date]]


@_refusals_audited("calendar_load")
def load_calendar(db: str | None, *, actor: Actor, data: bytes, name: str) -> CalendarLoad:
    """Load a year's holiday notice (CSV `date,type[,name]` or YAML): every year it lists is replaced
    whole, and takes precedence over the package and the scheme. Every provisional (暫定) cycle date is
    then recomputed; one the file makes exact loses its mark. All in one transaction, audited."""
    from scoring.intake.calendar import read_calendar
    from scoring.store import calendar

    days = read_calendar(data, name)
    sha = hashlib.sha256(data).hexdigest()
    with transaction(db) as session:
        who = _as(session, actor, "calendar")
        years = calendar.load_days(session, days=days, source=name, sha256=sha, who=who.name)
        listed = "; ".join(f"{y}: {h} holidays, {w} make-up working days" for y, (h, w) in years.items())
        audit(session, who=who.name, action="calendar_load", sha256=sha, detail=f"{name}: {listed}")
        return CalendarLoad(years, _recompute_provisional(session, who))


def _recompute_provisional(session: Session, who: Actor) -> list[tuple[int, str, dt.date, dt.date]]:
    """Recompute every provisional window end on the calendar as loaded now: a feedback window's
    last day, or a final result's 整改 due date (its problems'); audited per publication."""
    made_exact = []
    for pub in cycle.provisional_publications(session):
        assert pub.id is not None and pub.opened_on is not None and pub.days is not None
        end, provisional = _working_days_after(repo.get_scheme(session, scheme_id=pub.scheme_id), pub.opened_on, pub.days)
        before = cycle.move_window_end(session, pub=pub, end=end, provisional=provisional)
        what = "feedback window closes" if pub.stage == "preliminary" else "整改 due"
        audit(session, who=who.name, action="calendar_recompute", scheme_id=pub.scheme_id,
              detail=f"publication {pub.id}: {what} {before} ({PROVISIONAL}) → {end}"
                     + (f" (still {PROVISIONAL})" if provisional else ""))
        if not provisional:
            made_exact.append((pub.id, what, before, end))
    return made_exact


@dataclass(frozen=True)
class CalendarYearView:
    """A year's holidays and make-up working days (date, type, name) and where they come from:
    `loaded` (an office's notice, with who and when), `scheme` (a scheme's calendar_years),
    `package` (chinesecalendar) or `estimated` (nobody covers it: the cycle's 暫定 dates use these)."""

    year: int
    source: str
    days: pd.DataFrame
    loaded_from: str = ""


@_refusals_audited("calendar_show", only=PermissionDenied)
def calendar_year(db: str | None, *, actor: Actor, year: int, scheme_id: str | None = None) -> CalendarYearView:
    """Every holiday and make-up working day of `year`, from the source scoring uses for it."""
    from scoring.method.calendar import PACKAGE_YEARS, estimated_holidays, package_days
    from scoring.store import calendar

    if not 1901 <= year <= 2099:
        raise GongkaiError(f"year {year}: give a year between 1901 and 2099")
    with transaction(db) as session:
        _as(session, actor, "holidays")
        loaded = calendar.year_days(session, year=year)
        if len(loaded):
            first = loaded.iloc[0]
            return CalendarYearView(year, "loaded", loaded[["date", "type", "name"]],
                                    f"{first['source']} ({first['loaded_by']}, {first['loaded_at']:%Y-%m-%d %H:%M} UTC)")
        ids = [scheme_id] if scheme_id else repo.scheme_ids(session)
        for sid in ids:
            own = repo.get_scheme(session, scheme_id=sid).scheme.calendar_years.get(year)
            if own is not None:
                rows = [(d, "holiday", "") for d in own.holidays] + [(d, "workday", "") for d in own.workdays]
                return CalendarYearView(year, "scheme", pd.DataFrame(sorted(rows), columns=["date", "type", "name"]), sid)
        if year in PACKAGE_YEARS:
            return CalendarYearView(year, "package", package_days(year))
        rows = [(d, "holiday", name) for d, name in estimated_holidays(year)]
        return CalendarYearView(year, "estimated", pd.DataFrame(rows, columns=["date", "type", "name"]))


@_refusals_audited("publications", only=PermissionDenied)
def publications(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> list[Published]:
    """The scheme's published results, newest first."""
    with transaction(db) as session:
        _as(session, actor, "own")
        # the id only: the dashboard asks on every rerun, and parsing a national scheme takes seconds
        sid = repo.resolve_scheme_id(session, scheme_id=scheme_id)
        return [_published(p) for p in cycle.publications(session, scheme_id=sid)]


@_refusals_audited("appeal_window", only=PermissionDenied)
def appeal_window_closed(db: str | None, *, actor: Actor, scheme_id: str | None = None,
                         today: dt.date | None = None) -> bool:
    """Whether appeals are refused now because the latest preliminary result's window is over —
    the same test `add_appeal` makes, on the scheme's calendar and timezone."""
    with transaction(db) as session:
        _as(session, actor, "own")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        pubs = cycle.publications(session, scheme_id=scheme.id)
        return bool(pubs) and pubs[0].stage == "preliminary" and _window_closed(scheme, pubs[0], today)


@dataclass(frozen=True)
class BodyResult:
    """What a body is shown of a published result: its score row, gaps and findings (with the score
    points each lost), its evidence records with their attachments."""

    publication: Published
    body: str
    scores: pd.DataFrame
    gaps: pd.DataFrame
    findings: pd.DataFrame
    evidence: pd.DataFrame


@_refusals_audited("result", only=PermissionDenied)
def body_result(db: str | None, *, actor: Actor, body: str | None = None,
                scheme_id: str | None = None) -> BodyResult:
    """The latest published result (final, else preliminary) for one body; a `body` account sees
    only its own."""
    from scoring.method.explain import explained

    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, body)
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        pubs = cycle.publications(session, scheme_id=scheme.id)
        if not pubs:
            raise GongkaiError("no result is published yet (gongkai publish --preliminary)")
        if body is None or body not in {b.id for b in scheme.bodies}:
            raise GongkaiError(f"no body {body!r} in {scheme.id}" if body else "give --body ID")
        card = cycle.published_card(pubs[0])
        ev = repo.evidence_with_provenance(session, scheme_id=scheme.id)
        ev = ev[ev["body"] == body][["id", "obligation", "period", "event", "step", "published_at", "url",
                                     "assessor", "note", "attachment", "captured_at", "rejected"]]
        return BodyResult(_published(pubs[0]), body, card.scores[card.scores["body"] == body],
                          card.gaps_of(body), explained(card, body), ev.reset_index(drop=True))


@_refusals_audited("appeal_add")
def add_appeal(db: str | None, *, actor: Actor, body: str, obligation: str, item: str, reason: str,
               published_at: dt.datetime | None = None, url: str = "", attachment: tuple[str, bytes] | None = None,
               scheme_id: str | None = None, today: dt.date | None = None) -> int:
    """A body appeals one finding of the preliminary result while its feedback window is open."""
    from scoring.intake.attachments import single

    with transaction(db) as session:
        who = _as(session, actor, "appeal")
        body = _own_body(session, who, body) or body
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        pubs = cycle.publications(session, scheme_id=scheme.id)
        if not pubs:
            raise GongkaiError("no preliminary result is published: nothing to appeal yet")
        pub = pubs[0]
        if pub.stage == "final":
            raise GongkaiError(f"the final result was published on {pub.published_at:%Y-%m-%d}; appeals are closed")
        if _window_closed(scheme, pub, today):
            raise GongkaiError(f"the feedback window of the preliminary result (publication {pub.id}) closed on "
                               f"{pub.closes_on}; appeals are no longer accepted")
        if not reason.strip():
            raise GongkaiError("an appeal needs a reason (--reason)")
        findings = cycle.published_card(pub).findings
        mine = findings[(findings["body"] == body) & (findings["obligation"] == obligation)]
        if mine.empty:
            raise GongkaiError(f"{body} has no finding on obligation {obligation!r} in the preliminary result")
        if item not in set(mine["item"]):
            raise GongkaiError(f"no item {item!r} of {body} · {obligation}; its items: " + ", ".join(mine["item"].astype(str)))
        card = cycle.published_card(pub)
        _appealable(card, body=body, obligation=obligation, item=item, published_at=published_at, url=url)
        sha, captured, attached = "", None, None
        if attachment is not None:
            from scoring.store.audit import now

            attached = single(attachment[0], attachment[1], now())
            sha, captured = attached.sha256, attached.captured_at
        _not_filed_yet(session, pub_id=pub.id, body=body, obligation=obligation, item=item,
                       published_at=published_at, url=url, sha=sha)
        if attached is not None:
            cycle.save_attachments(session, store=store_for(resolve_url(db)), files=[attached])
        appeal = cycle.add_appeal(session, publication_id=pub.id, body=body, obligation=obligation, item=item,
                                  reason=reason.strip(), published_at=published_at, url=url, attachment=sha,
                                  captured_at=captured, filed_by=who.name)
        audit(session, who=who.name, action="appeal_add", scheme_id=scheme.id, sha256=sha,
              detail=f"appeal {appeal.id}: {body} · {obligation} · {item}: {reason.strip()}")
        assert appeal.id is not None
        return appeal.id


def _appealable(card: Scorecard, *, body: str, obligation: str, item: str, published_at: dt.datetime | None,
                url: str) -> None:
    """Refuse, at filing, an appeal that cannot change a score: of a finding that lost nothing, or
    claiming a publication date no record could be (checked as an imported row would be, named by the
    option), one after the assessment date, or one no earlier than the late publication it disputes."""
    from scoring.method.explain import explained

    found = explained(card, body)
    row = found[(found["obligation"] == obligation) & (found["item"] == item)].iloc[0]
    if row["lost"] <= 1e-9:
        raise GongkaiError(f"{body} lost no points on {obligation} · {item} ({row['outcome']}): "
                           "an appeal cannot change its score")
    if published_at is None or row["kind"] in ("rating", "share"):
        return
    _appeal_evidence(card.scheme, _appeal_row(card, body=body, obligation=obligation, item=item,
                                              published_at=published_at, url=url, note="", assessor="申訴 appeal",
                                              event_at=_event_at(card.evidence, body, item)), "the appeal")
    if published_at.date() > card.as_of:
        raise GongkaiError(f"--published-at {published_at:%Y-%m-%d %H:%M}: after the assessment date {card.as_of}, "
                           "a publication still counts as missing, so the appeal cannot change the score")
    if row["outcome"] == "late" and pd.notna(row["published_at"]) and published_at >= row["published_at"]:
        raise GongkaiError(f"--published-at {published_at:%Y-%m-%d %H:%M}: no earlier than the publication already "
                           f"found ({row['published_at']:%Y-%m-%d %H:%M}, late): the appeal cannot change the score")


def _not_filed_yet(session: Session, *, pub_id: int | None, body: str, obligation: str, item: str,
                   published_at: dt.datetime | None, url: str, sha: str) -> None:
    """Refuse a second appeal making the same claim (finding, date, url, file) as an earlier one."""
    from scoring.store.models import Appeal

    a = Appeal
    same = session.exec(select(a).where(a.publication_id == pub_id, a.body == body, a.obligation == obligation,
                                        a.item == item, a.url == url, a.attachment == sha)).all()
    for earlier in same:
        if earlier.published_at == published_at:
            raise GongkaiError(f"appeal {earlier.id} ({earlier.status}) already makes this claim on {body} · "
                               f"{obligation} · {item}: an identical appeal cannot change the decision")


@_refusals_audited("appeals", only=PermissionDenied)
def appeals(db: str | None, *, actor: Actor, open_only: bool = False, scheme_id: str | None = None) -> pd.DataFrame:
    """Appeals, oldest first; a `body` account sees only its own body's."""
    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, None)
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        return cycle.appeals(session, scheme_id=scheme.id, body=body, open_only=open_only)


@dataclass(frozen=True)
class Decision:
    """A decided appeal: the evidence batch its file became (if any) and the body's points on the
    appealed obligation on the current evidence at the preliminary result's date, before and after."""

    appeal_id: int
    status: str
    batch: int | None
    body: str
    obligation: str
    points: float
    before: float
    after: float

    @property
    def summary(self) -> str:
        """`appeal 1 accepted; its file is evidence batch 2; qingdao · 6.7 now earns 3 of 3 points (was 0)`."""
        text = f"appeal {self.appeal_id} {self.status}"
        if self.batch:
            text += f"; its file is evidence batch {self.batch}"
        where = f"{self.body} · {self.obligation}"
        if abs(self.after - self.before) > 1e-9:
            return text + f"; {where} now earns {self.after:g} of {self.points:g} points (was {self.before:g})"
        why = "" if self.status != "accepted" or self.batch else (
            ": no evidence record was made (no file, or a rating or share: the firm re-rates)")
        return text + f"; the score is unchanged: {where} earns {self.after:g} of {self.points:g} points{why}"


def _earned(session: Session, scheme: Scheme, as_of: dt.date, body: str, obligation: str) -> tuple[float, float]:
    """(earned, points) of a body on an obligation from its current evidence, at `as_of` (a body's earned
    points depend on its own evidence alone)."""
    ev = repo.load_evidence(session, scheme_id=scheme.id)
    card = score(scheme, ev[(ev["body"] == body).to_numpy()].reset_index(drop=True), as_of)
    row = card.obligations[(card.obligations["body"] == body) & (card.obligations["obligation"] == obligation)]
    return (float(row["earned"].iloc[0]), float(row["points"].iloc[0])) if len(row) else (0.0, 0.0)


@_refusals_audited("appeal_decide")
def decide_appeal(db: str | None, *, actor: Actor, appeal_id: int, accept: bool, reason: str,
                  published_at: dt.datetime | None = None) -> Decision:
    """Accept or reject an appeal with a reason (復核). An accepted appeal with a file becomes an
    evidence record (its batch names the appeal). Says what the decision did to the body's points on
    the obligation — an acceptance that changes nothing says so. A rejected one stays on file with the reason."""
    from scoring.store.models import Appeal

    with transaction(db) as session:
        who = _as(session, actor, "decide")
        appeal = session.get(Appeal, appeal_id)
        if appeal is None:
            raise GongkaiError(f"no appeal {appeal_id}")
        if appeal.status != "open":
            raise GongkaiError(f"appeal {appeal_id} was already decided: {appeal.status} by {appeal.decided_by} "
                               f"on {appeal.decided_at:%Y-%m-%d}")
        if not reason.strip():
            raise GongkaiError("a decision needs a reason (--reason)")
        pub = cycle.publication(session, publication_id=appeal.publication_id)
        scheme = repo.get_scheme(session, scheme_id=pub.scheme_id)
        before, points = _earned(session, scheme, pub.as_of, appeal.body, appeal.obligation)
        batch = None
        if accept and appeal.attachment:
            batch = _appeal_record(session, appeal, published_at or appeal.published_at, who)
        after = _earned(session, scheme, pub.as_of, appeal.body, appeal.obligation)[0] if batch else before
        from scoring.store.audit import now

        appeal.status, appeal.decision = ("accepted" if accept else "rejected"), reason.strip()
        appeal.decided_by, appeal.decided_at, appeal.batch_id = who.name, now(), batch
        decision = Decision(appeal_id, appeal.status, batch, appeal.body, appeal.obligation, points, before, after)
        audit(session, who=who.name, action="appeal_" + appeal.status, scheme_id=pub.scheme_id, sha256=appeal.attachment,
              detail=f"appeal {appeal_id} ({appeal.body} · {appeal.obligation} · {appeal.item}): {reason.strip()}"
                     + (f"; its evidence is now a record (batch {batch})" if batch else "")
                     + f"; {appeal.obligation} earns {after:g} of {points:g} (was {before:g})")
        return decision


def _appeal_row(card: Scorecard, *, body: str, obligation: str, item: str, published_at: dt.datetime,
                url: str, note: str, assessor: str, event_at: str) -> dict[str, str]:
    """The evidence row an appeal's claim stands for (a dated item: periodic, response, deadline, count)."""
    from scoring.intake.tables import COLUMNS

    findings = card.findings
    kind = findings[(findings["body"] == body) & (findings["obligation"] == obligation)
                    & (findings["item"] == item)]["kind"].iloc[0]
    row = dict.fromkeys(COLUMNS, "") | {"body": body, "obligation": obligation,
                                        "published_at": published_at.isoformat(sep=" "), "url": url,
                                        "assessor": assessor, "note": note[:500]}
    if kind == "periodic":
        row["period"] = item
    elif kind == "response":
        row["event"], row["step"] = item.split("/", 1)
        row["event_at"] = event_at
    return row


def _event_at(evidence: pd.DataFrame, body: str, item: str) -> str:
    """The time of the event a response item (`E1/release`) belongs to, as its evidence gives it ("" if none)."""
    if "/" not in item:
        return ""
    same = evidence[(evidence["body"] == body) & (evidence["event"] == item.split("/", 1)[0])]
    return str(same["event_at"].iloc[0]) if len(same) else ""


APPEAL_OPTIONS = {"published_at": "--published-at", "url": "--url"}  # an appeal row's columns as the options that gave them


def _appeal_evidence(scheme: Scheme, row: dict[str, str], source: str) -> pd.DataFrame:
    """An appeal's row validated like any imported row; a problem is named by the option that gave the
    value (`--published-at 1800-01-01: …`), never as a row of a file the user never sent."""
    from scoring.intake.tables import COLUMNS

    table = pd.DataFrame([row]).astype(str)
    table.insert(0, "row", [2])
    table.attrs["columns"] = list(COLUMNS)
    try:
        return validate(table, scheme, source)
    except EvidenceError as e:
        raise GongkaiError(f"{source}: " + "; ".join(f"{APPEAL_OPTIONS.get(p.column, p.column)} {p.value}: {p.reason}"
                                                      for p in e.problems)) from None


def _appeal_record(session: Session, appeal, published_at: dt.datetime | None, who: Actor) -> int | None:
    """The evidence row an accepted appeal's file stands for, validated like any imported row."""
    pub = cycle.publication(session, publication_id=appeal.publication_id)
    scheme = repo.get_scheme(session, scheme_id=pub.scheme_id)
    card = cycle.published_card(pub)
    findings = card.findings
    kind = findings[(findings["body"] == appeal.body) & (findings["obligation"] == appeal.obligation)
                    & (findings["item"] == appeal.item)]["kind"].iloc[0]
    if kind in ("rating", "share"):
        return None  # a value is the firm's or the evaluator's to give: nothing to record from a file
    if published_at is None:
        raise GongkaiError(f"accepting appeal {appeal.id} makes its file an evidence record: give the date "
                           "the file shows it was published (--published-at)")
    event_at = _event_at(repo.load_evidence(session, scheme_id=scheme.id), appeal.body, appeal.item)
    row = _appeal_row(card, body=appeal.body, obligation=appeal.obligation, item=appeal.item,
                      published_at=published_at, url=appeal.url, note=appeal.reason,
                      assessor=f"申訴 appeal {appeal.id}", event_at=event_at)
    source = f"appeal {appeal.id}"
    ev = _appeal_evidence(scheme, row, source)
    ev = ev.assign(attachment=appeal.attachment, captured_at=pd.Timestamp(appeal.captured_at))
    result = repo.import_evidence(session, scheme=scheme, evidence=ev, file_name=source, sha256=appeal.attachment,
                                  firm="", who=who.name)
    return result.batch_id


def _final(session: Session, scheme_id: str | None):
    scheme = repo.get_scheme(session, scheme_id=scheme_id)
    final = next((p for p in cycle.publications(session, scheme_id=scheme.id) if p.stage == "final"), None)
    if final is None:
        raise GongkaiError(f"no final result of {scheme.id} yet (gongkai publish --final)")
    return scheme, final


@_refusals_audited("notice")
def write_notice(db: str | None, *, actor: Actor, out: Path, scheme_id: str | None = None,
                 lang: str = "zh-Hans") -> Path:
    """The 通報 of the final result (.docx or .pdf)."""
    from scoring.report.notice import build_notice
    from scoring.report.notice import write_notice as write

    with transaction(db) as session:
        who = _as(session, actor, "publish")
        scheme, final = _final(session, scheme_id)
        assert final.id is not None
        todo = cycle.problems(session, publication_id=final.id)
        card = cycle.published_card(final)
        yoy = _year_over_year(session, card)
        notice = build_notice(card, run_id=final.run_id, issued=_today(scheme, None),
                              due_on=todo["due_on"].min() if len(todo) else None, provisional=bool(final.provisional),
                              previous=yoy.previous if yoy else "", improved=yoy.improved if yoy else None,
                              recurring=yoy.recurring if yoy else None)
        path = write(notice, out, lang, head=_letterhead(session, scheme.id))
        audit(session, who=who.name, action="notice", scheme_id=scheme.id, detail=f"{out.name}: final result {final.id}")
        return path


@_refusals_audited("rectify_notices")
def write_rectifications(db: str | None, *, actor: Actor, out: Path, scheme_id: str | None = None,
                         lang: str = "zh-Hans", suffix: str = ".docx") -> list[Path]:
    """One 整改通知書 (.docx, or .pdf with `suffix`) per body with a 整改 problem of the final result."""
    if suffix not in (".docx", ".pdf"):
        raise GongkaiError(f"--format {suffix.lstrip('.')}: a 整改通知書 is docx or pdf")
    from scoring.report.notice import write_rectifications as write

    with transaction(db) as session:
        who = _as(session, actor, "publish")
        scheme, final = _final(session, scheme_id)
        card = cycle.published_card(final)
        assert final.id is not None
        todo = cycle.problems(session, publication_id=final.id)
        ev = repo.evidence_links(session, scheme_id=scheme.id)
        written = write(card, problems=todo, evidence=ev, issued=_today(scheme, None), out=out, suffix=suffix,
                        lang=lang, head=_letterhead(session, scheme.id))
        audit(session, who=who.name, action="rectify_notices", scheme_id=scheme.id,
              detail=f"{len(written)} 整改通知書 in {out}: final result {final.id}, {len(todo)} problems")
        return written


def _letterhead(session: Session, scheme_id: str):
    from scoring.report.gongwen import Letterhead

    row = documents.notice_settings(session, scheme_id=scheme_id)
    return Letterhead(row.office, row.number, row.cc, row.to) if row else Letterhead()


@_refusals_audited("notice_settings")
def notice_settings(db: str | None, *, actor: Actor, scheme_id: str | None = None, office: str | None = None,
                    number: str | None = None, to: str | None = None, cc: str | None = None) -> dict[str, str]:
    """The letterhead of the 通報 and 整改通知書 (GB/T 9704-2012): show it, or change the fields given
    (an evaluator or admin; audited). Unset, the documents carry marked placeholders."""
    from scoring.report.gongwen import Letterhead

    with transaction(db) as session:
        who = _as(session, actor, "read" if {office, number, to, cc} == {None} else "publish")
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
        if {office, number, to, cc} != {None}:
            blank = Letterhead()
            documents.set_notice_settings(session, scheme_id=scheme.id, who=who.name, office=office, number=number,
                                          to=to, cc=cc, defaults={"office": blank.office, "number": blank.number,
                                                                  "to": blank.to, "cc": blank.cc})
        row = documents.notice_settings(session, scheme_id=scheme.id)
        shown = {"scheme": scheme.id, "office": (row or Letterhead()).office, "number": (row or Letterhead()).number,
                 "to": (row or Letterhead()).to, "cc": (row or Letterhead()).cc}
        return shown | ({"set_by": row.set_by, "set_at": f"{row.set_at:%Y-%m-%d %H:%M}"} if row else {"set_by": "（未设置）"})


@_refusals_audited("problems", only=PermissionDenied)
def problems(db: str | None, *, actor: Actor, open_only: bool = False, body: str | None = None,
             scheme_id: str | None = None) -> pd.DataFrame:
    """The 整改 problems of the final result; a `body` account sees only its own."""
    with transaction(db) as session:
        who = _as(session, actor, "own")
        body = _own_body(session, who, body)
        _, final = _final(session, scheme_id)
        assert final.id is not None
        frame = cycle.problems(session, publication_id=final.id, body=body)
        return frame[frame["status"] == "open"] if open_only else frame


@_refusals_audited("rectify")
def set_problem(db: str | None, *, actor: Actor, problem_id: int, status: str, note: str = "",
                attachment: tuple[str, bytes] | None = None) -> None:
    """Move a 整改 problem: a body marks its own `rectified` (with a note or a file as evidence); an
    evaluator marks it `verified` (after rectified) or back to `open`. Only an evaluator or admin moves
    a problem out of `verified`. Notes are a history: each is added as a line `date user → status:
    note`, never overwriting an earlier one (the audit trail keeps every change too). The frozen final
    run is untouched."""
    from scoring.intake.attachments import single
    from scoring.store.audit import now
    from scoring.store.models import Problem

    if status not in cycle.STATUSES:
        raise GongkaiError(f"status {status!r} is not one of: {', '.join(cycle.STATUSES)}")
    with transaction(db) as session:
        who = _as(session, actor, "track")
        problem = session.get(Problem, problem_id)
        if problem is None or (who.role == "body" and problem.body != _own_body(session, who, None)):
            raise GongkaiError(f"no 整改 problem {problem_id}" + (" of your body" if who.role == "body" else ""))
        if who.role == "body" and status != "rectified":
            raise PermissionDenied(f"user {who.name} (body) marks its problems rectified; an evaluator verifies or reopens")
        if problem.status == "verified" and who.role is not None and who.role not in ("admin", "evaluator"):
            raise PermissionDenied(f"problem {problem_id} was verified by {problem.updated_by}: only an evaluator or "
                                   f"admin moves it out of verified (user {who.name} is {who.role})")
        if status == "rectified" and not (note.strip() or attachment):
            raise GongkaiError("rectified needs its evidence: a note (--note) or a file (--attach)")
        if status == "verified" and problem.status != "rectified":
            raise GongkaiError(f"problem {problem_id} is {problem.status}: only a rectified problem can be verified")
        if attachment is not None:
            attached = single(attachment[0], attachment[1], now())
            cycle.save_attachments(session, store=store_for(resolve_url(db)), files=[attached])
            problem.attachment = attached.sha256
        old = problem.status
        problem.status, problem.updated_by, problem.updated_at = status, who.name, now()
        if note.strip():  # appended: the body's and the evaluator's notes all stay, each with its date and author
            entry = f"{problem.updated_at:%Y-%m-%d} {who.name} → {status}: {note.strip()}"
            problem.note = f"{problem.note}\n{entry}" if problem.note else entry
        pub = cycle.publication(session, publication_id=problem.publication_id)
        audit(session, who=who.name, action="rectify_" + status, scheme_id=pub.scheme_id, sha256=problem.attachment,
              detail=f"problem {problem_id} ({problem.body} · {problem.obligation}): {old} → {status}"
                     + (f": {note.strip()}" if note.strip() else ""))


def problems_by_city(db: str | None, *, actor: Actor, scheme_id: str | None = None) -> pd.DataFrame:
    """Per city (its own problems and its counties'), and per department: open, rectified, verified."""
    frame = problems(db, actor=actor, scheme_id=scheme_id)
    with transaction(db) as session:
        scheme = repo.get_scheme(session, scheme_id=scheme_id)
    bodies = {b.id: b for b in scheme.bodies}
    names = {b.id: b.name for b in scheme.bodies}
    unit = frame["body"].map(lambda b: bodies[b].parent if bodies[b].kind == "county" and bodies[b].parent else b)
    counts = pd.crosstab(unit.map(names), frame["status"]).reindex(columns=list(cycle.STATUSES), fill_value=0)
    counts = counts.rename_axis(index="unit", columns=None).reset_index()
    return counts.sort_values(["open", "unit"], ascending=[False, True], ignore_index=True)


def body_files(db: str | None, *, actor: Actor, body: str, scheme_id: str | None = None) -> pd.DataFrame:
    """A body's evidence records with a preserved file (for showing each finding's files), for readers."""
    with transaction(db) as session:
        _as(session, actor, "read")
        # the id only (the gaps page asks on every rerun): no need to parse the scheme
        return cycle.body_files(session, scheme_id=repo.resolve_scheme_id(session, scheme_id=scheme_id), body=body)


@_refusals_audited("attachment", only=PermissionDenied)
def attachment(db: str | None, *, actor: Actor, sha256: str) -> tuple[str, str, bytes]:
    """(file name, the media type to serve it as, bytes) of a preserved file the actor may see:
    readers any; a body the files of its own evidence, appeals and problems; a firm those of the
    evidence it may browse. Saved pages and archives are served as octet-stream downloads."""
    from scoring.intake.attachments import media_type
    from scoring.store.models import Appeal, Problem

    with transaction(db) as session:
        who = _as(session, actor, _signed_in(actor))
        record = cycle.attachment_record(session, sha256=sha256)
        allowed = record is not None and who.may("read")
        if record is not None and not allowed:
            refs = cycle.attachment_refs(session, sha256=sha256)
            if who.role == "body":
                own = _own_body(session, who, None)
                bodies = [a.body for a in session.exec(select(Appeal).where(Appeal.attachment == sha256))]
                bodies += [p.body for p in session.exec(select(Problem).where(Problem.attachment == sha256))]
                allowed = any(b == own for _, b, _ in refs) or own in bodies
            else:
                for scheme_id in {s for s, _, _ in refs}:
                    frame = _visible(session, who, repo.evidence_with_provenance(session, scheme_id=scheme_id),
                                     repo.get_scheme(session, scheme_id=scheme_id))
                    allowed = allowed or bool((frame["attachment"] == sha256).any())
        if record is None or not allowed:  # the same answer either way: a file's existence is not told
            raise PermissionDenied(f"no attachment {sha256[:12]}…")
        return record.name, media_type(record.name), store_for(resolve_url(db)).get(sha256)
