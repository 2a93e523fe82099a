"""The evidence store, on SQLite and on PostgreSQL (GONGKAI_TEST_POSTGRES_URL): all-or-nothing
imports with exact reports, idempotent re-import, replacement with history, stored runs."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from scoring.errors import EvidenceError, RowProblem
from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.engine import score
from scoring.store import repository as store
from scoring.store.audit import audit_trail
from scoring.store.db import engine_for
from scoring.store.models import Evidence, ImportBatch
from tests.cli import gongkai
from tests.conftest import SCHEME_2017


def do_import(url, scheme, text: str | bytes, name="f.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    with Session(engine_for(url)) as s:
        store.save_scheme(s, scheme=scheme, who="test")
        ev = validate(read_table(data, name), scheme, name)
        result = store.import_evidence(s, who="test", scheme=scheme, evidence=ev, file_name=name,
                                       sha256=hashlib.sha256(data).hexdigest())
        s.commit()
    return result


def counts(url) -> tuple[int, int]:
    with Session(engine_for(url)) as s:
        return (s.execute(select(func.count()).select_from(Evidence)).scalar_one(),
                s.execute(select(func.count()).select_from(ImportBatch)).scalar_one())


GOOD = "單位,任務編號,期間,發佈時間,分值\n濟南市,6.7,,2017-06-10,\n省財政廳,1.1.1,2017-03,2017-04-14,\n淄博市,6.4,,,86.5\n"


def test_import_then_reimport_is_a_noop(db_url, scheme_2017):
    first = do_import(db_url, scheme_2017, GOOD)
    assert (first.new, first.replaced, first.unchanged) == (3, 0, 0)
    again = do_import(db_url, scheme_2017, GOOD)
    assert (again.batch_id, again.new, again.replaced, again.unchanged) == (None, 0, 0, 3)
    assert counts(db_url) == (3, 1)


def test_changed_value_replaces_and_keeps_history(db_url, scheme_2017):
    do_import(db_url, scheme_2017, GOOD)
    changed = do_import(db_url, scheme_2017, GOOD.replace("86.5", "91"))
    assert (changed.new, changed.replaced, changed.unchanged) == (0, 1, 2)
    with Session(engine_for(db_url)) as s:
        ev = store.load_evidence(s, scheme_id="shandong-2017")
        rated = ev[ev["obligation"] == "6.4"].iloc[0]
        assert rated["value"] == 91
        old = store.history(s, evidence_id=int(rated["row"]))
    assert old[["value", "batch_id", "replaced_by"]].values.tolist() == [[86.5, 1, 2]]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("單位,任務編號,發佈時間\n上海市,6.7,2017-06-10\n", RowProblem(2, "body", "上海市", "unknown body")),
        ("單位,任務編號,發佈時間\n濟南市,8.8,2017-06-10\n", RowProblem(2, "obligation", "8.8", "unknown obligation")),
        ("單位,任務編號,期間,發佈時間\n省財政廳,1.1.1,2017-Q1,2017-04-14\n", RowProblem(
            2, "period", "2017-Q1",
            "this period is not one the obligation's periodic rule expects (wrong frequency or outside its dates)")),
        ("單位,任務編號,事件編號,發生時間,環節,發佈時間\n臨沂市,6.3,E1,2017-07-14 09:20,release,2017-07-14\n",
         RowProblem(2, "published_at", "2017-07-14", "an hours window needs a time of day, not just a date")),
        ("單位,任務編號,分值\n淄博市,6.4,120\n", RowProblem(2, "value", "120", "a rating is between 0 and 100")),
        ("單位,任務編號,發佈時間\n濟南市,6.7,2917-06-10\n",
         RowProblem(2, "published_at", "2917-06-10", "the year is outside 1900–2200: a typo?")),
        ("", RowProblem(1, "file", "", "empty file: no header and no evidence rows")),
    ],
)
def test_bad_file_changes_nothing(db_url, scheme_2017, text, problem):
    do_import(db_url, scheme_2017, GOOD)
    before = counts(db_url)
    with pytest.raises(EvidenceError) as caught:
        do_import(db_url, scheme_2017, text)
    assert problem in caught.value.problems
    assert counts(db_url) == before


def test_gb18030_fullwidth_file_imports(db_url, scheme_2017):
    text = "单位,任务编号,期间,发布时间\n省财政厅,１．１．１,２０１７－０５,２０１７年６月１２日\n临沂,６．７,,2017/6/9\n"
    result = do_import(db_url, scheme_2017, text.encode("gb18030"))
    assert result.new == 2


def test_round_trip_scores_equal_file_scores(db_url, scheme_2017, demo_evidence):
    from scoring.synthetic import demo

    data = demo.generate(scheme_2017).to_csv(index=False)
    do_import(db_url, scheme_2017, data)
    from_file = score(scheme_2017, demo_evidence).scores
    with Session(engine_for(db_url)) as s:
        card, run_id = store.score_and_record(s, scheme_id=None, as_of=None, who="test")
        s.commit()
    pd.testing.assert_frame_equal(card.scores, from_file)
    with Session(engine_for(db_url)) as s:
        assert store.verify_run(s, run_id=run_id) == []
    do_import(db_url, scheme_2017, GOOD.replace("86.5", "10"), name="later.csv")
    with Session(engine_for(db_url)) as s:
        changes = store.verify_run(s, run_id=run_id)
    assert len(changes) == 1 and changes[0].startswith(f"the evidence changed since run {run_id}")


def test_cli_import_report_and_dry_run(db_url, tmp_path):
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db_url).returncode == 0
    bad = tmp_path / "firm.csv"
    bad.write_text("單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n上海市,6.7,2017-06-10\n", encoding="utf-8")
    r = gongkai("import", str(bad), "--db", db_url)
    assert r.returncode == 1
    assert "row 3, column body, value '上海市': unknown body" in r.stderr
    report = pd.read_csv(tmp_path / "firm.problems.csv", dtype=str, keep_default_na=False)
    assert report[["行號 row", "問題 problems", "單位"]].values.tolist() == [["3", "body: unknown body", "上海市"]]
    good = tmp_path / "good.csv"
    good.write_text("單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n", encoding="utf-8")
    dry = gongkai("import", str(good), "--db", db_url, "--dry-run")
    assert dry.returncode == 0 and "would import 1 new" in dry.stdout
    assert counts(db_url) == (0, 0)
    real = gongkai("import", str(good), "--db", db_url)
    assert "imported 1 new" in real.stdout and counts(db_url) == (1, 1)


def test_audit_trail_records_who_did_what(db_url, scheme_2017, monkeypatch):
    """The acting account is a parameter of every workflow: the trail names it, whatever the
    environment says."""
    from scoring import workflows
    from scoring.store.accounts import Actor

    monkeypatch.setenv("GONGKAI_USER", "someone.else")
    zhang = Actor("zhang.san", None)
    with Session(engine_for(db_url)) as s:
        store.save_scheme(s, scheme=scheme_2017, who="zhang.san")
        s.commit()
    workflows.import_file(db_url, actor=zhang, name="f.csv", data=GOOD.encode())
    workflows.import_file(db_url, actor=zhang, name="f.csv", data=GOOD.replace("86.5", "91").encode())
    workflows.score_current(db_url, actor=zhang)
    with Session(engine_for(db_url)) as s:
        trail = audit_trail(s)
    assert trail["action"].tolist() == ["score", "replace", "import", "import", "scheme_load"]
    assert set(trail["actor"]) == {"zhang.san"}
    assert trail.loc[trail["action"] == "replace", "detail"].iloc[0].startswith("batch 2 replaced 1 records")
    assert trail.loc[trail["action"] == "import", "sha256"].str.len().eq(64).all()


# ---- issue 11: sightings, and a later file restating an item ----------------------------------

SEEN_TWICE = ("單位,任務編號,期間,發佈時間,網址\n"
              "省財政廳,1.1.1,2017-03,2017-04-20,http://czt.example/3\n"
              "省財政廳,1.1.1,2017-03,2017-04-10,http://portal.example/3\n"
              "淄博市,6.4,,,\n")


def stored(url) -> pd.DataFrame:
    with Session(engine_for(url)) as s:
        frame = store.evidence_with_provenance(s, scheme_id="shandong-2017")
    return frame.assign(published_at=pd.to_datetime(frame["published_at"]).dt.strftime("%Y-%m-%d"))


def test_sightings_are_stored_and_reimport_changes_nothing(db_url, scheme_2017):
    text = SEEN_TWICE.replace("淄博市,6.4,,,\n", "")
    first = do_import(db_url, scheme_2017, text)
    assert (first.total, first.new, first.sightings) == (2, 2, 1)
    again = do_import(db_url, scheme_2017, text)
    assert (again.batch_id, again.new, again.replaced, again.unchanged, again.withdrawn) == (None, 0, 0, 2, 0)
    with Session(engine_for(db_url)) as s:
        ev = store.load_evidence(s, scheme_id="shandong-2017")
        card = score(scheme_2017, ev)
    f = card.findings
    mar = f[(f["body"] == "caizheng") & (f["obligation"] == "1.1.1") & (f["item"] == "2017-03")].iloc[0]
    assert mar["published_at"] == pd.Timestamp("2017-04-10")  # the earliest sighting counts


def test_a_later_file_restates_the_item_and_history_is_kept(db_url, scheme_2017):
    do_import(db_url, scheme_2017, SEEN_TWICE.replace("淄博市,6.4,,,\n", "省財政廳,1.1.1,2017-04,2017-05-12,\n"))
    later = do_import(db_url, scheme_2017, "單位,任務編號,期間,發佈時間,網址\n"
                                           "省財政廳,1.1.1,2017-03,2017-04-25,http://czt.example/3b\n")
    # the firm now lists one sighting of 2017-03: it replaces the earliest (04-10, the item's first
    # record), the other (04-20) is withdrawn; 2017-04, which the file does not mention, is untouched
    assert (later.new, later.replaced, later.unchanged, later.withdrawn) == (0, 1, 0, 1)
    rows = stored(db_url).sort_values("id")
    assert rows[["period", "published_at", "rejected"]].values.tolist()[2] == ["2017-04", "2017-05-12", ""]
    march = rows[rows["period"] == "2017-03"]
    assert march["published_at"].tolist() == ["2017-04-20", "2017-04-25"]  # in id order
    assert march["rejected"].str.startswith("withdrawn:").tolist() == [True, False]
    with Session(engine_for(db_url)) as s:
        old = store.history(s, evidence_id=int(march["id"].iloc[1]))
        card = score(scheme_2017, store.load_evidence(s, scheme_id="shandong-2017"))
    assert pd.to_datetime(old["published_at"]).dt.strftime("%Y-%m-%d").tolist() == ["2017-04-10"]
    f = card.findings
    mar = f[(f["body"] == "caizheng") & (f["obligation"] == "1.1.1") & (f["item"] == "2017-03")].iloc[0]
    assert mar["published_at"] == pd.Timestamp("2017-04-25")  # 04-10 replaced, 04-20 withdrawn: neither counts
    # the first file again: both sightings are back (the withdrawn one restored), nothing doubled
    back = do_import(db_url, scheme_2017, SEEN_TWICE.replace("淄博市,6.4,,,\n", ""))
    assert (back.new, back.replaced, back.withdrawn) == (0, 2, 0)
    assert len(stored(db_url)) == 3 and (stored(db_url)["rejected"] == "").all()


def test_cli_import_line_says_how_many_rows_were_sightings(db_url, tmp_path):
    assert gongkai("criteria", "load", str(SCHEME_2017), "--db", db_url).returncode == 0
    f = tmp_path / "seen.csv"
    f.write_text(SEEN_TWICE.replace("淄博市,6.4,,,\n", ""), encoding="utf-8")
    r = gongkai("import", str(f), "--db", db_url, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "2 rows valid; would import 2 new" in r.stdout and "sightings (further rows of an item already in the file): 1" in r.stdout


def _evidence_state(url) -> list[tuple]:
    with Session(engine_for(url)) as s:
        return [(e.body, e.obligation, str(e.published_at), e.rejected, e.pending)
                for e in s.exec(select(Evidence).order_by(Evidence.id)).scalars()]


def test_a_rejection_made_while_an_import_runs_is_not_overwritten(db_url, tmp_path):
    """The race an import had: it compares the file with what it read, so a rejection committed in
    between was cleared by its write (the new value scored unreviewed). Writers of a scheme's evidence
    now take turns: the import waits for the rejection and ends as if it came after it."""
    import threading
    import time

    from scoring import workflows
    from scoring.store import accounts
    from scoring.store.accounts import Actor
    from tests.conftest import fresh_database

    me = Actor("t", None)
    first = "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n".encode()
    later = "單位,任務編號,發佈時間\n濟南市,6.7,2017-06-20\n".encode()  # the same item, a new value
    sequential, drop = fresh_database("sqlite", tmp_path)  # what reject-then-import gives
    for url in (db_url, sequential):
        workflows.load_scheme_file(url, actor=me, path=SCHEME_2017)
        workflows.import_file(url, actor=me, name="first.csv", data=first)
    workflows.reject(sequential, actor=me, evidence_id=1, reason="網址打不開")
    workflows.import_file(sequential, actor=me, name="later.csv", data=later)
    expected = _evidence_state(sequential)
    drop()
    assert expected == [("jinan", "6.7", "2017-06-20 00:00:00", "", True)]  # the new value waits for review

    with Session(engine_for(db_url)) as s:  # a rejection in progress: not yet committed
        accounts.reject(s, evidence_id=1, reason="網址打不開", by=me)
        done: list[object] = []
        importer = threading.Thread(target=lambda: done.append(
            workflows.import_file(db_url, actor=me, name="later.csv", data=later)))
        importer.start()
        time.sleep(1.5)
        assert importer.is_alive() and done == []  # the import waits for the rejection's transaction
        s.commit()
    importer.join(timeout=60)
    assert len(done) == 1
    assert _evidence_state(db_url) == expected


def test_evidence_refers_to_an_existing_batch_of_its_own_scheme(db_url, scheme_2017):
    """Evidence's references (migration 0006: foreign keys on SQLite, statement-level checks on PostgreSQL):
    on both, evidence whose batch is missing is refused, and so is deleting a batch that evidence refers
    to; PostgreSQL's check also refuses a batch of another scheme than the row's."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    do_import(db_url, scheme_2017, GOOD)
    engine = engine_for(db_url)
    with engine.connect() as conn:
        batch, scheme_id = conn.execute(text("SELECT id, scheme_id FROM import_batch")).one()
        conn.execute(text("INSERT INTO scheme (id, title, sha256, text, loaded_at) "
                          "SELECT 'other', title, sha256, text, loaded_at FROM scheme"))
        conn.commit()
    columns = ("scheme_id, body, obligation, period, event, step, assessor, record, has_time, url, note, batch_id, "
               "rejected, pending, attachment")
    bad = {"missing batch": (scheme_id, batch + 99)}
    if engine.dialect.name == "postgresql":
        bad["batch of another scheme"] = ("other", batch)
    for why, (scheme, batch_id) in bad.items():
        with engine.connect() as conn, pytest.raises(IntegrityError, match="fk_evidence_batch|FOREIGN KEY"):
            conn.execute(text(f"INSERT INTO evidence ({columns}) VALUES "
                              "(:s, '濟南市', '6.8', '', '', '', '', 'publication', false, '', '', :b, '', false, '')"),
                         {"s": scheme, "b": batch_id})
            pytest.fail(why)
    with engine.connect() as conn, pytest.raises(IntegrityError, match="fk_evidence_batch|FOREIGN KEY"):
        conn.execute(text("UPDATE evidence SET scheme_id = 'other'" if engine.dialect.name == "postgresql"
                          else "UPDATE evidence SET batch_id = batch_id + 99"))
    with engine.connect() as conn, pytest.raises(IntegrityError, match="fk_evidence_batch|FOREIGN KEY"):
        conn.execute(text("DELETE FROM import_batch"))
    assert counts(db_url) == (3, 1)


def test_a_database_of_the_previous_schema_upgrades_with_its_evidence(tmp_path, scheme_2017):
    """A SQLite database at migration 0005 holding evidence: opened by this version, 0006 drops the
    redundant index and keeps every row and both foreign keys."""
    import sqlite3

    from alembic import command
    from alembic.config import Config

    from scoring.store import db as dbmod

    url = f"sqlite:///{tmp_path / 'old.db'}"
    do_import(url, scheme_2017, GOOD)
    dbmod.dispose(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(dbmod._MIGRATIONS))
    with dbmod.create_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    old = sqlite3.connect(tmp_path / "old.db")
    assert "ix_evidence_scheme_id" in {r[1] for r in old.execute("PRAGMA index_list(evidence)")}
    old.close()
    assert counts(url) == (3, 1)  # opening it upgrades it again
    new = sqlite3.connect(tmp_path / "old.db")
    assert sorted((r[2], r[3], r[4]) for r in new.execute("PRAGMA foreign_key_list(evidence)")) == [
        ("import_batch", "batch_id", "id"), ("scheme", "scheme_id", "id")]
    assert "ix_evidence_scheme_id" not in {r[1] for r in new.execute("PRAGMA index_list(evidence)")}
    new.close()
