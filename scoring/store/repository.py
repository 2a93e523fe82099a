"""Storing schemes, evidence (with history) and scoring runs. Functions are keyword-only and take an
explicit session; only this module and models/db touch SQL."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from scoring import ENGINE_VERSION
from scoring.errors import GongkaiError
from scoring.intake.evidence import EVIDENCE_COLUMNS, KEY, empty_evidence, item_groups
from scoring.intake.parts import Parted
from scoring.intake.schemes import parse_scheme_cached
from scoring.method.compiled import compiled, with_calendar
from scoring.method.engine import Scorecard, score
from scoring.method.scheme import Scheme
from scoring.store import calendar, kept
from scoring.store.audit import audit, now
from scoring.store.models import (
    AuditEntry,
    BodyRecord,
    Evidence,
    EvidenceHistory,
    ImportBatch,
    ObligationRecord,
    Publication,
    SchemeRecord,
    ScoringRun,
)

VALUES = ["event_at", "published_at", "has_time", "value", "url", "note"]
ATTACHED = ["attachment", "captured_at"]  # the preserved file: part of the record and its history, not scored
CHUNK = 50_000
ITEMS = "gongkai_import_items"  # a temporary table: the (body, obligation) pairs of the part being imported
WITHDRAWN = "withdrawn:"  # the `rejected` reason of a sighting a later file of its firm no longer lists


@dataclass
class EvidenceSummary:
    """What the scores rest on: record count, firms, import batches and their dates."""

    records: int
    firms: list[str]
    batches: int
    first_import: dt.datetime | None = None
    last_import: dt.datetime | None = None
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)  # url, note and preserved file of every record
    files: pd.DataFrame = field(default_factory=pd.DataFrame)     # the preserved files' names and sizes (attachment, file, size)
    # the stored records' state these were read in (None: not known): the scored records' state key
    # and a hash of every record kept but not scored or with a preserved file — what a report's tables
    # quoting them are kept by (`records_state`)
    state: str | None = None


def save_scheme(session: Session, *, scheme: Scheme, who: str) -> bool:
    """Store or update a scheme (snapshot, hash, bodies, obligations). True if anything changed."""
    old = session.get(SchemeRecord, scheme.id)
    if old is not None and old.sha256 == scheme.sha256:
        return False
    previous = scheme.lineage.previous if scheme.lineage is not None else None
    if old is None:
        session.add(SchemeRecord(id=scheme.id, title=scheme.scheme.title, sha256=scheme.sha256,
                                 text=scheme.text, loaded_at=now(), previous=previous))
    else:
        old.title, old.sha256, old.text, old.loaded_at = scheme.scheme.title, scheme.sha256, scheme.text, now()
        old.previous = previous
    session.flush()
    session.execute(delete(BodyRecord).where(BodyRecord.scheme_id == scheme.id))  # type: ignore[arg-type]
    session.execute(delete(ObligationRecord).where(ObligationRecord.scheme_id == scheme.id))  # type: ignore[arg-type]
    session.add_all(BodyRecord(scheme_id=scheme.id, id=b.id, name=b.name, kind=b.kind, parent=b.parent)
                    for b in scheme.bodies)
    session.add_all(ObligationRecord(scheme_id=scheme.id, id=o.id, title=o.title, points=o.points)
                    for o in scheme.obligations)
    audit(session, who=who, action="scheme_load" if old is None else "scheme_reload", scheme_id=scheme.id,
          detail=f"{len(scheme.obligations)} obligations, {len(scheme.bodies)} bodies", sha256=scheme.sha256)
    return True


def resolve_scheme_id(session: Session, *, scheme_id: str | None = None) -> str:
    """The id of the stored scheme `scheme_id`; left out, the only one stored — or the newest of the
    one lineage stored (the scheme no other stored scheme names as its `lineage.previous`)."""
    sc = SchemeRecord.__table__.c  # type: ignore[attr-defined]
    stored = dict(session.execute(select(sc.id, sc.previous)).all())
    ids = list(stored)
    if scheme_id is None:
        heads = sorted(set(ids) - set(stored.values()))  # the newest of each lineage
        if len(heads) != 1:
            raise GongkaiError("the database holds no scheme; run `gongkai criteria load FILE` or `gongkai demo`"
                               if not ids else f"the database holds several schemes; give --scheme (one of: {', '.join(sorted(ids))})")
        return heads[0]
    if scheme_id not in ids:
        raise GongkaiError(f"no scheme {scheme_id!r} in the database (stored: {', '.join(ids) or 'none'})")
    return scheme_id


def _is_stored(session: Session, scheme: Scheme) -> bool:
    """Whether `scheme` is the stored scheme of its id, as it is now."""
    sc = SchemeRecord.__table__.c  # type: ignore[attr-defined]
    return session.execute(select(sc.sha256).where(sc.id == scheme.id)).scalar_one_or_none() == scheme.sha256


def get_scheme(session: Session, *, scheme_id: str | None = None) -> Scheme:
    """The stored scheme `scheme_id`, or the only one stored when it is left out."""
    rec = session.get(SchemeRecord, resolve_scheme_id(session, scheme_id=scheme_id))
    assert rec is not None
    return on_loaded_calendar(session, parse_scheme_cached(rec.text, f"stored scheme {rec.id}"))


def on_loaded_calendar(session: Session, scheme: Scheme) -> Scheme:
    """The scheme judged on the working-day calendar as this database has it: the years an office
    loaded (`gongkai calendar load`) over the scheme's own and the package's."""
    years, digest = calendar.loaded(session)
    return with_calendar(scheme, years, digest)


def _stored(session: Session, scheme_id: str, *, of_items: bool = False) -> pd.DataFrame:
    """Stored evidence of a scheme, read as raw driver values (no per-row ORM work) into columns;
    `of_items`: only of the (body, obligation) pairs in the temporary table ITEMS (`_stored_of`)."""
    return _typed(_raw(session, "evidence", ["id", "batch_id", *KEY, *VALUES, *ATTACHED, "rejected", "pending"],
                       scheme_id=scheme_id,
                       joined=f" JOIN {ITEMS} i ON i.body = t.body AND i.obligation = t.obligation" if of_items else ""))


def _raw(session: Session, table: str, cols: list[str], *, scheme_id: str, joined: str = "",
         where: str = "") -> pd.DataFrame:
    """A table's rows of one scheme, these columns, in id order, read through the DB-API cursor
    itself: a million rows skip SQLAlchemy's per-row Row objects (and pandas' look at each).
    `joined`: a JOIN that keeps only some rows (the table is `t`); `where`: more conditions (` AND …`)."""
    rows = _raw_rows(session, table, cols, scheme_id=scheme_id, joined=joined, where=where)
    return pd.DataFrame(dict(zip(cols, (list(c) for c in zip(*rows, strict=True)), strict=True)) if rows
                        else {c: [] for c in cols})


def _raw_rows(session: Session, table: str, cols: list[str], *, scheme_id: str, joined: str = "",
              where: str = "") -> list[tuple]:
    """`_raw`'s rows as the driver gives them (tuples), for a reader that wants no frame."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.cursor()
    try:
        cursor.execute(f"SELECT {', '.join('t.' + c for c in cols)} FROM {table} t{joined} "
                       f"WHERE t.scheme_id = {mark}{where} ORDER BY t.id", (scheme_id,))
        return list(cursor.fetchall())
    finally:
        cursor.close()


