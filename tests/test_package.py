"""The project as `pip install` gives it, away from the checkout: the wheel carries the 2017 scheme,
the migrations, the report templates and the dashboard pages, and `gongkai demo` works from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return next(out.glob("gongkai-*.whl"))


def test_wheel_holds_the_data_gongkai_needs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("criteria/shandong-2017.yaml", "criteria/website-2019.yaml", "scoring/inspect/judge.py", "criteria/source/2017-shandong-zhengwu-gongkai-yaodian.txt",
                   "scoring/store/migrations/versions/0001_initial.py", "scoring/report/templates/report.docx",
                   "scoring/report/templates/report.html.j2", "dashboard/app.py", "dashboard/app_pages/rankings.py"):
        assert needed in names, needed


def test_demo_runs_from_the_installed_package(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-c", "import scoring, sys; print(scoring.SCHEME_FILE); "
                        "sys.argv = ['gongkai', 'demo', '--db', 'sqlite:///demo.db']; from scoring.cli import main; main()"],
                       cwd=elsewhere, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert str(target) in r.stdout.splitlines()[0]  # the scheme came from the installed package
    assert "synthetic evidence rows" in r.stdout
