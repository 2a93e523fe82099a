"""Stored schemes parsed once per text: the scheme a database holds is looked up in the same cache
folder, under the same key, as a scheme file (`scoring.intake.schemes`): the sha256 of the text and of
the method's source. A national scheme takes ≈ 0.6 s to parse and ≈ 0.05 s to unpickle, which a new
dashboard or CLI process pays on its first read of the database. An unreadable, stale or foreign
entry is parsed again; a read-only or full disk means no cache, the same result."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

from scoring.intake import schemes
from scoring.intake.schemes import cache_dir
from scoring.method.scheme import Scheme, parse_scheme


@cache
def _code_digest() -> str:
    """The method's source digest, as the file cache keys its entries (read once per process)."""
    return schemes._code_digest()


def parsed_scheme(text: str, where: str) -> Scheme:
    """`parse_scheme(text, where)`, through the scheme cache."""
    folder = cache_dir()
    if folder is None:
        return parse_scheme(text, where)
    entry = folder / f"{hashlib.sha256(text.encode()).hexdigest()}-{_code_digest()}.pickle"
    try:
        cached = pickle.loads(entry.read_bytes())
        if isinstance(cached, Scheme) and cached.text == text:
            return cached
    except Exception:  # noqa: BLE001 — missing, partial or from another version: parse again
        pass
    scheme = parse_scheme(text, where)
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
        pass
    return scheme