_STR = pd.Series([], dtype=str).dtype


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored columns in the dtypes the rest of this module works on, from driver values (or from the
    values an import stored: the same dtypes, value for value). A column already in its dtype (as an
    import's own values are) is left as it is, never copied through Python objects."""
    def convert(c: str, dtype, how) -> None:
        if c in frame and not (frame[c].dtype == dtype and not (dtype == _STR and frame[c].hasnans)):
            frame[c] = how(frame[c])
    for c in ("id", "batch_id"):
        convert(c, np.dtype("int64"), lambda col: col.astype("int64"))
    for c in ("event_at", "published_at", "captured_at"):  # SQLite gives ISO text, PostgreSQL datetimes
        convert(c, np.dtype("datetime64[ns]"),
                lambda col: pd.to_datetime(col, format="ISO8601").astype("datetime64[ns]"))
    convert("value", np.dtype(float), lambda col: pd.to_numeric(col).astype(float))
    for c in ("has_time", "pending"):
        convert(c, np.dtype(bool), lambda col: col.astype(bool))
    for c in KEY + ["url", "note", "rejected", "attachment"]:  # a missing text is None, as the driver gives it
        convert(c, _STR, lambda col: col.astype(object).where(col.notna(), None).astype(str))
    return frame


def load_evidence(session: Session, *, scheme_id: str) -> pd.DataFrame:
    """Stored evidence of a scheme as the engine's evidence frame (`row` is the record id; the key
    columns are categoricals, which the engine codes without touching every string)."""
    return evidence_state(session, scheme_id=scheme_id)[0]


def _read_evidence(session: Session, scheme_id: str) -> pd.DataFrame:
    """The scored evidence read from the database itself (every row through the driver)."""
    return _scored(_stored(session, scheme_id))


def _scored(frame: pd.DataFrame) -> pd.DataFrame:
    """The records scored, of stored ones (`_stored`)."""
    # rejected by an evaluator, or re-sent after a rejection and not yet accepted: kept, shown, not scored
    scored = (frame["rejected"] == "").to_numpy() & ~frame["pending"].to_numpy()
    if not scored.all():
        frame = frame[scored]
    if frame.empty:
        return empty_evidence()
    frame = frame.rename(columns={"id": "row"})[EVIDENCE_COLUMNS].reset_index(drop=True)
    return frame.astype({c: "category" for c in ("body", "obligation", "period", "event", "step", "assessor", "record")})


SNAPSHOTS = "GONGKAI_SNAPSHOTS"  # where snapshots of a non-SQLite database go ("off": none at all)


def _snapshot_dir(session: Session) -> Path | None:
    """Where evidence snapshots of this database live: a folder beside an SQLite file, else one per
    database URL under GONGKAI_SNAPSHOTS (default: the user's cache folder); None for an in-memory
    database or when GONGKAI_SNAPSHOTS is "off"."""
    setting = os.environ.get(SNAPSHOTS, "")
    if setting == "off":
        return None
    url = session.get_bind().engine.url
    if url.get_backend_name() == "sqlite":
        name = (url.database or "").removeprefix("file:")
        return None if name in ("", ":memory:") else Path(name).with_name(Path(name).name + ".snapshots")
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    root = Path(setting) if setting else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gongkai"
    return root / "snapshots" / key


def _state_key(session: Session, scheme_id: str) -> str | None:
    """The scheme's evidence state: its latest audited change (id and time) and the scheme's hash.
    Every write to stored evidence is audited in its own transaction, so a new state is a new key."""
    a, sc = AuditEntry.__table__.c, SchemeRecord.__table__.c  # type: ignore[attr-defined]
    latest = session.execute(select(a.id, a.at).where(a.scheme_id == scheme_id, a.action.in_(CHANGES_SCORES))
                             .order_by(a.id.desc()).limit(1)).first()
    sha = session.execute(select(sc.sha256).where(sc.id == scheme_id)).scalar_one_or_none()
    if latest is None or sha is None:
        return None
    state = f"{scheme_id}|{sha}|{latest.id}|{latest.at.isoformat()}|{ENGINE_VERSION}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def evidence_state(session: Session, *, scheme_id: str) -> tuple[pd.DataFrame, str]:
    """(scored evidence, its digest) of the scheme's current evidence state. A state is read from the
    database once and kept as a Parquet snapshot with its digest; later reads of the same state (other
    commands, other processes) read the snapshot, columnar, and never re-hash the rows. Any change to
    stored evidence is audited, which moves the state key: a stale snapshot is never read."""
    key = _state_key(session, scheme_id)
    held = session.info.setdefault("gongkai_evidence_state", {})  # a state read once a transaction (a report
    if key is not None and (scheme_id, key) in held:             # scores it, then summarises it)
        return held[scheme_id, key]
    frame, digest = _evidence_state(session, scheme_id, key)
    if key is not None:
        held.clear()
        held[scheme_id, key] = frame, digest
    return frame, digest


def _evidence_state(session: Session, scheme_id: str, key: str | None) -> tuple[pd.DataFrame, str]:
    folder = _snapshot_dir(session)
    name = None
    if folder is not None and key is not None:
        name = folder / f"{hashlib.sha256(scheme_id.encode()).hexdigest()[:12]}-{key}"
        try:
            digest = name.with_suffix(".digest").read_text()
            frame = pd.read_parquet(name.with_suffix(".parquet"))
            if len(digest) == 64:
                return frame, digest
        except (OSError, ValueError):
            pass  # no snapshot of this state (or an unreadable one): read the database
    frame = _read_evidence(session, scheme_id)
    digest = evidence_digest(frame)
    # written only if no other writer's commit slipped in while reading (PostgreSQL reads committed)
    if name is not None and len(frame) and _state_key(session, scheme_id) == key:
        _write_snapshot(name, frame, digest)
    return frame, digest


def _changes(session: Session, scheme_id: str) -> int:
    """How many audited changes the scheme's evidence has had (as this transaction sees them)."""
    a = AuditEntry.__table__.c  # type: ignore[attr-defined]
    return int(session.execute(select(func.count()).select_from(AuditEntry.__table__).where(  # type: ignore[attr-defined]
        a.scheme_id == scheme_id, a.action.in_(CHANGES_SCORES))).scalar_one())


def _snapshot(session: Session, scheme_id: str, folder: Path, frame: pd.DataFrame) -> None:
    """Keep `frame` as the snapshot of the scheme's current state (in this transaction)."""
    key = _state_key(session, scheme_id)
    if key is not None and len(frame):
        _write_snapshot(folder / f"{hashlib.sha256(scheme_id.encode()).hexdigest()[:12]}-{key}", frame,
                        evidence_digest(frame))


def _write_snapshot(name: Path, frame: pd.DataFrame, digest: str) -> None:
    """Write a snapshot atomically (Parquet first, digest last: the digest's presence means complete)
    and drop the scheme's older ones; a read-only or full disk only means no snapshot."""
    if not (kept.written(name.with_suffix(".parquet"), lambda tmp: frame.to_parquet(tmp, index=False))
            and kept.written(name.with_suffix(".digest"), lambda tmp: tmp.write_text(digest))):
        return
    prefix = name.name.split("-")[0] + "-"
    for old in name.parent.glob(prefix + "*"):
        if old.stem != name.name and not old.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                old.unlink(missing_ok=True)


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    batch_id: int | None
    total: int
    new: int
    replaced: int
    unchanged: int
    sightings: int = 0  # rows that were further sightings of an item already in the file
    withdrawn: int = 0  # stored sightings of the file's items that the file no longer lists
    pending: int = 0  # of the replaced: new values for rejected records, unscored until accepted


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a == b) | (a.isna() & b.isna())


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values for executemany (NaN/NaT → None)."""
    columns = {}
    for c in frame.columns:
        col = frame[c]
        if pd.api.types.is_datetime64_any_dtype(col):
            values = np.array([None if pd.isna(v) else v.to_pydatetime() for v in col], dtype=object)
        else:
            values = col.astype(object).to_numpy(copy=True)
            values[col.isna().to_numpy()] = None
        columns[c] = values
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


_SIGHTINGS = re.compile(r", (\d+) sightings of an item already in the file")
# what makes stored records differ from what re-importing a file would leave (a rejection does not:
# a re-sent identical value stays as it is, rejected or not)
_UNDONE_BY_REIMPORT = ("scheme_load", "scheme_reload", "import", "accept")


def repeat_of_latest(session: Session, *, scheme_id: str, sha256: str, who: str) -> ImportResult | None:
    """The result of importing again, unchanged, the file (sha256) of the scheme's latest batch —
    nothing to store — when nothing since could make that import differ: no later import, reload or
    acceptance, imported by the same account (`who`) and no account's role changed since. None when
    the file has to be compared with the stored records."""
    a, b = AuditEntry.__table__.c, ImportBatch.__table__.c  # type: ignore[attr-defined]
    last = session.execute(select(a.id, a.action, a.actor, a.sha256, a.detail)
                           .where(a.scheme_id == scheme_id, a.action.in_(_UNDONE_BY_REIMPORT))
                           .order_by(a.id.desc()).limit(1)).first()
    if last is None or last.action != "import" or last.sha256 != sha256 or last.actor != who:
        return None
    batch = session.execute(select(b.id, b.sha256, b.rows_total, b.rows_new, b.rows_replaced, b.rows_unchanged)
                            .where(b.scheme_id == scheme_id).order_by(b.id.desc()).limit(1)).first()
    sightings = _SIGHTINGS.search(last.detail)
    if batch is None or batch.sha256 != sha256 or f": batch {batch.id}, " not in last.detail or sightings is None:
        return None
    roles = session.execute(select(a.id).where(a.id > last.id, a.action == "user_role").limit(1)).first()
    if roles is not None:
        return None
    return ImportResult(None, batch.rows_total, 0, 0, batch.rows_new + batch.rows_replaced + batch.rows_unchanged,
                        int(sightings.group(1)))


def _column(col: pd.Series, *, sqlite: bool) -> list:
    """One column as plain Python values for the driver, converted once per distinct value (names,
    dates and labels repeat); missing values are None. Datetimes as SQLAlchemy writes them to SQLite
    (so ORM reads of these rows are unchanged), Python datetimes for PostgreSQL."""
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.int64 if sqlite else bool).tolist()  # Python ints / bools
    if pd.api.types.is_float_dtype(col):
        return [None if v != v else v for v in col.to_numpy(dtype=float).tolist()]
    codes, uniques = pd.factorize(col)
    if pd.api.types.is_datetime64_any_dtype(col):
        shown = [None if pd.isna(u) else (u.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else u.to_pydatetime())
                 for u in uniques]
    else:
        shown = [None if pd.isna(u) else str(u) for u in uniques]
    table = np.array([*shown, None], dtype=object)  # code -1 (missing) takes the last slot
    return table[codes].tolist()


def _csv_chunk(ids: np.ndarray, part: pd.DataFrame) -> bytes:
    """Rows for PostgreSQL's COPY … (FORMAT csv): the values `_column` gives the driver, written by
    pyarrow — text quoted (an empty text "" stays empty, a missing value is an unquoted empty field,
    NULL), numbers in their shortest exact form, times to the microsecond as Python's datetimes hold them."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    columns = {"id": pa.array(ids)}
    for c in part.columns:
        col = part[c]
        if pd.api.types.is_bool_dtype(col):
            columns[c] = pa.array(col.to_numpy(dtype=bool))
        elif pd.api.types.is_float_dtype(col):
            columns[c] = pa.array(col.to_numpy(dtype=float), from_pandas=True)  # NaN: NULL
        elif pd.api.types.is_datetime64_any_dtype(col):
            columns[c] = pa.array(col.to_numpy(dtype="datetime64[us]"), from_pandas=True)  # NaT: NULL
        else:
            columns[c] = pa.array(_column(col, sqlite=False), type=pa.string())
    out = pa.BufferOutputStream()
    pacsv.write_csv(pa.table(columns), out, pacsv.WriteOptions(include_header=False))
    return out.getvalue().to_pybytes()


