"""Peak memory of a whole `gongkai import` against the evidence file's size (issue 27 #4).

Each file is checked as its own process (peak RSS by /usr/bin/time): `--dry-run` read in parts (a
CSV larger than the part size, `scoring.intake.parts`), `--dry-run` read whole
(`GONGKAI_IMPORT_PART_BYTES` above the file's size: what every import did before; only up to 200 MB —
at 500 MB it needs ~4–5 GB), and stored for real, in parts, into a fresh SQLite database. Peak RSS (MB),
wall time, rows and file size go to `extra_info`; the timed figure is the dry run in parts. Tiny under
plain `pytest` (a small file with small parts, so the path is exercised); `GONGKAI_BENCH=full` runs
files of 100 and 200 MB, `GONGKAI_BENCH_IMPORT_500=1` also 500 MB (minutes and GBs: off by default).
Figures: docs/performance.md, "Import memory"."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scoring import workflows
from scoring.store.accounts import Actor
from scoring.synthetic import synth
from tests.benchmarks.conftest import FULL

MB = 1 << 20
BYTES_PER_ROW = 41.4  # the synthetic nation's rows (`gongkai synth`): 44 MB for 1.06M rows
SIZES = ([100, 200] + ([500] if os.environ.get("GONGKAI_BENCH_IMPORT_500") else [])) if FULL else [1]
WHOLE_UP_TO_MB = 200  # read whole, a larger file needs GBs
TINY_PARTS = {} if FULL else {"GONGKAI_IMPORT_PART_BYTES": str(128 * 1024)}


@pytest.fixture(scope="module", params=SIZES, ids=[f"{s}MB" for s in SIZES])
def sized_file(request, tmp_path_factory) -> tuple[Path, str]:
    """An evidence CSV of about the size (MB) and a SQLite database holding its scheme."""
    folder = tmp_path_factory.mktemp(f"import{request.param}")
    scheme = synth.for_rows(max(40_000, int(request.param * MB / BYTES_PER_ROW)))
    (folder / "nation.yaml").write_text(scheme.text, encoding="utf-8")
    synth.write_csv(scheme, synth.evidence(scheme), folder / "evidence.csv")
    db = f"sqlite:///{folder / 'g.db'}"
    workflows.load_scheme_file(db, actor=Actor("bench", None), path=folder / "nation.yaml")
    return folder / "evidence.csv", db


def _import(file: Path, db: str, env: dict[str, str], *, dry_run: bool = True) -> tuple[float, float, str]:
    """(peak RSS in MB, wall seconds, stdout) of `gongkai import FILE [--dry-run]` as its own process."""
    with tempfile.NamedTemporaryFile("r", suffix=".kb") as out:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, sys.executable, "-m", "scoring.cli",
                               "import", str(file), *(["--dry-run"] if dry_run else []), "--db", db],
                              capture_output=True, text=True, env=os.environ | env, check=False)
        wall = time.perf_counter() - started
        assert done.returncode == 0, done.stderr
        return round(int(out.read().split()[-1]) / 1024, 1), round(wall, 2), done.stdout


@pytest.mark.skipif(not Path("/usr/bin/time").exists(), reason="peak RSS is read by /usr/bin/time")
def test_import_memory(benchmark, sized_file):
    file, db = sized_file
    size = file.stat().st_size
    rows = file.read_bytes().count(b"\n") - 1
    result: dict[str, tuple[float, float, str]] = {}

    def parts() -> None:
        result["parts"] = _import(file, db, TINY_PARTS)

    benchmark.pedantic(parts, rounds=1, iterations=1)
    parts_rss, parts_wall, parts_out = result["parts"]
    assert f"{rows} rows valid; would import {rows} new" in parts_out
    info = dict(file_mb=round(size / MB, 1), rows=rows, parts_peak_rss_mb=parts_rss, parts_wall_s=parts_wall)
    if size <= WHOLE_UP_TO_MB * 1.1 * MB:
        whole_rss, whole_wall, whole_out = _import(file, db, {"GONGKAI_IMPORT_PART_BYTES": str(size + 1)})
        assert whole_out == parts_out
        info.update(whole_peak_rss_mb=whole_rss, whole_wall_s=whole_wall)
    stored = f"sqlite:///{file.with_name('stored.db')}"  # a fresh database for each run (a rerun re-imports)
    Path(stored.removeprefix("sqlite:///")).unlink(missing_ok=True)
    workflows.load_scheme_file(stored, actor=Actor("bench", None), path=file.with_name("nation.yaml"))
    stored_rss, stored_wall, stored_out = _import(file, stored, TINY_PARTS, dry_run=False)
    assert f"{rows} new" in stored_out
    info.update(stored_peak_rss_mb=stored_rss, stored_wall_s=stored_wall)
    benchmark.extra_info.update(info)
    print(info)
