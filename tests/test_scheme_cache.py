"""Parsed schemes kept by sha256 (scoring.intake.schemes): the same scheme as parsing the file,
a changed file parsed again, a broken entry ignored, faults reported as without the cache."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring import SCHEME_FILE
from scoring.errors import SchemeError
from scoring.intake import schemes
from scoring.method.scheme import load_scheme


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "schemes"


def test_a_cached_scheme_is_the_parsed_one(cache, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(SCHEME_FILE.read_bytes().replace(b"\n", b"\r\n"))  # CRLF reads as the parser reads it
    first = schemes.load_scheme_cached(path)
    assert len(list(cache.glob("*.pickle"))) == 1
    again = schemes.load_scheme_cached(path)
    assert again == first == load_scheme(path)
    assert again.sha256 == load_scheme(path).sha256


def test_an_edited_file_is_parsed_again(cache, tmp_path):
    path = tmp_path / "s.yaml"
    text = SCHEME_FILE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    before = schemes.load_scheme_cached(path)
    path.write_text(text.replace("points: 2\n", "points: 3\n", 1), encoding="utf-8")
    after = schemes.load_scheme_cached(path)
    assert after.sha256 != before.sha256 and after == load_scheme(path)
    assert len(list(cache.glob("*.pickle"))) == 2


def test_a_broken_entry_is_parsed_again(cache, tmp_path):
    schemes.load_scheme_cached(SCHEME_FILE)
    (entry,) = cache.glob("*.pickle")
    entry.write_bytes(b"not a pickle")
    assert schemes.load_scheme_cached(SCHEME_FILE) == load_scheme(SCHEME_FILE)


def test_faults_are_reported_and_not_kept(cache, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scheme: {}\nbodies: []\nobligations: []\n", encoding="utf-8")
    with pytest.raises(SchemeError) as cached:
        schemes.load_scheme_cached(path)
    with pytest.raises(SchemeError) as plain:
        load_scheme(path)
    assert str(cached.value) == str(plain.value)
    assert not cache.exists() or not list(cache.glob("*.pickle"))
    with pytest.raises(SchemeError, match="cannot read"):
        schemes.load_scheme_cached(tmp_path / "missing.yaml")


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_CACHE_DIR", "")
    assert schemes.cache_dir() is None
    assert schemes.load_scheme_cached(SCHEME_FILE) == load_scheme(SCHEME_FILE)


def test_a_stored_scheme_is_read_through_the_same_cache(cache, tmp_path, monkeypatch):
    """A database's scheme is parsed once per text (a new dashboard process does not parse a national
    scheme again), under the entry the same file has, and a broken entry is parsed again."""
    from scoring import workflows
    from scoring.method import scheme as scheme_module
    from scoring.store.accounts import Actor

    url, who = f"sqlite:///{tmp_path / 'c.db'}", Actor("t", None)
    workflows.load_scheme_file(url, actor=who, path=SCHEME_FILE)
    calls: list[str] = []
    real = scheme_module.parse_scheme
    monkeypatch.setattr(schemes, "parse_scheme", lambda text, where: calls.append(where) or real(text, where))
    first = workflows.scheme(url, actor=who)
    assert first == load_scheme(SCHEME_FILE) and calls == ["stored scheme shandong-2017"]
    assert workflows.scheme(url, actor=who) == first and len(calls) == 1  # from the cache
    (entry,) = cache.glob("*.pickle")
    assert schemes.load_scheme_cached(SCHEME_FILE) == first and list(cache.glob("*.pickle")) == [entry]
    entry.write_bytes(b"not a pickle")
    assert workflows.scheme(url, actor=who) == first and len(calls) == 2


def test_the_cached_copy_carries_what_every_command_derives(cache, tmp_path, monkeypatch):
    """Assessed bodies, compiled tables and the body-name index come from the cache, not worked out
    again (a 21,700-body scheme: seconds per command); they equal what a fresh parse derives."""
    from scoring.intake.evidence import body_resolver
    from scoring.method.compiled import compiled
    from scoring.method.scheme import Scheme

    path = tmp_path / "s.yaml"
    path.write_bytes(SCHEME_FILE.read_bytes())
    schemes.load_scheme_cached(path)
    again = schemes.load_scheme_cached(path)

    def refuse(*_):
        raise AssertionError("worked out again")
    monkeypatch.setattr(Scheme, "_find_assessed", refuse)
    monkeypatch.setattr("scoring.intake.evidence.BodyResolver", refuse)
    monkeypatch.setattr("scoring.method.compiled._compile", refuse)
    kept = [(again.assessed(o), [again.assessed(o, r) for r in o.rules]) for o in again.obligations]
    assert body_resolver(again).resolve("濟南") == ("jinan", None)
    assert compiled(again).bodies.equals(pd.Index(sorted(b.id for b in again.bodies)))
    monkeypatch.undo()
    fresh = load_scheme(path)
    assert kept == [(fresh.assessed(o), [fresh.assessed(o, r) for r in o.rules]) for o in fresh.obligations]