def _new_ids(cursor, n: int, *, sqlite: bool) -> np.ndarray:
    """Ids for `n` new evidence records, in row order, as the database would give them (`_id_runs`)."""
    return _ids_at(_id_runs(cursor, n, sqlite=sqlite), np.arange(n, dtype="int64"))


def _id_runs(cursor, n: int, *, sqlite: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ids for `n` new evidence records as runs of consecutive ids: (the rank, from 0, where each run
    starts; its first id). SQLite: after the largest; PostgreSQL: from the id sequence (taken in one
    statement; only where the values it gave are not consecutive — other writers drawing from the
    sequence meanwhile — is more than one row read back, so a million ids never become a million
    Python rows)."""
    if sqlite:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM evidence")
        return np.zeros(1, dtype="int64"), np.array([int(cursor.fetchone()[0]) + 1], dtype="int64")
    # the sequence looked up once: named in the query, its lookup would run once per row (3 s a million)
    cursor.execute("SELECT pg_get_serial_sequence('evidence', 'id')::regclass::oid")
    sequence = cursor.fetchone()[0]
    cursor.execute("WITH s AS (SELECT i, nextval(%s::oid::regclass) AS v FROM generate_series(1, %s) AS g(i)), "
                   "r AS (SELECT i, v, v - i AS d, lag(v - i) OVER (ORDER BY i) AS p FROM s) "
                   "SELECT i, v FROM r WHERE p IS DISTINCT FROM d ORDER BY i", (sequence, n))
    runs = cursor.fetchall()  # where a run of consecutive values starts: (row number from 1, its id)
    return np.array([i - 1 for i, _ in runs], dtype="int64"), np.array([v for _, v in runs], dtype="int64")


def _ids_at(runs: tuple[np.ndarray, np.ndarray], ranks: np.ndarray) -> np.ndarray:
    """The ids (`_id_runs`) of the new records of these ranks."""
    starts, firsts = runs
    if not len(starts):
        return np.zeros(0, dtype="int64")
    run = np.searchsorted(starts, ranks, side="right") - 1
    return firsts[run] + (ranks - starts[run])


def _insert_new(session: Session, rows: pd.DataFrame, *, fixed: dict[str, object] | None = None,
                progress: Callable[[int], None] | None, ids: np.ndarray | None = None) -> np.ndarray:
    """Insert new records through the driver itself, in the session's transaction: PostgreSQL COPY
    straight into the table, SQLite the sqlite3 cursor's executemany on tuples (no per-row SQLAlchemy
    work); values are converted to driver values a chunk at a time (never the whole file's at once).
    Returns their ids, in row order: the ones the database would give them (`_new_ids`), taken
    explicitly so that the state after the import is known without reading it back. `fixed`: columns
    with one value for every row (scheme, batch), added a chunk at a time, not to the whole file; `ids`:
    theirs, taken before (`_id_runs`: a file imported a part at a time). Driver errors
    are raised as SQLAlchemy raises them (callers tell a busy database from a refusal)."""
    if rows.empty:
        return np.zeros(0, dtype="int64")
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    n = len(rows)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        if ids is None:
            ids = _new_ids(cursor, n, sqlite=sqlite)
    except driver_error as e:
        cursor.close()
        raise DBAPIError.instance("SELECT evidence ids", None, e, driver_error) from None
    fixed = fixed or {}
    cols = ["id", *rows.columns, *fixed]
    names = ", ".join(cols)

    def chunks():
        for start in range(0, n, CHUNK):
            part = rows.iloc[start:start + CHUNK].assign(**fixed)
            yield ids[start:start + CHUNK], part
            if progress:
                progress(len(part))
    try:
        if not sqlite:
            # COPY straight into the table (keys and references checked as by INSERT, all or nothing), each
            # chunk written as CSV by pyarrow, sent by a thread of psycopg's while the next chunk is made
            from psycopg.copy import QueuedLibpqWriter

            with cursor.copy(f"COPY evidence ({names}) FROM STDIN (FORMAT csv)",
                             writer=QueuedLibpqWriter(cursor)) as copy:  # type: ignore[arg-type]
                for at, part in chunks():
                    copy.write(_csv_chunk(at, part))
        else:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            sql = f"INSERT INTO evidence ({names}) VALUES ({', '.join([mark] * len(cols))})"
            for at, part in chunks():
                values = zip(at.tolist(), *(_column(part[c], sqlite=True) for c in cols[1:]), strict=True)
                cursor.executemany(sql, values)  # type: ignore[arg-type]
    except driver_error as e:
        raise DBAPIError.instance(f"INSERT INTO evidence ({names})", None, e, driver_error) from None
    finally:
        cursor.close()
    return ids


def import_evidence(session: Session, *, scheme: Scheme, evidence: pd.DataFrame, file_name: str,
                    sha256: str, who: str, firm: str = "", dry_run: bool = False,
                    progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import validated evidence in the caller's transaction (spec §5). The file's rows for an item
    (ITEM_KEY: body, obligation, period, event, step, assessor, shape) replace that assessor's stored
    rows for the item: a sighting with new values is replaced (old values kept in history), a new
    sighting inserted, a stored sighting the file no longer lists is withdrawn (kept and shown, no
    longer scored); identical records are left alone and items the file does not name untouched.
    Nothing changed, no batch. `evidence` may carry ATTACHED columns (sha256 and capture time of each
    row's file). A large file checked in parts is imported a part at a time: `import_parts`."""
    attrs = dict(evidence.attrs)  # rows read and sightings, from validation
    evidence = _with_attached(evidence)
    seen = _changes(session, scheme.id)
    everything = _stored(session, scheme.id)
    d = _diff(evidence, everything)
    result = ImportResult(None, int(attrs.get("rows", len(evidence))), len(d.new), len(d.changed), d.unchanged,
                          int(attrs.get("sightings", 0)), len(d.gone), int(d.waits.sum()))
    if dry_run or (d.new.empty and d.changed.empty and d.gone.empty):
        return result
    batch_id = _new_batch(session, scheme_id=scheme.id, file_name=file_name, sha256=sha256, firm=firm, who=who,
                          result=result)
    log = _Written(batch_id, _withdrawn_reason(file_name, batch_id))
    log.write(session, d)
    _audit_import(session, who=who, scheme_id=scheme.id, sha256=sha256, file_name=file_name, firm=firm,
                  result=result, log=log)
    rows = d.new[[*KEY, *VALUES, *ATTACHED]]
    ids = _insert_new(session, rows, fixed=dict(scheme_id=scheme.id, batch_id=batch_id, rejected="", pending=False),
                      progress=progress)
    folder = _snapshot_dir(session)
    # the state this import makes, from what it read and wrote, is kept as its snapshot — unless another
    # change was committed since it read the stored records (PostgreSQL reads what is committed)
    ours = 1 + (not d.changed.empty) + (not d.gone.empty)  # its "import" and "replace" entries
    if folder is not None and _changes(session, scheme.id) == seen + ours:
        _snapshot(session, scheme.id, folder,
                  _state_after(everything, d.changed, d.waits, d.gone, log.reason, rows, ids, batch_id))
    return ImportResult(batch_id, *dataclasses.astuple(result)[1:])


def import_parts(session: Session, *, scheme: Scheme, parted: Parted, file_name: str, sha256: str, who: str,
                 firm: str = "", dry_run: bool = False, progress: Callable[[int], None] | None = None) -> ImportResult:
    """`import_evidence` of a large file checked in parts (`scoring.intake.parts.Parted`), a part at a
    time in the caller's one transaction, so memory follows the part, not the file (nor the records
    stored). A part holds every row of its items, so each part is compared with the stored records of
    its own (body, obligation) pairs only (read through a temporary table and the evidence key's
    index) and its replacements and withdrawals written. New records are inserted in a second pass
    over the parts, with the ids reading the file whole would give them (in file order: a record's id
    follows from how many new rows come before it in the file, counted in the first pass: a byte per
    row of the file, then `_Ranks`' bit). The same records, history, batch and audit entries as
    `import_evidence`; no snapshot of the new state is written (the next `score` reads the database)."""
    is_new = np.zeros(parted.last_row + 1, dtype=bool)  # by file row: a new record
    counts = dict(changed=0, unchanged=0, gone=0, waits=0)
    log: _Written | None = None
    with _stored_of(session, scheme.id) as stored:
        for part in parted:
            part = _with_attached(part)
            d = _diff(part, stored(part))
            is_new[d.new["row"].to_numpy(dtype="int64")] = True
            for k, n in (("changed", len(d.changed)), ("unchanged", d.unchanged), ("gone", len(d.gone)),
                         ("waits", int(d.waits.sum()))):
                counts[k] += n
            if dry_run or (d.changed.empty and d.gone.empty):
                continue
            if log is None:  # the batch, with its counts when they are known (below)
                batch_id = _new_batch(session, scheme_id=scheme.id, file_name=file_name, sha256=sha256, firm=firm,
                                      who=who, result=ImportResult(None, 0, 0, 0, 0))
                log = _Written(batch_id, _withdrawn_reason(file_name, batch_id))
            log.write(session, d)
    ranked = _Ranks(is_new)
    del is_new
    new = ranked.total
    result = ImportResult(None, parted.rows, new, counts["changed"], counts["unchanged"], parted.sightings,
                          counts["gone"], counts["waits"])
    if dry_run or (new == 0 and log is None):
        return result
    if log is None:
        batch_id = _new_batch(session, scheme_id=scheme.id, file_name=file_name, sha256=sha256, firm=firm, who=who,
                              result=result)
        log = _Written(batch_id, _withdrawn_reason(file_name, batch_id))
    else:
        b = ImportBatch.__table__.c  # type: ignore[attr-defined]
        session.execute(update(ImportBatch.__table__).where(b.id == log.batch_id).values(  # type: ignore[attr-defined]
            rows_total=result.total, rows_new=result.new, rows_replaced=result.replaced,
            rows_unchanged=result.unchanged))
    _audit_import(session, who=who, scheme_id=scheme.id, sha256=sha256, file_name=file_name, firm=firm,
                  result=result, log=log)
    if new:
        conn = session.connection()
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            runs = _id_runs(cursor, new, sqlite=conn.dialect.name == "sqlite")
        except conn.dialect.loaded_dbapi.Error as e:
            raise DBAPIError.instance("SELECT evidence ids", None, e, conn.dialect.loaded_dbapi.Error) from None
        finally:
            cursor.close()
        fixed = dict(scheme_id=scheme.id, batch_id=log.batch_id, rejected="", pending=False)
        for part in parted:
            part = _with_attached(part).sort_values("row", kind="stable")
            mine, ranks = ranked.of(part["row"].to_numpy(dtype="int64"))
            _insert_new(session, part.loc[mine, [*KEY, *VALUES, *ATTACHED]], fixed=fixed, progress=progress,
                        ids=_ids_at(runs, ranks[mine]))
    return ImportResult(log.batch_id, *dataclasses.astuple(result)[1:])


class _Ranks:
    """Which rows of a file are new records, and each one's rank among them in file order, in a bit per
    row (and a count per 8 rows): 2 MB for the 12.5M rows of a 512 MB file."""

    _ONES = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)  # set bits of each byte value

    def __init__(self, is_new: np.ndarray) -> None:
        self.bits = np.packbits(is_new)  # row r is bit 7 - r % 8 of byte r // 8
        counts = self._ONES[self.bits]
        self.total = int(counts.sum())
        self.before = (np.cumsum(counts, dtype=np.int32) - counts).astype(np.int32)  # new rows in earlier bytes

    def of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(whether each row is new, its rank among the new rows from 0) of these file rows."""
        byte, bit = rows >> 3, rows & 7
        b = self.bits[byte].astype(np.int32)
        return ((b >> (7 - bit)) & 1) == 1, self.before[byte].astype(np.int64) + self._ONES[b >> (8 - bit)]


@contextmanager
def _stored_of(session: Session, scheme_id: str) -> Iterator[Callable[[pd.DataFrame], pd.DataFrame]]:
    """A reader of the stored records (`_stored`) of a part's (body, obligation) pairs, through the
    temporary table ITEMS (this connection's own; dropped after, or rolled back with the transaction)."""
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {ITEMS} (body TEXT NOT NULL, obligation TEXT NOT NULL)")

    def stored(part: pd.DataFrame) -> pd.DataFrame:
        conn.exec_driver_sql(f"DELETE FROM {ITEMS}")
        pairs = part[["body", "obligation"]].drop_duplicates()
        conn.exec_driver_sql(f"INSERT INTO {ITEMS} (body, obligation) VALUES ({mark}, {mark})",
                             [(str(b), str(o)) for b, o in zip(pairs["body"], pairs["obligation"], strict=True)])
        return _stored(session, scheme_id, of_items=True)
    yield stored
    # not on an error: the transaction is rolled back, the table with it (and PostgreSQL would refuse the
    # DROP in a failed transaction, hiding the error that failed it)
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {ITEMS}")


def _with_attached(evidence: pd.DataFrame) -> pd.DataFrame:
    """Evidence with its ATTACHED columns (none named: "" and no time)."""
    evidence = evidence.assign(**{c: evidence.get(c, default)
                                  for c, default in (("attachment", ""), ("captured_at", pd.NaT))})
    evidence["captured_at"] = evidence["captured_at"].astype("datetime64[ns]")
    return evidence


@dataclass
class _Diff:
    """What importing evidence would change of the stored records of its items."""

    new: pd.DataFrame  # the file's rows not stored (in the file's order)
    changed: pd.DataFrame  # stored records with new values: their id, the new values and the old (`*_old`)
    gone: pd.DataFrame  # stored sightings of the file's items that the file no longer lists
    waits: pd.Series  # of `changed`: new values for a rejected (or pending) record, unscored until accepted
    unchanged: int


def _diff(evidence: pd.DataFrame, stored: pd.DataFrame) -> _Diff:
    """Compare validated evidence with stored records (`_stored`: all of them, or at least all of the
    evidence's items)."""
    existing = stored.rename(columns={"batch_id": "batch_id_old", "rejected": "rejected_old"})
    existing = existing[item_groups(existing).isin(item_groups(evidence)).to_numpy()] if len(existing) else existing
    if existing.empty:  # nothing stored of the file's items: every record is new, nothing to compare
        new, changed, unchanged = evidence, existing.iloc[:0], 0
    else:
        merged = evidence.merge(existing, on=KEY, how="left", suffixes=("", "_old"))
        known = merged["id"].notna()
        same = ~merged["rejected_old"].fillna("").str.startswith(WITHDRAWN)
        for c in VALUES + ATTACHED:
            same &= _same(merged[c], merged[f"{c}_old"])
        new, changed, unchanged = merged[~known], merged[known & ~same], int((known & same).sum())
    if len(existing):
        listed = item_groups(existing, sighting=True).isin(item_groups(evidence, sighting=True)).to_numpy()
        gone = existing[~listed & (existing["rejected_old"] == "").to_numpy()]
    else:
        gone = existing
    # a new value for a rejected (or still pending) record does not undo the rejection: it waits for an
    # evaluator (a withdrawn sighting listed again is simply restored)
    rejected = changed["rejected_old"].fillna("")
    waits = ((rejected != "") & ~rejected.str.startswith(WITHDRAWN)) | changed["pending"].fillna(False).astype(bool)
    return _Diff(new, changed, gone, waits, unchanged)


def _withdrawn_reason(file_name: str, batch_id: int) -> str:
    return f"{WITHDRAWN} {file_name} (batch {batch_id}) restates this item without this sighting"


def _new_batch(session: Session, *, scheme_id: str, file_name: str, sha256: str, firm: str, who: str,
               result: ImportResult) -> int:
    batch = ImportBatch(scheme_id=scheme_id, file_name=file_name, sha256=sha256, firm=firm,
                        imported_at=now(), rows_total=result.total, rows_new=result.new,
                        rows_replaced=result.replaced, rows_unchanged=result.unchanged,
                        imported_by=who)
    session.add(batch)
    session.flush()
    assert batch.id is not None
    return batch.id


@dataclass
class _Written:
    """The replacements and withdrawals an import wrote (a part at a time): counts and the lowest ids."""

    batch_id: int
    reason: str  # a withdrawn sighting's `rejected`
    changed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict(changed=0, waiting=0, gone=0))

    def note(self, kind: str, ids: pd.Series) -> None:
        """Count records written; keep the 20 lowest ids (the audit names them, however the file was read)."""
        self.counts[kind] += len(ids)
        setattr(self, kind, sorted(getattr(self, kind) + ids.astype("int64").nsmallest(20).tolist())[:20])

    def write(self, session: Session, d: _Diff) -> None:
        """Replace the changed records (old values to history) and withdraw the sightings gone."""
        changed, waits = d.changed, d.waits
        if not changed.empty:
            old = changed[["id", "batch_id_old", *(f"{c}_old" for c in VALUES + ATTACHED), "rejected_old"]]
            old = old.rename(columns=lambda c: c.removesuffix("_old")).rename(columns={"id": "evidence_id"})
            old = old.assign(replaced_by=self.batch_id, evidence_id=old["evidence_id"].astype(int),
                             batch_id=old["batch_id"].astype(int))
            session.execute(insert(EvidenceHistory.__table__), _records(old))  # type: ignore[attr-defined]
            upd = changed[["id", *VALUES, *ATTACHED]].assign(batch_id=self.batch_id, id=changed["id"].astype(int),
                                                              rejected="", pending=waits.to_numpy())
            session.execute(update(Evidence), _records(upd))
            self.note("changed", changed["id"])
            self.note("waiting", changed.loc[waits, "id"])
        if not d.gone.empty:
            session.execute(update(Evidence), [{"id": int(i), "rejected": self.reason} for i in d.gone["id"]])
            self.note("gone", d.gone["id"])


