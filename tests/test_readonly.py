"""A read-only database (a chmod-ed SQLite file or folder, a read-only PostgreSQL database): reads
work — runs, a score whose identical run is stored, evidence, the dashboard — and every write says
the database is read-only, changing nothing."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from scoring import workflows
from scoring.store.accounts import Actor
from scoring.store.db import dispose
from tests.conftest import PG

LOCAL = Actor("local", None)
NOBODY = 65534


@contextmanager
def unprivileged():
    """File modes do not bind root: as root, act as `nobody` meanwhile (effective ids, restored after)."""
    if os.geteuid() != 0:
        yield
        return
    import getpass  # noqa: F401 — imported while the interpreter's own files are still readable
    import socket  # noqa: F401

    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@pytest.fixture(params=["file", "folder", pytest.param("postgresql", marks=pytest.mark.postgres)])
def read_only(request):
    """(url, run id): the demo loaded and scored once, then the database made read-only."""
    kind = request.param
    folder = Path(tempfile.mkdtemp(prefix="gongkai-ro-"))
    folder.chmod(0o755)  # `nobody` may enter
    if kind == "postgresql":
        if not PG:
            pytest.skip("GONGKAI_TEST_POSTGRES_URL not set")
        from tests.conftest import fresh_database

        url, drop = fresh_database("postgresql", folder)
    else:
        url, drop = f"sqlite:///{folder / 'gongkai.db'}", lambda: None
    workflows.load_demo(url, actor=LOCAL)
    _, run_id = workflows.score_current(url, actor=LOCAL)
    dispose(url)
    db_file = folder / "gongkai.db"
    if kind == "postgresql":
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    else:
        assert not Path(f"{db_file}-wal").exists()  # closed cleanly: checkpointed
        db_file.chmod(0o444)
        if kind == "folder":
            folder.chmod(0o555)
    yield url, run_id
    dispose(url)
    folder.chmod(0o755)
    drop()
    shutil.rmtree(folder, ignore_errors=True)


def test_reads_work_and_writes_say_read_only(read_only, tmp_path):
    url, run_id = read_only
    data = "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n".encode()
    with unprivileged():
        assert workflows.runs(url, actor=LOCAL)["run"].tolist() == [run_id]
        card, again = workflows.score_current(url, actor=LOCAL)  # the identical run is stored: reused
        assert again == run_id and card.scores.iloc[0]["score"] > 0
        scored_rows = int(workflows.runs(url, actor=LOCAL)["evidence_rows"].iloc[0])  # the demo, as the run scored it
        assert len(workflows.evidence(url, actor=LOCAL, scheme_id="shandong-2017")) == scored_rows > 1000
        import datetime as dt

        other_day = workflows.scorecard(url, actor=LOCAL, as_of=dt.date(2017, 9, 30))  # shown, not stored
        assert len(other_day.scores) == len(card.scores)
        with pytest.raises(workflows.ReadOnlyDatabase, match="the database is read-only"):
            workflows.score_current(url, actor=LOCAL, as_of=dt.date(2017, 9, 30))
        with pytest.raises(workflows.ReadOnlyDatabase, match="the database is read-only"):
            workflows.import_file(url, actor=LOCAL, name="x.csv", data=data)
        with pytest.raises(workflows.ReadOnlyDatabase, match="the database is read-only"):
            workflows.reject(url, actor=LOCAL, evidence_id=1, reason="x")
        with pytest.raises(workflows.ReadOnlyDatabase, match="the database is read-only"):
            workflows.add_user(url, actor=None, name="root", password="root-pass-1", role="admin")
        assert workflows.runs(url, actor=LOCAL)["run"].tolist() == [run_id]
        assert workflows.evidence(url, actor=LOCAL, scheme_id="shandong-2017")["rejected"].eq("").all()


def test_the_command_line_reads_and_refuses_writes(read_only, tmp_path, monkeypatch, capsys):
    """Through `gongkai` itself (in this process, so that it runs unprivileged too)."""
    from scoring import cli

    url, run_id = read_only
    readable = Path(tempfile.mkdtemp(prefix="gongkai-ro-in-"))
    readable.chmod(0o755)
    evidence = readable / "e.csv"
    evidence.write_text("單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n", encoding="utf-8")
    for name in [k for k in os.environ if k.startswith("GONGKAI_")]:
        monkeypatch.delenv(name)

    def gongkai(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["gongkai", *args, "--db", url])
        try:
            cli.main()
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    with unprivileged():
        code, out, _ = gongkai("runs", "list")
        assert code == 0 and out.splitlines()[1].split()[0] == str(run_id)
        code, out, err = gongkai("score", "--format", "csv")
        assert code == 0 and f"scoring run {run_id} " in err and out.startswith("body,name,kind,score")
        code, _, err = gongkai("reject", "1", "--reason", "x")
        assert code == 1 and "the database is read-only: nothing was changed" in err and "Traceback" not in err
        code, _, err = gongkai("import", str(evidence))
        assert code == 1 and "the database is read-only" in err and "Traceback" not in err
    shutil.rmtree(readable)


def test_a_read_only_database_still_signs_in_and_out(monkeypatch):
    """Sessions are rows (revocable); a database that cannot store one keeps the session in the server
    process: signing in works, signing out ends it all the same."""
    from scoring.errors import GongkaiError

    monkeypatch.setenv("GONGKAI_SECRET", "a-test-secret-of-sufficient-length-0123456789")
    folder = Path(tempfile.mkdtemp(prefix="gongkai-ro-"))
    folder.chmod(0o755)
    url = f"sqlite:///{folder / 'gongkai.db'}"
    workflows.add_user(url, actor=None, name="root", password="root-pass-1", role="admin")
    dispose(url)
    (folder / "gongkai.db").chmod(0o444)
    try:
        with unprivileged():
            root = workflows.sign_in(url, name="root", password="root-pass-1")
            token = workflows.session_token(url, actor=root)
            assert workflows.resume_session(url, token=token) == Actor("root", "admin")
            workflows.sign_out(url, token=token)
            with pytest.raises(GongkaiError, match="^the session has ended"):
                workflows.resume_session(url, token=token)
    finally:
        dispose(url)
        shutil.rmtree(folder, ignore_errors=True)
