"""Every export of a final result beside `score` on the same database in the same run: the annual
report (xlsx, docx, html, pdf), the 整改通知書 of every body with a problem, and the 通報.

Under plain `pytest` a small nation, each benchmark once and untimed; `GONGKAI_BENCH=full` the
national scale (3,237 bodies, 1,055,024 evidence rows; `gongkai synth --rows 1000000`), imported,
scored and published (preliminary, then final) once per run:

    GONGKAI_BENCH=full .venv/bin/pytest tests/benchmarks/test_bench_documents.py --benchmark-enable \
        --benchmark-only -p no:xdist

Targets (issue 26): report ≤ 5× score per format, rectify ≤ 10× score, notice ≤ 2× score; the
figures are in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from scoring import workflows
from scoring.store import repository as repo
from scoring.store.accounts import Actor
from tests.benchmarks.conftest import FULL
from tests.conftest import fresh_database

LOCAL = Actor("bench", None)
# each export as often as `score` (its best of 3 against theirs); the first round of a report renders
# its charts (kept by what they draw: later rounds copy them), so a report's max is its cold figure
ROUNDS = 3 if FULL else 1
DAY = dt.date(2018, 2, 1)


@pytest.fixture(scope="module")
def published(national, tmp_path_factory):
    """A database holding the nation's evidence with its final result published."""
    scheme, data, _ = national
    folder = tmp_path_factory.mktemp("documents")
    (folder / "nation.yaml").write_text(scheme.text, encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv(repo.SNAPSHOTS, str(folder / "snapshots"))
    mp.setenv("GONGKAI_ATTACHMENTS", str(folder / "store"))
    url, drop = fresh_database("sqlite", folder)
    workflows.load_scheme_file(url, actor=LOCAL, path=folder / "nation.yaml")
    workflows.import_file(url, actor=LOCAL, name="evidence.csv", data=data)
    workflows.publish(url, actor=LOCAL, stage="preliminary", today=DAY)
    workflows.publish(url, actor=LOCAL, stage="final", today=DAY)
    yield url, folder
    drop()
    mp.undo()


def test_score(benchmark, published):
    """`score --db`: the yardstick the documents are measured against."""
    url, _ = published
    card, _ = benchmark.pedantic(workflows.score_current, args=(url,), kwargs={"actor": LOCAL}, rounds=ROUNDS,
                                 iterations=1)
    benchmark.extra_info["bodies"] = len(card.scores)
    assert card.scores["score"].notna().all()


@pytest.mark.parametrize("fmt", [".xlsx", ".docx", ".html", ".pdf"])
def test_report(benchmark, published, fmt):
    """`report --out r<fmt>`: the run, the model of every body, the file."""
    url, folder = published
    path = folder / f"r{fmt}"
    done = benchmark.pedantic(workflows.write_report, args=(url,), kwargs={"actor": LOCAL, "outs": [path]},
                              rounds=ROUNDS, iterations=1)
    assert done.failed == [] and path.stat().st_size > 0


def test_rectify(benchmark, published):
    """`rectify --out DIR`: one 整改通知書 (.docx) per body with a problem of the final result."""
    url, folder = published
    rounds = iter(range(ROUNDS))

    def run():   # each round into a new folder, as a user writes them: deleting the last round's 3,237
        return workflows.write_rectifications(url, actor=LOCAL, out=folder / f"rectify-{next(rounds)}")
    written = benchmark.pedantic(run, rounds=ROUNDS, iterations=1)   # files slowed the next round's creating
    for n in range(ROUNDS):                                           # them (ext4 discarding the freed blocks)
        shutil.rmtree(folder / f"rectify-{n}")
    benchmark.extra_info["documents"] = len(written)
    assert len(written) == len(set(workflows.problems(url, actor=LOCAL)["body"])) > 0


@pytest.mark.parametrize("fmt", [".docx", ".pdf"])
def test_notice(benchmark, published, fmt):
    """`notice --out n<fmt>`: the 通報 of the final result."""
    url, folder = published
    path = benchmark.pedantic(workflows.write_notice, args=(url,), kwargs={"actor": LOCAL, "out": folder / f"n{fmt}"},
                              rounds=ROUNDS, iterations=1)
    assert path.stat().st_size > 0