def _ids(ids: list[int], n: int) -> str:
    return ", ".join(str(i) for i in ids) + (" …" if n > 20 else "")


def _audit_import(session: Session, *, who: str, scheme_id: str, sha256: str, file_name: str, firm: str,
                  result: ImportResult, log: _Written) -> None:
    """The audit entries of an import that changed something: the import, and what it replaced and withdrew."""
    batch = log.batch_id
    audit(session, who=who, action="import", scheme_id=scheme_id, sha256=sha256,
          detail=f"{file_name}: batch {batch}, {result.new} new, {result.replaced} replaced, "
                 f"{result.unchanged} unchanged, {result.sightings} sightings of an item already in the file, "
                 f"{result.withdrawn} withdrawn" + (f", firm {firm}" if firm else ""))
    n = log.counts
    if n["changed"]:
        if n["waiting"]:
            audit(session, who=who, action="resent", scheme_id=scheme_id, sha256=sha256,
                  detail=f"batch {batch}: new values for {n['waiting']} rejected records wait, unscored, "
                         f"for an evaluator to accept them: ids {_ids(log.waiting, n['waiting'])}")
        audit(session, who=who, action="replace", scheme_id=scheme_id, sha256=sha256,
              detail=f"batch {batch} replaced {n['changed']} records (old values in history): ids "
                     f"{_ids(log.changed, n['changed'])}")
    if n["gone"]:
        audit(session, who=who, action="replace", scheme_id=scheme_id, sha256=sha256,
              detail=f"batch {batch} withdrew {n['gone']} sightings its file no longer lists (kept, not scored): ids "
                     f"{_ids(log.gone, n['gone'])}")


