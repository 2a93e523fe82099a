"""Faults with real processes: an import killed mid-way leaves the database exactly as before; two
imports at once both land (or one says so clearly); a locked database is retried, then reported."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from scoring.store.db import dispose, engine_for
from scoring.store.models import Evidence, ImportBatch
from scoring.synthetic import synth

SCHEME = synth.national(cities=40, counties=400, departments=34, channels=1)


def cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "scoring.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, **kw)


def state(url: str) -> tuple[int, int]:
    with Session(engine_for(url)) as s:
        return (s.execute(select(func.count()).select_from(Evidence)).scalar_one(),
                s.execute(select(func.count()).select_from(ImportBatch)).scalar_one())


@pytest.fixture()
def loaded(db_url, tmp_path):
    """A database holding the scheme and a first import; a big second file; a small third."""
    scheme_file = tmp_path / "nation.yaml"
    scheme_file.write_text(SCHEME.text, encoding="utf-8")
    evidence = synth.evidence(SCHEME, seed=1)
    first, big = evidence.iloc[:1000], evidence.iloc[1000:]
    paths = {}
    for name, part in (("first", first), ("big", big)):
        paths[name] = tmp_path / f"{name}.csv"
        synth.write_csv(SCHEME, part, paths[name])
    assert cli("criteria", "load", str(scheme_file), "--db", db_url).wait() == 0
    done = cli("import", str(paths["first"]), "--db", db_url)
    assert done.wait() == 0, done.stderr.read()
    dispose(db_url)
    return db_url, paths


def _inserting(url: str, pid: int) -> bool:
    """Whether the import process is inside its transaction, writing evidence."""
    if url.startswith("sqlite"):
        wal = Path(url.removeprefix("sqlite:///") + "-wal")
        return wal.exists() and wal.stat().st_size > 4_000_000
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        return c.execute("SELECT count(*) FROM pg_stat_activity WHERE (query ILIKE 'INSERT INTO evidence%' "
                         "OR query ILIKE 'COPY evidence%') AND state <> 'idle'").fetchone()[0] > 0


def test_killed_import_leaves_the_database_as_before(loaded):
    url, paths = loaded
    before = state(url)
    dispose(url)
    proc = cli("import", str(paths["big"]), "--db", url)
    deadline = time.time() + 120
    while not _inserting(url, proc.pid):
        assert proc.poll() is None, "the import ended before it could be killed: " + proc.stderr.read()
        assert time.time() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert state(url) == before
    if url.startswith("sqlite"):
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    dispose(url)
    again = cli("import", str(paths["big"]), "--db", url)  # the database still works
    assert again.wait() == 0, again.stderr.read()
    assert state(url)[0] == before[0] + len(synth.evidence(SCHEME, seed=1)) - 1000


def test_two_imports_at_once_both_land_or_say_so(loaded, tmp_path):
    url, paths = loaded
    before = state(url)
    dispose(url)
    changed = tmp_path / "changed.csv"  # the same records as big.csv, other values: they conflict
    frame = synth.evidence(SCHEME, seed=2).iloc[1000:]
    synth.write_csv(SCHEME, frame, changed)
    a, b = cli("import", str(paths["big"]), "--db", url), cli("import", str(changed), "--db", url)
    results = [(p.wait(), p.stderr.read()) for p in (a, b)]
    for code, stderr in results:
        assert "Traceback" not in stderr
        assert code == 0 or "nothing from" in stderr
    assert any(code == 0 for code, _ in results)
    def keys(f):
        return set(zip(f["body"].astype(str), f["obligation"].astype(str), f["period"].astype(str),
                       f["record"].astype(str), strict=True))

    first = keys(synth.evidence(SCHEME, seed=1).iloc[:1000])
    big, other = keys(synth.evidence(SCHEME, seed=1).iloc[1000:]), keys(frame)
    landed = [k for (code, _), k in zip(results, (big, other), strict=True) if code == 0]
    evidence, batches = state(url)
    assert evidence == len(first.union(*landed))  # every record once: nothing half-written or doubled
    assert batches - before[1] == len(landed)


def test_locked_database_is_retried_then_reported(tmp_path):
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    scheme_file = tmp_path / "nation.yaml"
    scheme_file.write_text(SCHEME.text, encoding="utf-8")
    assert cli("criteria", "load", str(scheme_file), "--db", url).wait() == 0
    small = tmp_path / "small.csv"
    synth.write_csv(SCHEME, synth.evidence(SCHEME).iloc[:50], small)
    holder = sqlite3.connect(str(tmp_path / "locked.db"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        proc = cli("import", str(small), "--db", url, env={"GONGKAI_BUSY_TIMEOUT_MS": "200"})
        code, err = proc.wait(timeout=60), proc.stderr.read()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 1
    assert "database is locked" in err and "tried 3 times" in err and "nothing from small.csv was stored" in err
    assert "Traceback" not in err
    again = cli("import", str(small), "--db", url)
    assert again.wait() == 0, again.stderr.read()


def test_reads_go_on_while_a_writer_holds_the_database_and_a_write_says_busy(tmp_path, monkeypatch):
    """While another import holds SQLite's write lock: signing in, `runs list` and `score` of a stored
    state read on (WAL); `score` of a new state shows the scores and says the run was not stored (the
    dashboard's scorecard too); a command that must write says the database is busy in one line,
    exit 1 — no traceback, no SQL."""
    import datetime as dt

    from scoring import workflows
    from tests.cli import clean_env, gongkai

    monkeypatch.setenv("GONGKAI_BUSY_TIMEOUT_MS", "200")

    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    env = clean_env(GONGKAI_BUSY_TIMEOUT_MS="200")
    assert gongkai("demo", "--db", url, env=env).returncode == 0
    assert gongkai("user", "add", "boss", "--role", "admin", "--db", url,
                   env=env | {"GONGKAI_NEW_PASSWORD": "correct horse battery"}).returncode == 0
    env |= {"GONGKAI_USER": "boss", "GONGKAI_PASSWORD": "correct horse battery"}
    first = gongkai("score", "--db", url, env=env)
    assert first.returncode == 0 and first.stderr.startswith("scoring run 1 "), first.stderr
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another import holds the write lock
    try:
        again = gongkai("score", "--db", url, env=env)  # the same state: its stored run, nothing written
        listed = gongkai("runs", "list", "--db", url, env=env)
        other = gongkai("score", "--as-of", "2017-12-01", "--db", url, env=env)
        write = gongkai("user", "add", "li", "--role", "viewer", "--db", url,
                        env=env | {"GONGKAI_NEW_PASSWORD": "another long secret"})
        shown = workflows.scorecard(url, actor=workflows.Actor("boss", "admin"), as_of=dt.date(2017, 11, 30))
        assert shown.as_of == dt.date(2017, 11, 30) and len(shown.scores)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, first.stderr)
    assert listed.returncode == 0 and listed.stdout.count("\n") >= 2, listed.stderr
    assert other.returncode == 0 and other.stdout
    assert other.stderr == ("not stored (as of 2017-12-01): the database is busy (another import is writing); "
                            "try again in a moment\n")
    assert write.returncode == 1 and write.stdout == ""
    assert write.stderr.strip().splitlines() == [
        "error: the database is busy (another import is writing); try again in a moment"]
    for r in (again, listed, other, write):
        assert "Traceback" not in r.stderr and "OperationalError" not in r.stderr and "INSERT" not in r.stderr
    stored = gongkai("score", "--as-of", "2017-12-01", "--db", url, env=env)  # the writer is gone: stored
    assert stored.returncode == 0 and stored.stderr.startswith("scoring run 2 "), stored.stderr
