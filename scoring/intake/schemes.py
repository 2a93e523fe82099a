"""Scheme files read once: a parsed scheme is kept in a cache folder under the sha256 of its file
(and of the code that parses it), so scoring the same scheme again skips YAML and validation.

The folder is `$GONGKAI_CACHE_DIR/schemes` (default `~/.cache/gongkai/schemes`, or
`$XDG_CACHE_HOME/gongkai/schemes`); delete it at any time, `GONGKAI_CACHE_DIR=` (empty) turns the
cache off. Only schemes that parsed without a fault are kept; an unreadable or stale entry is
parsed again. The entries are Python pickles: the folder must be as private as the user's home."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

from scoring.method import scheme as scheme_module
from scoring.method.scheme import Scheme, parse_scheme, scheme_text


def cache_dir() -> Path | None:
    """Where parsed schemes are kept, or None when the cache is off."""
    configured = os.environ.get("GONGKAI_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "schemes" if configured.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gongkai" / "schemes"


@cache
def _code_digest() -> str:
    """The method's own source (the parser, periods, calendar, …) and the body-name index's: a cached
    scheme, with what `prepare` derived, is used only by the code that made it."""
    digest = hashlib.sha256()
    names = Path(__file__).with_name("names.py")
    for source in [*sorted(Path(scheme_module.__file__).parent.rglob("*.py")), names]:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def prepare(scheme: Scheme) -> None:
    """Derive before caching what every use of the scheme derives: each rule's assessed bodies, the
    compiled tables and the body-name index (a 21,700-body scheme: ≈ 3 s per command otherwise)."""
    from scoring.intake.evidence import body_resolver
    from scoring.method.compiled import compiled

    scheme.prepare()
    compiled(scheme)
    body_resolver(scheme)


def load_scheme_cached(path: str | Path) -> Scheme:
    """`load_scheme`, through the cache: the same Scheme, its file's faults reported the same way."""
    return parse_scheme_cached(scheme_text(path), str(path))


def parse_scheme_cached(text: str, name: str) -> Scheme:
    """`parse_scheme(text, name)` through the cache (a scheme file's text, or a stored scheme's)."""
    folder = cache_dir()
    if folder is None:
        return parse_scheme(text, name)
    entry = folder / f"{hashlib.sha256(text.encode()).hexdigest()}-{_code_digest()}.pickle"
    try:
        cached = pickle.loads(entry.read_bytes())
        if isinstance(cached, Scheme) and cached.text == text:
            return cached
    except Exception:  # noqa: BLE001 — missing, partial or from another version: parse again
        pass
    scheme = parse_scheme(text, name)
    prepare(scheme)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as f:
            try:
                pickle.dump(scheme, f, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                Path(f.name).unlink(missing_ok=True)
                raise
        os.replace(f.name, entry)
    except (OSError, pickle.PicklingError):
        pass  # a read-only or full disk: no cache, same result
    return scheme