_SNAPSHOT = ["id", *KEY, *VALUES, "rejected", "pending"]  # what `_scored` keeps of stored columns


def _state_after(everything: pd.DataFrame, changed: pd.DataFrame, waits: pd.Series, gone: pd.DataFrame,
                 reason: str, rows: pd.DataFrame, ids: np.ndarray, batch_id: int) -> pd.DataFrame:
    """The scored evidence after an import, from the records it read (`_stored`) and what it changed
    and inserted — what `_read_evidence` would read back. Only the columns scored are carried, and
    the inserted rows are not copied when nothing was stored before (a first import of 10M rows)."""
    new = rows[_SNAPSHOT[1:-2]].assign(rejected="", pending=False)
    new.insert(0, "id", ids)
    if not everything.empty:
        after = everything[_SNAPSHOT].set_index("id")
        at = changed["id"].astype("int64").to_numpy()
        for c in VALUES:
            after.loc[at, c] = changed[c].to_numpy()
        after.loc[at, ["rejected", "pending"]] = ["", False]
        after.loc[at[waits.to_numpy()], "pending"] = True
        after.loc[gone["id"].to_numpy(), "rejected"] = reason
        new = pd.concat([after.reset_index(), new], ignore_index=True)
    typed = _typed(new)
    del new
    if not typed["id"].is_monotonic_increasing:
        typed = typed.sort_values("id", kind="stable")
    return _scored(typed)


