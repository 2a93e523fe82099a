"""Dashboard interactions on the 2017 province with a warm cache (each page rerun, a city switch)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PAGES = ["rankings", "gaps", "departments", "evidence", "import_evidence", "scheme"]


@pytest.fixture(scope="module")
def warm_app(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GONGKAI_DATABASE_URL", f"sqlite:///{tmp_path_factory.mktemp('bench') / 'd.db'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    for name in PAGES:
        at.switch_page(f"app_pages/{name}.py").run()
    yield at
    mp.undo()


@pytest.mark.parametrize("name", PAGES)
def test_page_rerun(benchmark, warm_app, name):
    warm_app.switch_page(f"app_pages/{name}.py")
    at = benchmark(warm_app.run)
    assert not at.exception


def test_switch_city(benchmark, warm_app):
    at = warm_app.switch_page("app_pages/gaps.py").run()
    cities = iter(["linyi", "jinan", "heze", "laiwu", "qingdao"] * 20)
    benchmark(lambda: at.selectbox[0].set_value(next(cities)).run())
    assert not at.exception
