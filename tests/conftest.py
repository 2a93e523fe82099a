"""Shared fixtures: the 2017 scheme, its demo evidence, and small schemes built from a default header."""

from __future__ import annotations

import copy
import os
import sys
import tempfile
import types
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scoring.method.scheme import Scheme, parse_scheme

ROOT = Path(__file__).resolve().parents[1]
SCHEME_2017 = ROOT / "criteria" / "shandong-2017.yaml"
SOURCE = ROOT / "criteria" / "source" / "2017-shandong-zhengwu-gongkai-yaodian.txt"

# argon2's cheapest profile for the accounts tests make (hundreds of hashes and sign-ins); the default
# profile is tested on its own (test_accounts.py::test_passwords_are_argon2_hashes)
os.environ.setdefault("GONGKAI_PASSWORD_HASH", "cheapest")

# the cycle's clock (scoring.workflows.cycle._clock): fixed, so no test depends on the day it runs — the
# Monday after the 2017 demo's assessment date. Tests of other days set their own; a test that needs the
# real clock removes it and says so (test_calendar.py::test_the_real_clock_runs_the_cycle_whatever_the_day).
CLOCK = "2018-02-05T10:00+08:00"
os.environ["GONGKAI_CLOCK"] = CLOCK

HEADER = {
    "id": "case",
    "title": "test case",
    "issued": "2017-05-04",
    "period": {"start": "2017-01-01", "end": "2017-12-31"},
    "transparency_share": 0.04,
    "grades": [{"name": "優秀", "min": 90}, {"name": "良好", "min": 75},
               {"name": "合格", "min": 60}, {"name": "不合格", "min": 0}],
}


def make_scheme(header: dict | None = None, bodies: list | None = None,
                obligations: list | None = None) -> Scheme:
    """A scheme from the default header (overridden by `header`), bodies and obligations."""
    doc = {"scheme": {**copy.deepcopy(HEADER), **(header or {})},
           "bodies": bodies or [], "obligations": obligations or []}
    for o in doc["obligations"]:
        o.setdefault("section", ["一"])
        o.setdefault("title", f"obligation {o['id']}")
        o.setdefault("source", "—")
    return parse_scheme(yaml.safe_dump(doc, allow_unicode=True), "case")



@pytest.fixture(autouse=True)
def _plain_main(monkeypatch):
    """A process a test starts by spawn or forkserver (the crawl's page readers, the 整改通知书 pool)
    runs the parent's `__main__` again from its file; under the full suite a dashboard test
    (Streamlit's AppTest) leaves dashboard/app.py there, and the child dies re-running the app. A
    user's `__main__` is the CLI's entry point or a guarded script: each test stands in for one."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))

@pytest.fixture(scope="session")
def scheme_2017() -> Scheme:
    from scoring.method.scheme import load_scheme

    return load_scheme(SCHEME_2017)


@pytest.fixture(scope="session")
def demo_evidence(scheme_2017):
    from scoring.intake.evidence import validate
    from scoring.intake.tables import read_table
    from scoring.synthetic import demo

    data = demo.generate(scheme_2017).to_csv(index=False).encode("utf-8")
    return validate(read_table(data, "demo.csv"), scheme_2017, "demo.csv")


os.environ.setdefault("GONGKAI_CACHE_DIR", tempfile.mkdtemp(prefix="gongkai-test-cache-"))  # parsed schemes (scoring.intake.schemes)

PG = os.environ.get("GONGKAI_TEST_POSTGRES_URL")


def fresh_database(kind: str, folder: Path) -> tuple[str, Callable[[], None]]:
    """A new empty SQLite file or PostgreSQL database (from GONGKAI_TEST_POSTGRES_URL): (url, drop)."""
    from scoring.store.db import dispose

    if kind == "sqlite":
        url = f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}"
        return url, lambda: dispose(url)
    if not PG:
        pytest.skip("GONGKAI_TEST_POSTGRES_URL not set")
    import psycopg

    name, admin = f"gongkai_test_{uuid.uuid4().hex[:10]}", PG.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        dispose(url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return url, drop


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """An empty database on each backend: SQLite, and PostgreSQL when configured (CI always)."""
    url, drop = fresh_database(request.param, tmp_path)
    yield url
    drop()