def evidence_record(session: Session, *, evidence_id: int) -> dict | None:
    """One stored evidence record (its current value) with who imported it, or None."""
    e, b = Evidence.__table__.c, ImportBatch.__table__.c  # type: ignore[attr-defined]
    row = session.execute(select(e.id, e.scheme_id, e.body, e.obligation, b.imported_by)
                          .join(ImportBatch.__table__, b.id == e.batch_id)  # type: ignore[attr-defined]
                          .where(e.id == evidence_id)).first()
    return None if row is None else dict(row._mapping)


def history(session: Session, *, evidence_id: int) -> pd.DataFrame:
    """Earlier values of one evidence record, oldest first."""
    stmt = select(EvidenceHistory).where(EvidenceHistory.evidence_id == evidence_id).order_by(EvidenceHistory.id)  # type: ignore[arg-type]
    return pd.DataFrame([h.model_dump() for h in session.exec(stmt).scalars()])  # type: ignore[call-overload]


def evidence_digest(evidence: pd.DataFrame) -> str:
    """A digest of the evidence scored, independent of row order and record ids: every row is hashed
    (pandas' vectorised hash), and the sorted row hashes are digested."""
    cols = [*KEY, *VALUES]
    # a key column as text: a categorical keeps its codes with its categories as text — hashed per
    # category, the same hashes as its values spelt out (never 10^7 strings materialised)
    frame = pd.DataFrame({c: _as_text(evidence[c]) if c in KEY else evidence[c] for c in cols})
    rows = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    return hashlib.sha256(rows.tobytes()).hexdigest()


