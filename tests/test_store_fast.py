"""The store's fast paths (issue 13) keep its semantics exactly, on SQLite and PostgreSQL: inserts
through the driver store the same bytes as SQLAlchemy did, a re-import recognised by its sha256 is a
no-op only when comparing would find nothing, and an evidence snapshot never outlives its state."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, insert, select
from sqlmodel import Session

from scoring import workflows
from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from scoring.store.audit import audit_trail
from scoring.store.db import engine_for
from scoring.store.models import Evidence
from tests.conftest import SCHEME_2017

LOCAL = Actor("local", None)
HEAD = "單位,任務編號,期間,發佈時間,網址,分值\n"
A = HEAD + ("省財政廳,1.1.1,2017-03,2017-04-20,http://czt.example/3,\n"
            "省財政廳,1.1.1,2017-03,2017-04-10,http://portal.example/3,\n"
            "省財政廳,1.1.1,2017-04,2017-05-12,,\n"
            "濟南市,6.7,,2017-06-10,,\n"
            "淄博市,6.4,,,,86.5\n")
# restates 2017-03 with one sighting (one replaced, one withdrawn), a new value for 淄博市, a new row
B = HEAD + ("省財政廳,1.1.1,2017-03,2017-04-25,http://czt.example/3b,\n"
            "淄博市,6.4,,,,91\n"
            "濟南市,6.7,,2017-06-12,,\n"
            "省財政廳,1.1.1,2017-05,2017-06-09,,\n")
C = HEAD + "濟南市,6.7,,2017-06-15,,\n"  # a new value for a record rejected in between: waits


def _slow_insert(session, rows, *, fixed=None, progress):
    """The insert before issue 13: SQLAlchemy Core executemany of per-row dicts (the ids read back)."""
    if rows.empty:
        return np.zeros(0, dtype="int64")
    rows = rows.assign(**(fixed or {}))
    e = Evidence.__table__.c  # type: ignore[attr-defined]
    before = session.execute(select(func.coalesce(func.max(e.id), 0))).scalar_one()
    session.execute(insert(Evidence.__table__), repo._records(rows))  # type: ignore[attr-defined]
    return np.array(session.execute(select(e.id).where(e.id > before).order_by(e.id)).scalars().all(), dtype="int64")


def _import(url: str, text: str, name: str, actor: Actor = LOCAL) -> repo.ImportResult:
    return workflows.import_file(url, actor=actor, name=name, data=text.encode())


def _with_attachment(url: str) -> repo.ImportResult:
    """A row with its preserved file (attachment sha256 and capture time), as the bundle import gives."""
    data = (HEAD + "省財政廳,1.1.1,2017-06,2017-07-03,http://czt.example/6,\n").encode()
    with Session(engine_for(url)) as s:
        scheme = repo.get_scheme(s, scheme_id=None)
        ev = validate(read_table(data, "z.csv"), scheme, "z.csv")
        ev = ev.assign(attachment="ab" * 32, captured_at=pd.Timestamp("2017-07-04 09:30:01.250000"))
        result = repo.import_evidence(s, scheme=scheme, evidence=ev, file_name="z.zip",
                                      sha256=hashlib.sha256(data).hexdigest(), who="local")
        s.commit()
    return result


def _id_of(url: str, **key: str) -> int:
    ev = workflows.evidence(url, actor=LOCAL, scheme_id="shandong-2017").sort_values("id")
    for column, value in key.items():
        ev = ev[ev[column] == value]
    return int(ev["id"].iloc[0])


def _scenario(url: str) -> list[repo.ImportResult]:
    """Imports, a no-op re-import, a restatement, a rejection and a re-sent value, acceptances, the
    same file again after an acceptance (a withdrawn sighting accepted is withdrawn again)."""
    workflows.load_scheme_file(url, actor=LOCAL, path=SCHEME_2017)
    results = [_import(url, A, "a.csv"), _import(url, A, "a-again.csv"), _import(url, B, "b.csv")]
    jinan = _id_of(url, body="jinan")
    workflows.reject(url, actor=LOCAL, evidence_id=jinan, reason="wrong page")
    results += [_import(url, C, "c.csv"), _import(url, C, "c.csv")]
    workflows.accept(url, actor=LOCAL, evidence_id=jinan)
    withdrawn = workflows.evidence(url, actor=LOCAL, scheme_id="shandong-2017")
    withdrawn = withdrawn[withdrawn["rejected"].str.startswith(repo.WITHDRAWN)]
    workflows.accept(url, actor=LOCAL, evidence_id=int(withdrawn["id"].iloc[0]))
    results += [_import(url, B, "b.csv"), _import(url, B, "b.csv"), _with_attachment(url)]
    return results


def _dump(url: str) -> dict[str, list[tuple]]:
    """Every stored row as the driver returns it (so a different text or type would show), without
    the times of the actions themselves."""
    out = {}
    with engine_for(url).connect() as conn:
        for table, columns in (("evidence", "*"), ("evidence_history", "*"),
                               ("import_batch", "id, scheme_id, file_name, sha256, firm, rows_total, rows_new, "
                                                "rows_replaced, rows_unchanged, imported_by"),
                               ("audit", "id, actor, action, scheme_id, detail, sha256")):
            out[table] = [tuple(r) for r in conn.exec_driver_sql(f"SELECT {columns} FROM {table} ORDER BY id")]
    return out


@pytest.fixture
def second_db(request, tmp_path):
    from tests.conftest import fresh_database

    url, drop = fresh_database(request.node.callspec.params["db_url"], tmp_path / "slow")
    yield url
    drop()


def test_fast_paths_store_exactly_what_the_slow_path_stored(db_url, second_db, monkeypatch):
    fast = _scenario(db_url)
    with monkeypatch.context() as m:
        m.setattr(repo, "_insert_new", _slow_insert)
        m.setattr(repo, "repeat_of_latest", lambda session, **kw: None)
        slow = _scenario(second_db)
    assert fast == slow
    assert [(r.new, r.replaced, r.unchanged, r.withdrawn, r.pending, r.batch_id is None) for r in fast] == [
        (5, 0, 0, 0, 0, False), (0, 0, 5, 0, 0, True), (1, 3, 0, 1, 0, False), (0, 1, 0, 0, 1, False),
        (0, 0, 1, 0, 0, True), (0, 1, 3, 1, 0, False), (0, 0, 4, 0, 0, True), (1, 0, 0, 0, 0, False)]
    assert fast[1].sightings == fast[0].sightings == 1  # the no-op says so too
    assert _dump(db_url) == _dump(second_db)


def test_the_same_file_again_is_recognised_without_reading_the_stored_records(db_url, monkeypatch):
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    first = _import(db_url, A, "a.csv")
    read = []
    monkeypatch.setattr(repo, "_stored", lambda *a, _orig=repo._stored: read.append(1) or _orig(*a))
    again = _import(db_url, A, "a.csv")
    assert (again.batch_id, again.total, again.new, again.unchanged, again.sightings) == (None, 5, 0, 5, 1)
    assert read == [] and first.batch_id is not None
    # another account sending the same bytes is compared with the stored records (and changes nothing)
    other = _import(db_url, A, "a.csv", actor=Actor("someone", None))
    assert (other.batch_id, other.unchanged, read) == (None, 5, [1])


def _fresh(url: str, monkeypatch, *, imported: bool = False) -> tuple[pd.DataFrame, str]:
    """The evidence state read twice — the second time from its snapshot, never from the database;
    the first time too after an import, which writes the snapshot of the state it makes — and
    checked against the database itself."""
    with monkeypatch.context() as m, Session(engine_for(url)) as s:
        if imported:
            m.setattr(repo, "_read_evidence", lambda *a: pytest.fail("the import wrote this state's snapshot"))
        frame, digest = repo.evidence_state(s, scheme_id="shandong-2017")
    with Session(engine_for(url)) as s:
        truth = repo._read_evidence(s, "shandong-2017")
    pd.testing.assert_frame_equal(frame.reset_index(drop=True), truth.reset_index(drop=True))
    assert digest == repo.evidence_digest(truth)
    with monkeypatch.context() as m, Session(engine_for(url)) as s:
        m.setattr(repo, "_read_evidence", lambda *a: pytest.fail("a snapshot of this state exists"))
        again, digest_again = repo.evidence_state(s, scheme_id="shandong-2017")
    pd.testing.assert_frame_equal(again, frame)
    assert digest_again == digest
    return frame, digest


def test_the_evidence_snapshot_follows_every_change(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv(repo.SNAPSHOTS, str(tmp_path / "snapshots"))  # PostgreSQL's; SQLite's are beside the file
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    _import(db_url, A, "a.csv")
    states = [_fresh(db_url, monkeypatch, imported=True)]
    card, run = workflows.score_current(db_url, actor=LOCAL)
    assert workflows.score_current(db_url, actor=LOCAL)[1] == run  # same state: the stored run again
    jinan = _id_of(db_url, body="jinan")
    changes = [lambda: workflows.reject(db_url, actor=LOCAL, evidence_id=jinan, reason="wrong page"),
               lambda: _import(db_url, C, "c.csv"),  # waits for an evaluator
               lambda: workflows.accept(db_url, actor=LOCAL, evidence_id=jinan),
               lambda: _import(db_url, B, "b.csv"),
               lambda: _with_attachment(db_url)]
    for i, change in enumerate(changes):
        change()
        states.append(_fresh(db_url, monkeypatch, imported=i in (1, 3, 4)))
    digests = [d for _, d in states]
    assert len(set(digests)) == len(digests) - 1  # all differ but one: the rejected record's re-sent value waits
    assert digests[1] == digests[2]
    assert [len(f) for f, _ in states] == [5, 4, 4, 5, 5, 6]
    card2, run2 = workflows.score_current(db_url, actor=LOCAL)
    assert run2 != run
    assert workflows.verify_run(db_url, actor=LOCAL, run_id=run2) == []
    assert workflows.verify_run(db_url, actor=LOCAL, run_id=run) != []
    if db_url.startswith("sqlite"):
        folder = repo.Path(db_url.removeprefix("sqlite:///") + ".snapshots")
        assert len(list(folder.glob("*.parquet"))) == 1  # the scheme's older states are dropped


def test_a_state_is_read_once_a_transaction_and_again_once_it_changes(db_url, monkeypatch, tmp_path):
    """A report scores the evidence state and then summarises it, in one transaction: the state is
    read once there; a change within the transaction (an import, audited) is a new state, read anew."""
    monkeypatch.setenv(repo.SNAPSHOTS, str(tmp_path / "snapshots"))
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    _import(db_url, A, "a.csv")
    reads = []
    monkeypatch.setattr(repo, "_evidence_state", lambda *a, _orig=repo._evidence_state: reads.append(1) or _orig(*a))
    with Session(engine_for(db_url)) as s:
        first = repo.evidence_state(s, scheme_id="shandong-2017")
        assert repo.evidence_state(s, scheme_id="shandong-2017")[0] is first[0] and reads == [1]
        scheme = repo.get_scheme(s, scheme_id="shandong-2017")
        ev = validate(read_table(C.encode(), "c.csv"), scheme, "c.csv")
        repo.import_evidence(s, scheme=scheme, evidence=ev, file_name="c.csv", sha256="cd" * 32, who="local")
        after = repo.evidence_state(s, scheme_id="shandong-2017")
        assert reads == [1, 1] and after[1] != first[1]


def test_a_change_asked_while_an_import_compares_waits_and_the_snapshot_follows(db_url, monkeypatch, tmp_path):
    """Another account rejects a record while an import compares: the rejection waits for the import
    (writers of a scheme's evidence take turns, scoring/store/locks.py), then lands; the snapshot the
    import kept is not read for the state after the rejection."""
    import threading
    import time

    monkeypatch.setenv(repo.SNAPSHOTS, str(tmp_path / "snapshots"))
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    _import(db_url, A, "a.csv")
    april = _id_of(db_url, period="2017-04")  # an item b.csv does not restate
    meddler: list[threading.Thread] = []

    def stored_then_meddle(session, scheme_id, _orig=repo._stored):
        frame = _orig(session, scheme_id)
        if not meddler:
            meddler.append(threading.Thread(target=workflows.reject, args=(db_url,), kwargs=dict(
                actor=Actor("evaluator", None), evidence_id=april, reason="wrong page")))
            meddler[0].start()
            time.sleep(0.5)
            assert meddler[0].is_alive()  # waiting for the import
        return frame
    with monkeypatch.context() as m:
        m.setattr(repo, "_stored", stored_then_meddle)
        _import(db_url, B, "b.csv")
    meddler[0].join(timeout=60)
    with Session(engine_for(db_url)) as s:
        frame, _ = repo.evidence_state(s, scheme_id="shandong-2017")
        actions = [a for a in audit_trail(s)["action"] if a in ("import", "reject")]
    assert actions == ["reject", "import", "import"]  # newest first: the rejection after b.csv
    assert april not in set(frame["row"])  # rejected: not scored
    _fresh(db_url, monkeypatch)


def test_the_same_file_again_by_path_is_hashed_streamed_never_read_whole(db_url, monkeypatch, tmp_path):
    """`gongkai import FILE` of the latest file again holds none of it in memory: the file is hashed
    in blocks and read whole only when it has to be compared (a 10M-row file is 425 MB)."""
    from pathlib import Path

    from tests.cli import gongkai

    file = tmp_path / "a.csv"
    file.write_bytes(A.encode())
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    first = gongkai("import", str(file), "--db", db_url)
    assert first.returncode == 0 and "imported 5 new" in first.stdout, first.stderr
    reads = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self) or original(self))
    again = gongkai("import", str(file), "--db", db_url)
    assert again.returncode == 0 and "imported 0 new, 0 replaced (old values kept in history), 5 unchanged" in again.stdout
    assert file not in reads
    # a changed file is read (and compared), as before
    file.write_bytes(B.encode())
    later = gongkai("import", str(file), "--db", db_url)
    assert later.returncode == 0 and "1 new, 3 replaced" in later.stdout and file in reads


def test_a_file_that_changes_between_its_hash_and_its_reading_is_refused(db_url, monkeypatch, tmp_path):
    """What is stored is the file hashed (its sha256 names the batch): a file rewritten meanwhile is
    refused whole, nothing stored."""
    import hashlib as h

    file = tmp_path / "a.csv"
    file.write_bytes(A.encode())
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    real = h.file_digest

    def digest_then_rewrite(f, name):
        out = real(f, name)
        file.write_bytes(B.encode())
        return out
    monkeypatch.setattr(hashlib, "file_digest", digest_then_rewrite)
    with pytest.raises(workflows.GongkaiError, match="a.csv changed while it was being imported; nothing"):
        workflows.import_file(db_url, actor=LOCAL, name="a.csv", data=file)
    assert workflows.evidence(db_url, actor=LOCAL, scheme_id="shandong-2017").empty


def test_rows_go_to_the_driver_a_chunk_at_a_time(db_url, monkeypatch):
    """The driver's values of a 10M-row import are never made for the whole file at once (memory):
    each conversion sees at most CHUNK rows, and the rows stored are the same."""
    seen = []
    original = repo._column
    monkeypatch.setattr(repo, "_column", lambda col, **kw: seen.append(len(col)) or original(col, **kw))
    monkeypatch.setattr(repo, "CHUNK", 2)
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)
    result = _import(db_url, A, "a.csv")
    assert result.new == 5 and seen and max(seen) <= 2
    stored = workflows.evidence(db_url, actor=LOCAL, scheme_id="shandong-2017").sort_values("id")
    assert stored["id"].tolist() == list(range(1, 6))
    assert stored["url"].tolist() == ["http://czt.example/3", "http://portal.example/3", "", "", ""]


@pytest.mark.postgres
def test_postgresql_ids_are_the_sequences_even_when_not_consecutive(monkeypatch, tmp_path):
    """New ids are drawn from the id sequence in one statement and only the runs of consecutive values
    read back: with a sequence stepping by 3 (as if other writers drew in between) every row still
    gets the id the sequence gave it, in row order, and the import's snapshot says the same."""
    from tests.conftest import fresh_database

    url, drop = fresh_database("postgresql", tmp_path)
    monkeypatch.setenv(repo.SNAPSHOTS, str(tmp_path / "snapshots"))
    try:
        workflows.load_scheme_file(url, actor=LOCAL, path=SCHEME_2017)
        with engine_for(url).begin() as conn:
            conn.exec_driver_sql("ALTER SEQUENCE evidence_id_seq INCREMENT BY 3 RESTART WITH 10")
        _import(url, A, "a.csv")
        stored = workflows.evidence(url, actor=LOCAL, scheme_id="shandong-2017").sort_values("id")
        assert stored["id"].tolist() == [10, 13, 16, 19, 22]
        assert stored["url"].tolist() == ["http://czt.example/3", "http://portal.example/3", "", "", ""]
        _fresh(url, monkeypatch, imported=True)
    finally:
        drop()


def test_the_digest_of_categorical_keys_is_the_digest_of_their_text():
    """`evidence_digest` hashes key categoricals per category: the digest of every stored run is
    unchanged (it was the digest of the keys spelt out as text)."""
    frame = pd.DataFrame({c: pd.Series(["a", "b", "a", "", None], dtype="str") for c in repo.KEY})
    frame = frame.assign(event_at=pd.NaT, published_at=pd.Timestamp("2017-05-01"), has_time=False,
                         value=[1.5, None, 2.0, 3.0, None], url="", note="n")
    cats = frame.astype({c: "category" for c in repo.KEY})
    spelt = frame[[*repo.KEY, *repo.VALUES]].astype({c: str for c in repo.KEY})
    before = hashlib.sha256(np.sort(pd.util.hash_pandas_object(spelt, index=False).to_numpy()).tobytes()).hexdigest()
    assert repo.evidence_digest(cats) == repo.evidence_digest(frame) == before


def test_a_pipe_is_read_once_and_imported(db_url, tmp_path):
    """`gongkai import <(zcat ev.csv.gz)`: a pipe cannot be hashed and then read again; it is read
    once, as before, and imported."""
    import contextlib
    import os
    import threading
    import time

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    workflows.load_scheme_file(db_url, actor=LOCAL, path=SCHEME_2017)

    def write() -> None:
        fifo.write_bytes(A.encode())
        time.sleep(3)  # then end a second read, if one waits (it would wait for ever): it reads nothing
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = workflows.import_file(db_url, actor=LOCAL, name="pipe.csv", data=fifo)
    assert (result.new, result.sightings) == (5, 1)
