"""The kept files beside a database's snapshots (`derived/`) are a cache of bounded size: the least
recently used go first, a file read counts as used, the one just kept stays, and a bad limit is said."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

from scoring.errors import GongkaiError
from scoring.store import kept
from scoring.store import repository as repo

MB = 1024 * 1024


def _keep(root, name: str, size: int, age: float):
    at = root / kept.FOLDER / name
    assert kept.put(at, lambda tmp: tmp.write_bytes(b"x" * size))
    when = time.time() - age
    os.utime(at, (when, when))
    return at


def test_the_least_recently_used_files_go_first(tmp_path, monkeypatch):
    monkeypatch.setenv(kept.LIMIT, "3")   # MB
    old, older = _keep(tmp_path, "a.csv", MB, age=300), _keep(tmp_path, "charts/b.png", MB, age=400)
    fresh = _keep(tmp_path, "c.parquet", MB, age=100)
    kept.used(older)                      # read again just now: the last to go
    new = _keep(tmp_path, "d.csv", MB, age=0)
    assert [p.exists() for p in (old, older, fresh, new)] == [False, True, True, True]
    monkeypatch.setenv(kept.LIMIT, "0")   # nothing but what is kept now
    last = _keep(tmp_path, "e.csv", 10, age=0)
    assert sorted(p.name for p in (tmp_path / kept.FOLDER).rglob("*") if p.is_file()) == [last.name]


def test_a_frame_pruned_is_worked_out_again(tmp_path, monkeypatch):
    monkeypatch.setenv(kept.LIMIT, "0")
    a, b = tmp_path / kept.FOLDER / "a.parquet", tmp_path / kept.FOLDER / "b.parquet"
    frame = pd.DataFrame({"x": [1, 2]})
    assert repo.derived(a, lambda: frame).equals(frame) and a.exists()
    repo.derived(b, lambda: frame)
    assert not a.exists() and b.exists()
    assert repo.derived(a, lambda: frame.assign(x=[3, 4]))["x"].tolist() == [3, 4]   # computed, not read


def test_nothing_half_written_is_left_and_a_bad_limit_is_said(tmp_path, monkeypatch):
    def fails(tmp):
        tmp.write_bytes(b"half")
        raise OSError("No space left on device")
    assert not kept.put(tmp_path / kept.FOLDER / "a.csv", fails)
    assert list((tmp_path / kept.FOLDER).iterdir()) == []
    monkeypatch.setenv(kept.LIMIT, "two GB")
    with pytest.raises(GongkaiError, match="GONGKAI_DERIVED_MAX_MB='two GB': not a number of megabytes"):
        kept.put(tmp_path / kept.FOLDER / "b.csv", lambda tmp: tmp.write_bytes(b"x"))
    assert list((tmp_path / kept.FOLDER).iterdir()) == []   # said before anything is written


def test_a_bad_limit_refuses_a_publish_before_it_is_published(tmp_path, monkeypatch):
    import datetime as dt

    from scoring import workflows
    from scoring.store.accounts import Actor

    url, actor = f"sqlite:///{tmp_path / 'r.db'}", Actor("t", None)
    workflows.load_demo(url, actor=actor)
    monkeypatch.setenv(kept.LIMIT, "-1")
    with pytest.raises(GongkaiError, match="cannot be negative"):
        workflows.publish(url, actor=actor, stage="preliminary", today=dt.date(2018, 1, 5))
    assert workflows.publications(url, actor=actor) == []


def test_a_bad_limit_is_said_by_a_report_whose_parts_are_all_kept(tmp_path, monkeypatch):
    """A report of a published result keeps nothing new, yet a bad limit is still said, not ignored."""
    import datetime as dt

    from scoring import workflows
    from scoring.store.accounts import Actor

    url, actor = f"sqlite:///{tmp_path / 'r.db'}", Actor("t", None)
    workflows.load_demo(url, actor=actor)
    workflows.publish(url, actor=actor, stage="preliminary", today=dt.date(2018, 1, 5))
    monkeypatch.setenv(kept.LIMIT, "lots")
    for write in (lambda: workflows.write_report(url, actor=actor, outs=[tmp_path / "r.html"]),
                  lambda: workflows.write_rectifications(url, actor=actor, out=tmp_path / "rect")):
        with pytest.raises(GongkaiError, match="GONGKAI_DERIVED_MAX_MB='lots'"):
            write()
    assert not (tmp_path / "r.html").exists()