def _as_text(col: pd.Series) -> pd.Series:
    """`col.astype(str)`, but a categorical stays one (its categories as text), where that is the same."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        categories = col.cat.categories.astype(str)
        if categories.is_unique:
            return pd.Series(pd.Categorical.from_codes(col.cat.codes.to_numpy(), categories=categories),
                             index=col.index)
    return col.astype(str)


def store_run(session: Session, *, card: Scorecard, evidence: pd.DataFrame, who: str,
              digest: str | None = None) -> int:
    """Record a scoring run: scheme hash, as-of date, evidence digest (`digest` when the caller has it),
    engine version, results."""
    run = ScoringRun(
        scheme_id=card.scheme.id, scheme_sha256=card.scheme.sha256, as_of=card.as_of,
        evidence_digest=digest or evidence_digest(evidence), evidence_rows=len(evidence),
        engine_version=ENGINE_VERSION, calendar_digest=compiled(card.scheme).calendar.digest, created_at=now(),
        scores_json=card.scores.drop(columns=["parent"]).to_json(orient="records", force_ascii=False),
        obligations_json=card.obligations.to_json(orient="records", force_ascii=False),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    audit(session, who=who, action="score", scheme_id=card.scheme.id, sha256=run.evidence_digest,
          detail=f"run {run.id}, as of {card.as_of}, {len(evidence)} evidence records")
    return run.id


def runs(session: Session, *, scheme_id: str | None = None) -> pd.DataFrame:
    """Stored runs, newest first."""
    t = ScoringRun.__table__.c  # type: ignore[attr-defined]
    pub = Publication.__table__.c  # type: ignore[attr-defined]
    stmt = select(t.id, t.scheme_id, t.as_of, t.created_at, t.evidence_rows, t.engine_version)
    if scheme_id:
        stmt = stmt.where(t.scheme_id == scheme_id)
    rows = session.execute(stmt.order_by(t.id.desc())).all()
    frame = pd.DataFrame(rows, columns=["run", "scheme", "as_of", "created_at", "evidence_rows", "engine"])
    # a published run says so: preliminary (初评), final (终评), or both when the final kept its run;
    # the others are working runs (—)
    stages: dict[int, list[str]] = {}
    for run_id, stage in session.execute(select(pub.run_id, pub.stage).order_by(pub.id)).all():
        stages.setdefault(run_id, []).append(stage)
    frame.insert(3, "stage", ["+".join(stages.get(r, ["—"])) for r in frame["run"]])
    return frame


def run_scores(session: Session, *, run_id: int) -> pd.DataFrame:
    run = session.get(ScoringRun, run_id)
    if run is None:
        raise GongkaiError(f"no scoring run {run_id}")
    return pd.DataFrame(json.loads(run.scores_json))


def verify_run(session: Session, *, run_id: int) -> list[str]:
    """Recompute a stored run. Returns [] when it reproduces exactly, else what changed since."""
    run = session.get(ScoringRun, run_id)
    if run is None:
        raise GongkaiError(f"no scoring run {run_id}")
    scheme = get_scheme(session, scheme_id=run.scheme_id)
    evidence = load_evidence(session, scheme_id=run.scheme_id)
    return reproduce(run, scheme, evidence,
                     calendar_moved=f"the working-day calendar changed since run {run_id} (gongkai calendar load)",
                     scheme_moved=f"the scheme {run.scheme_id} was reloaded with different content since run {run_id}",
                     evidence_moved=f"the evidence changed since run {run_id} ({run.evidence_rows} → {len(evidence)} records)",
                     scores_moved="recomputed scores differ although scheme and evidence are unchanged")


def reproduce(run: ScoringRun, scheme: Scheme, evidence: pd.DataFrame, *, scheme_moved: str, evidence_moved: str,
              scores_moved: str, calendar_moved: str) -> list[str]:
    """Recompute a stored run from a scheme (on its calendar) and evidence: [] when it reproduces
    exactly, else what differs (each in the caller's words): the scheme, the loaded calendar, the
    evidence, the engine, or the scores."""
    changes = []
    if scheme.sha256 != run.scheme_sha256:
        changes.append(scheme_moved)
    if compiled(scheme).calendar.digest != run.calendar_digest:
        changes.append(calendar_moved)
    if evidence_digest(evidence) != run.evidence_digest:
        changes.append(evidence_moved)
    if run.engine_version != ENGINE_VERSION:
        changes.append(f"the engine changed (run {run.engine_version}, now {ENGINE_VERSION})")
    if changes:
        return changes
    card = score(scheme, evidence, run.as_of)
    then = pd.DataFrame(json.loads(run.scores_json)).set_index("body")["score"]
    now = card.scores.set_index("body")["score"].reindex(then.index)
    if not np.allclose(then.to_numpy(dtype=float), now.to_numpy(dtype=float), equal_nan=True, atol=1e-9):
        changes.append(scores_moved)
    return changes


CHANGES_SCORES = ("scheme_load", "scheme_reload", "import", "replace", "reject", "accept")


def state_token(session: Session, *, scheme_id: str) -> tuple[str, int]:
    """(scheme sha256, latest audited change to its evidence or the calendar): moves whenever scores
    could change — a reload, an import, a replacement, a rejection, a calendar load — and not when a
    run is merely stored."""
    sha = session.execute(select(SchemeRecord.__table__.c.sha256).where(  # type: ignore[attr-defined]
        SchemeRecord.__table__.c.id == scheme_id)).scalar_one_or_none() or ""  # type: ignore[attr-defined]
    a = AuditEntry.__table__.c  # type: ignore[attr-defined]
    changed = (a.scheme_id == scheme_id) & a.action.in_(CHANGES_SCORES)
    latest = session.execute(select(func.max(a.id)).where(changed | (a.action == "calendar_load"))).scalar_one_or_none()
    return sha, int(latest or 0)


def has_firm(session: Session, *, scheme_id: str, firm: str) -> bool:
    """Whether any import batch of the scheme is from `firm`."""
    b = ImportBatch.__table__.c  # type: ignore[attr-defined]
    stmt = select(b.id).where(b.scheme_id == scheme_id, b.firm == firm).limit(1)
    return session.execute(stmt).first() is not None


def scheme_ids(session: Session) -> list[str]:
    return list(session.execute(select(SchemeRecord.__table__.c.id).order_by(  # type: ignore[attr-defined]
        SchemeRecord.__table__.c.id)).scalars())  # type: ignore[attr-defined]


def evidence_with_provenance(session: Session, *, scheme_id: str) -> pd.DataFrame:
    """Stored evidence with the file, firm and time of the import that brought its current value,
    and how many earlier values it has."""
    tables = (Evidence.__table__, ImportBatch.__table__, EvidenceHistory.__table__)  # type: ignore[attr-defined]
    (e, b, h), (batches, _) = (t.c for t in tables), tables[1:]
    replaced = select(h.evidence_id, func.count().label("versions")).group_by(h.evidence_id).subquery()
    stmt = (select(e.id, e.body, e.obligation, e.period, e.event, e.step, e.published_at, e.value, e.url,
                   e.assessor, e.note, b.file_name, b.firm, b.imported_at, replaced.c.versions, b.imported_by,
                   e.rejected, e.pending, e.attachment, e.captured_at)
            .join(batches, b.id == e.batch_id).outerjoin(replaced, replaced.c.evidence_id == e.id)
            .where(e.scheme_id == scheme_id).order_by(e.id))
    frame = pd.DataFrame(session.execute(stmt).all(), columns=[
        "id", "body", "obligation", "period", "event", "step", "published_at", "value", "url", "assessor",
        "note", "file_name", "firm", "imported_at", "earlier_values", "imported_by", "rejected", "pending",
        "attachment", "captured_at"])
    frame["earlier_values"] = frame["earlier_values"].fillna(0).astype(int)
    return frame


def evidence_links(session: Session, *, scheme_id: str) -> list[tuple[str, str, str, str]]:
    """The (body, obligation, url, attachment sha256) of each stored evidence record that has an
    address or a preserved file, in the order `evidence_with_provenance` gives them: what a 整改通知書
    quotes, read without the provenance (plain tuples: the rows are only grouped and quoted) and
    without the records it has nothing to quote from."""
    return _raw_rows(session, "evidence", ["body", "obligation", "url", "attachment"], scheme_id=scheme_id,
                     where=" AND (t.url != '' OR t.attachment != '')")


def run_for(session: Session, *, scheme: Scheme, as_of: dt.date, digest: str) -> int | None:
    """The id of a stored run of this exact state (scheme, evidence, as-of, engine), if any."""
    r = ScoringRun.__table__.c  # type: ignore[attr-defined]
    stmt = select(r.id).where(r.scheme_id == scheme.id, r.scheme_sha256 == scheme.sha256, r.as_of == as_of,
                              r.evidence_digest == digest, r.engine_version == ENGINE_VERSION,
                              r.calendar_digest == compiled(scheme).calendar.digest)
    return session.execute(stmt.order_by(r.id.desc())).scalars().first()


def derived_file(session: Session, *, run_id: int, name: str) -> Path | None:
    """Where a frame derived from a stored run alone is kept (`name` says what, with its parameters:
    the rank intervals of 1,000 seeded re-scorings …): beside the evidence snapshots, named by the
    run's whole identity — scheme and its sha256, as-of date, evidence digest, engine, calendar — so
    a database made again at the same path never reads another's. None without a snapshot folder
    (an in-memory database, GONGKAI_SNAPSHOTS=off) or for an unknown run."""
    folder = _snapshot_dir(session)
    r = ScoringRun.__table__.c  # type: ignore[attr-defined]
    run = session.execute(select(r.scheme_id, r.scheme_sha256, r.as_of, r.evidence_digest, r.engine_version,
                                 r.calendar_digest).where(r.id == run_id)).first()
    if folder is None or run is None:
        return None
    identity = "|".join([*(str(v) for v in run), name, f"derived v{DERIVED_VERSION}"])
    return folder / kept.FOLDER / f"{hashlib.sha256(identity.encode()).hexdigest()[:24]}.parquet"


# the shape of what `derived` keeps (its columns, their meaning): a change of it is a new version, so
# a file kept by an earlier gongkai is never read as a later one's
DERIVED_VERSION = 1


def derived(path: Path | None, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """The frame kept at `path` (`derived_file`), or `compute`d and kept there (`kept.put`: a
    read-only or full disk only means it is computed again next time)."""
    if path is not None:
        try:
            frame = pd.read_parquet(path)
            kept.used(path)
            return frame
        except (OSError, ValueError):
            pass  # not kept yet (or unreadable, or pruned): computed
    frame = compute()
    if path is not None:
        kept.put(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return frame


def evidence_summary(session: Session, *, scheme_id: str):
    """What a report says of its evidence: records, firms, import batches and dates, and the url,
    note and preserved file of every record (for the appendix). The scored records come from the
    state's snapshot (`evidence_state`, as the run was scored); only the records kept but not scored
    (rejected, or re-sent and pending) and those with a preserved file are read row by row, in one
    pass over the table."""
    b = ImportBatch.__table__.c  # type: ignore[attr-defined]
    batches = session.execute(select(b.firm, b.imported_at).where(b.scheme_id == scheme_id)).all()
    scored, _ = evidence_state(session, scheme_id=scheme_id)
    rest = _typed(_raw(session, "evidence", ["id", *_SUMMARY, "rejected", "pending", *ATTACHED], scheme_id=scheme_id,
                       where=" AND (t.rejected != '' OR t.pending OR t.attachment != '')"))
    kept = rest[(rest["rejected"] != "").to_numpy() | rest["pending"].to_numpy()]
    assessors = {*scored["assessor"].unique().tolist(), *kept["assessor"]}
    # a batch's firm is its file's assessors joined with 、 (or the firm named on import): one name each
    firms = sorted({name for f, _ in batches if f for name in f.split("、")} | assessors - {""})
    dates = [d for _, d in batches]
    key = _state_key(session, scheme_id)
    state = None if key is None else hashlib.sha256(
        key.encode() + pd.util.hash_pandas_object(rest, index=False).to_numpy().tobytes()).hexdigest()[:24]
    return EvidenceSummary(records=len(scored) + len(kept), firms=firms, batches=len(batches),
                           first_import=min(dates) if dates else None, last_import=max(dates) if dates else None,
                           evidence=_summary_records(scored, kept, rest[rest["attachment"] != ""]), state=state)


def records_state(summary: EvidenceSummary) -> str | None:
    """The state of the stored records a summary quotes, with its preserved files' names and sizes
    (`summary.files`): the same state, the same url, note and file of every record. None: not known."""
    if summary.state is None:
        return None
    files = summary.files.astype(str)   # in one order whatever order the database listed them in
    files = pd.util.hash_pandas_object(files.sort_values(list(files.columns)), index=False).to_numpy().tobytes()
    return hashlib.sha256(summary.state.encode() + files).hexdigest()[:24]


_SUMMARY = ["body", "obligation", "period", "event", "step", "published_at", "url", "note", "assessor"]
_CODED = ["body", "obligation", "period", "event", "step", "assessor"]   # categoricals, as the snapshot holds them


def _summary_records(scored: pd.DataFrame, kept: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """Every stored record (id order: the scored, and those `kept` but not scored) with its url, note
    and preserved file (attachment, captured_at, from `files`); names and labels are categoricals (a
    million records, a few thousand distinct values)."""
    ev = scored.rename(columns={"row": "id"})[["id", *_SUMMARY]].astype({c: "category" for c in _CODED})
    if len(kept):
        both = [ev, kept[["id", *_SUMMARY]].astype({c: "category" for c in _CODED})]
        ev = pd.DataFrame({c: union_categoricals([f[c] for f in both]) if c in _CODED
                           else pd.concat([f[c] for f in both], ignore_index=True) for c in ev.columns})
        ev = ev.sort_values("id", kind="stable", ignore_index=True)
    at = pd.Index(files["id"].to_numpy(np.int64)).get_indexer(ev["id"].to_numpy(np.int64))
    has = at >= 0
    attachment = np.full(len(ev), "", dtype=object)
    attachment[has] = files["attachment"].to_numpy(dtype=object)[at[has]]
    captured = np.full(len(ev), np.datetime64("NaT"), dtype="datetime64[ns]")
    captured[has] = files["captured_at"].to_numpy(dtype="datetime64[ns]")[at[has]]
    return ev.drop(columns="id").assign(attachment=attachment, captured_at=captured)


def score_and_record(session: Session, *, scheme_id: str | None, as_of: dt.date | None,
                     who: str, parsed: Scheme | None = None) -> tuple[Scorecard, int]:
    """Score a stored scheme on its stored evidence. The run is recorded (by `who`) unless a run of
    this exact state — scheme, evidence, as-of date, engine — is already stored; then that one is
    returned, so scoring unchanged evidence twice stores nothing new. `parsed`: the stored scheme as
    the caller already parsed it, used only if it is the stored one (same id and sha256)."""
    card, evidence, digest, run_id = _score_stored(session, scheme_id=scheme_id, as_of=as_of, parsed=parsed)
    return card, run_id if run_id is not None else store_run(session, card=card, evidence=evidence, who=who,
                                                             digest=digest)


def score_unrecorded(session: Session, *, scheme_id: str | None, as_of: dt.date | None,
                     parsed: Scheme | None = None) -> tuple[Scorecard, int | None]:
    """`score_and_record` for a reader who may not store runs: the same scorecard, and the id of the
    identical stored run if there is one (None otherwise); nothing is written."""
    card, _, _, run_id = _score_stored(session, scheme_id=scheme_id, as_of=as_of, parsed=parsed)
    return card, run_id


def _score_stored(session: Session, *, scheme_id: str | None, as_of: dt.date | None,
                  parsed: Scheme | None) -> tuple[Scorecard, pd.DataFrame, str, int | None]:
    scheme = parsed if parsed is not None and _is_stored(session, parsed) else get_scheme(session, scheme_id=scheme_id)
    evidence, digest = evidence_state(session, scheme_id=scheme.id)
    card = score(scheme, evidence, as_of)
    return card, evidence, digest, run_for(session, scheme=scheme, as_of=card.as_of, digest=digest)
