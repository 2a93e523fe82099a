"""Whole commands on evidence FILES, each beside its peer in the same run (issue 13):

- `gongkai score --scheme S --evidence F` (scheme file read, CSV read and validated, scored, the
  table printed) beside a DuckDB pipeline reading the same scheme YAML and CSV and scoring in SQL;
- `gongkai import` of a file whose every row is invalid (refused, problems file written) beside the
  same command's `--dry-run` of the valid file of the same size (read, validated, diffed, nothing
  stored).

Scoring runs with two schemes for the same file: the nation's (3,237 bodies) and a 21,700-body one
(`gongkai synth --counties 21307`: the extra counties have no evidence, so every item of theirs is
missing). Timed in-process (best of ROUNDS); peak RSS of each as a subprocess in `extra_info`. Tiny and
untimed under plain `pytest`; `GONGKAI_BENCH=full` runs the 1M-row nation (`gongkai synth --rows
1000000`), `GONGKAI_BENCH_ROWS=10000000` as well the 10M one. Figures: docs/performance.md,
"Whole commands: evidence files"."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from scoring import cli, workflows
from scoring.report.output import render
from scoring.store.accounts import Actor
from scoring.synthetic import synth
from tests.benchmarks.conftest import FULL

duckdb_peer = pytest.importorskip("tests.benchmarks.duckdb_peer")
ROWS = int(os.environ.get("GONGKAI_BENCH_ROWS", 1_000_000)) if FULL else 0
ROUNDS = (3 if ROWS <= 1_000_000 else 1) if FULL else 1
SCHEMES = ["nation.yaml", "big.yaml"]  # 3,237 and 21,700 bodies at full size
LOCAL = Actor("bench", None)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """The nation's scheme YAML, its evidence CSV, the same CSV with every row's obligation unknown,
    and a SQLite database holding the scheme: on disk as a user has them."""
    folder = tmp_path_factory.mktemp("files")
    scheme = synth.for_rows(ROWS) if ROWS else synth.national(cities=12, counties=36, departments=40)
    (folder / "nation.yaml").write_text(scheme.text, encoding="utf-8")
    big = synth.for_rows(ROWS, 21307) if ROWS else synth.national(cities=12, counties=150, departments=40)
    (folder / "big.yaml").write_text(big.text, encoding="utf-8")
    synth.write_csv(scheme, synth.evidence(scheme), folder / "evidence.csv")
    db = f"sqlite:///{folder / 'g.db'}"
    workflows.load_scheme_file(db, actor=LOCAL, path=folder / "nation.yaml")
    (folder / "db").write_text(db)
    return folder


def _peak_rss_mb(*argv: str) -> float | None:
    """Peak resident memory of a command run as its own process (MB), by /usr/bin/time (a child
    forked from this large process would count this process's pages); full size only."""
    if not FULL or not Path("/usr/bin/time").exists():
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".kb") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, sys.executable, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        return round(int(out.read().split()[-1]) / 1024, 1)


def _score_command(scheme: Path, evidence: Path) -> str:
    """What `gongkai score --scheme --evidence` does after start-up: score and print the table."""
    return render(workflows.score_files(scheme, [evidence]), "body", "table")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_score_files(benchmark, files, scheme):
    rows = (files / "evidence.csv").read_bytes().count(b"\n") - 1
    benchmark.extra_info.update(rows=rows, peak_rss_mb=_peak_rss_mb(
        "-m", "scoring.cli", "score", "--scheme", str(files / scheme), "--evidence", str(files / "evidence.csv")))
    text = benchmark.pedantic(_score_command, args=(files / scheme, files / "evidence.csv"),
                              rounds=ROUNDS, iterations=1, warmup_rounds=1 if FULL and ROUNDS > 1 else 0)
    assert text.count("\n") > 10


@pytest.mark.parametrize("scheme", SCHEMES)
def test_duckdb_score_files(benchmark, files, scheme):
    tables = duckdb_peer.file_tables(files / scheme)
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb(
        "-m", "tests.benchmarks.duckdb_peer", str(files / scheme), str(files / "evidence.csv"))
    result = benchmark.pedantic(duckdb_peer.duckdb_file_scores, args=(files / scheme, files / "evidence.csv", tables),
                                rounds=ROUNDS, iterations=1, warmup_rounds=1 if FULL and ROUNDS > 1 else 0)
    assert len(result) > 0


def _import(argv: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            contextlib.suppress(SystemExit, workflows.ImportRefused):
        cli.app(argv, standalone_mode=False)


def _bad_file(files: Path) -> Path:
    """The evidence file with every row's obligation unknown (`sed '1!s/,/,X/'`)."""
    bad = files / "bad.csv"
    if not bad.exists():
        with (files / "evidence.csv").open(encoding="utf-8") as src, bad.open("w", encoding="utf-8") as out:
            out.write(next(src))
            out.writelines(row.replace(",", ",X", 1) for row in src)
    return bad


def test_refused_file(benchmark, files):
    """Every row invalid: refused, every row in the problems file (linear in the rows)."""
    _bad_file(files)
    db = (files / "db").read_text()
    argv = ["import", str(files / "bad.csv"), "--db", db, "--report", str(files / "bad.problems.csv")]
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb("-m", "scoring.cli", *argv)
    benchmark.pedantic(_import, args=(argv,), rounds=ROUNDS, iterations=1)
    report = (files / "bad.problems.csv").read_bytes()
    assert report.count(b"\n") == (files / "bad.csv").read_bytes().count(b"\n")  # header + every row


def test_valid_file_dry_run(benchmark, files):
    """The peer of the refused file: the valid file of the same size, read, validated and diffed."""
    db = (files / "db").read_text()
    argv = ["import", str(files / "evidence.csv"), "--dry-run", "--db", db]
    benchmark.extra_info["peak_rss_mb"] = _peak_rss_mb("-m", "scoring.cli", *argv)
    benchmark.pedantic(_import, args=(argv,), rounds=ROUNDS, iterations=1)
