"""The command line as a user runs it: the score columns the README lists, formats, and errors without tracebacks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.cli import clean_env
from tests.cli import gongkai as run_cli
from tests.conftest import SCHEME_2017

CASE_SCHEME = """\
scheme:
  id: t
  title: t
  issued: 2017-05-04
  period: {start: 2017-01-01, end: 2017-12-31}
  transparency_share: 0.04
  grades: [{name: 優秀, min: 90}, {name: 合格, min: 60}, {name: 不合格, min: 0}]
bodies:
  - {id: jinan, name: 濟南市, kind: city}
  - {id: qingdao, name: 青島市, kind: city}
obligations:
  - id: "1"
    section: [一]
    title: plan
    source: 30個工作日內
    applies_to: [city]
    points: 10
    rules: [{kind: deadline, due: {after: issued, within: {working_days: 30}}}]
"""


SMALL_SCHEME = CASE_SCHEME.replace("  - {id: jinan, name: 濟南市, kind: city}\n  - {id: qingdao, name: 青島市, kind: city}",
                                   "  - {id: fgw, name: 省發展改革委, kind: department}").replace(
    "    applies_to: [city]\n    points: 10\n    rules: [{kind: deadline, due: {after: issued, within: {working_days: 30}}}]",
    "    leads: [fgw]\n    points: 10\n    rules: [{kind: periodic, frequency: monthly, within: {days: 10}}]")


def gongkai(*args: str) -> subprocess.CompletedProcess:
    return run_cli(*args)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    scheme = tmp_path / "t.yaml"
    scheme.write_text(CASE_SCHEME, encoding="utf-8")
    ev = tmp_path / "e.csv"
    ev.write_bytes("單位,任務編號,發佈時間\n濟南,1,2017-06-16\n青島市,1,2017-06-19\n".encode("gb18030"))
    return scheme, ev


def test_criteria_check_2017():
    r = gongkai("criteria", "check", str(SCHEME_2017))
    assert r.returncode == 0
    assert "17 cities" in r.stdout and "50 departments" in r.stdout and "40 with" in r.stdout and "106 points" in r.stdout


def test_criteria_check_fault(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(CASE_SCHEME.replace("0.04", "0.03"), encoding="utf-8")
    r = gongkai("criteria", "check", str(bad))
    assert r.returncode == 1
    assert "transparency_share 0.03 is below min_transparency_share 0.04" in r.stderr
    assert "Traceback" not in r.stderr


def test_score_body_csv(files):
    scheme, ev = files
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["body"], x["name"], x["kind"], x["score"], x["rank"], x["grade"]) for x in rows] == [
        ("jinan", "濟南市", "city", "100.00", "1", "優秀"),
        ("qingdao", "青島市", "city", "50.00", "2", "不合格")]


def test_score_levels_have_spec_columns(files):
    scheme, ev = files
    ob = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), "--level", "obligation", "--format", "csv")
    assert ob.stdout.splitlines()[0] == "body,obligation,points,earned,gap,status"
    f = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), "--level", "finding", "--format", "json")
    records = json.loads(f.stdout)
    assert list(records[1]) == ["body", "obligation", "rule", "item", "due", "published_at", "outcome",
                                "credit", "deduction"]
    assert records[1] | {} == {"body": "qingdao", "obligation": "1", "rule": "deadline", "item": "deadline",
                               "due": "2017-06-16", "published_at": "2017-06-19", "outcome": "late",
                               "credit": 0.5, "deduction": 0.0}


def test_as_of_leaves_out_items_not_yet_due(files):
    scheme, ev = files
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), "--as-of", "2017-06-01",
                "--level", "obligation", "--format", "csv")
    assert [line.split(",")[-1] for line in r.stdout.splitlines()[1:]] == ["na", "na"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "yesterday"], "--as-of 'yesterday' is not a date"),
        (["--level", "city"], "--level 'city' is not one of: body, obligation, finding"),
        (["--format", "pdf"], "--format 'pdf' is not one of: table, csv, json"),
    ],
)
def test_bad_options(files, args, message):
    scheme, ev = files
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(ev), *args)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_bad_evidence_names_row_and_scores_nothing(files, tmp_path):
    scheme, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("body,obligation,published_at\njinan,1,2017-06-16\n上海,1,2017-06-01\n", encoding="utf-8")
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(bad))
    assert r.returncode == 1
    assert "row 3, column body, value '上海': unknown body" in r.stderr
    assert r.stdout == ""


def test_missing_file_is_a_message(files, tmp_path):
    scheme, _ = files
    r = gongkai("score", "--scheme", str(scheme), "--evidence", str(tmp_path / "nope.csv"))
    assert r.returncode == 1 and "cannot read" in r.stderr and "Traceback" not in r.stderr


def test_score_several_evidence_files_a_later_file_restates_an_item(tmp_path):
    """Issue 11: --evidence several times reads the files in order, as importing them would."""
    from scoring import workflows

    scheme = tmp_path / "s.yaml"  # issued at the period's start: 2017-03-31 is an assessment date it can mean
    scheme.write_text(SMALL_SCHEME.replace("issued: 2017-05-04", "issued: 2017-01-01"), encoding="utf-8")
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("body,obligation,period,published_at\nfgw,1,2017-01,2017-02-05\nfgw,1,2017-02,2017-03-20\n",
                     encoding="utf-8")
    second.write_text("body,obligation,period,published_at\nfgw,1,2017-02,2017-03-05\n", encoding="utf-8")
    card = workflows.score_files(scheme, [first, second], dt.date(2017, 3, 31))
    f = card.findings.set_index("item")
    assert f.loc["2017-01", "outcome"] == "on_time"  # only in the first file: kept
    assert (f.loc["2017-02", "published_at"], f.loc["2017-02", "outcome"]) == (pd.Timestamp("2017-03-05"), "on_time")
    card = workflows.score_files(scheme, [second, first], dt.date(2017, 3, 31))
    assert card.findings.set_index("item").loc["2017-02", "outcome"] == "late"  # a.csv, read last, restates it


def test_errors_print_no_markup(files, tmp_path):
    scheme, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("body,obligation,published_at\n上海,1,2017-06-16\n", encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(CASE_SCHEME.replace("0.04", "0.03"), encoding="utf-8")
    for r in (gongkai("score", "--scheme", str(scheme), "--evidence", str(scheme), "--as-of", "soon"),
              gongkai("score", "--scheme", str(scheme), "--evidence", str(bad)),
              gongkai("criteria", "check", str(broken))):
        assert r.returncode == 1
        assert r.stderr.startswith("error: ") and "[bold" not in r.stderr and "[/]" not in r.stderr
    assert ": 1 problem; nothing was imported" in gongkai("score", "--scheme", str(scheme), "--evidence", str(bad)).stderr
    assert ": 1 fault" in gongkai("criteria", "check", str(broken)).stderr


def gongkai_env(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run_cli(*args, env=clean_env(**env))


def test_empty_listings_say_so(tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    assert gongkai_env("runs", "list", "--db", db).stdout == "no scoring runs stored yet\n"
    assert gongkai_env("audit", "--db", db).stdout == "no audit entries\n"
    assert gongkai_env("user", "list", "--db", db).stdout == "no accounts: the database is open\n"


def test_scoring_unchanged_evidence_twice_stores_one_run_and_viewers_may_score(tmp_path):
    db = f"sqlite:///{tmp_path / 'd.db'}"
    assert gongkai_env("demo", "--db", db).returncode == 0
    first = gongkai_env("score", "--db", db, "--format", "csv")
    second = gongkai_env("score", "--db", db, "--format", "csv")
    assert first.returncode == second.returncode == 0 and first.stdout == second.stdout
    assert "scoring run 1 " in first.stderr and "scoring run 1 " in second.stderr
    runs = gongkai_env("runs", "list", "--db", db).stdout.splitlines()
    assert len(runs) == 2  # a header and one run
    # a viewer sees the rankings from the command line, as in the dashboard
    assert gongkai_env("user", "add", "boss", "--role", "admin", "--db", db, GONGKAI_NEW_PASSWORD="admin-pass-1").returncode == 0
    assert gongkai_env("user", "add", "v", "--role", "viewer", "--db", db, GONGKAI_NEW_PASSWORD="viewer-pass-1",
                       GONGKAI_USER="boss", GONGKAI_PASSWORD="admin-pass-1").returncode == 0
    viewer = gongkai_env("score", "--db", db, "--format", "csv", GONGKAI_USER="v", GONGKAI_PASSWORD="viewer-pass-1")
    assert viewer.returncode == 0, viewer.stderr
    assert viewer.stdout == first.stdout
    assert len(gongkai_env("runs", "list", "--db", db, GONGKAI_USER="v", GONGKAI_PASSWORD="viewer-pass-1")
               .stdout.splitlines()) == 2


def test_progress_shows_on_a_terminal_only(tmp_path):
    import os
    import pty
    import threading

    db = f"sqlite:///{tmp_path / 'd.db'}"
    assert gongkai_env("demo", "--db", db).returncode == 0
    args = ["report", "--db", db, "--out", str(tmp_path / "r.xlsx")]
    piped = gongkai_env(*args)
    assert piped.returncode == 0 and piped.stderr == ""  # piped: no progress lines
    main, tty = pty.openpty()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    seen = bytearray()

    def drain() -> None:  # read while it runs: a full terminal buffer would block the command
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    done = subprocess.run([sys.executable, "-m", "scoring.cli", *args], stdout=subprocess.DEVNULL, stderr=tty,
                          stdin=subprocess.DEVNULL, env={**clean, "COLUMNS": "120"}, timeout=120)
    os.close(tty)
    reader.join(timeout=10)
    os.close(main)
    assert done.returncode == 0
    assert b"writing r.xlsx" in seen


def test_serve_settings_are_the_clis():
    """`gongkai serve` passes its Streamlit settings itself (from any directory): the upload limit is
    the import limit, and there is no Deploy button or developer menu."""
    from scoring.cli import SERVE_OPTIONS
    from scoring.intake.tables import MAX_FILE_BYTES

    options = dict(zip(SERVE_OPTIONS[::2], SERVE_OPTIONS[1::2], strict=True))
    assert int(options["--server.maxUploadSize"]) * 1024 * 1024 == MAX_FILE_BYTES
    assert options["--client.toolbarMode"] == "minimal"


@pytest.mark.parametrize(("args", "message"), [
    (["synth", "--rows", "abc", "--out", "x.csv"], "Invalid value for '--rows': Input should be a valid integer"),
    (["robustness", "--draws", "0"], "Invalid value for '--draws': Input should be greater than or equal to 1"),
    (["score", "--bogus"], "No such option: --bogus"),
])
def test_a_bad_option_value_is_a_message_not_a_traceback(args, message):
    """Typer ≥ 0.29 raises its own copy of click's errors for option values; each is the usage line
    and the value's fault, exit 2 (a traceback in 0.29 before the fix)."""
    r = gongkai(*args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
