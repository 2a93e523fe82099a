"""Files kept beside a database's evidence snapshots, in its `derived/` folder: what is a function of
a stored run (its rank intervals, the report's tables and the CSVs of its parts, the 整改通知书's
inputs) and the chart images named by what they draw. Each is written atomically and read back by
later commands instead of being worked out again; losing one only costs that work.

The folder is a cache of bounded size: `GONGKAI_DERIVED_MAX_MB` (default 2,048 MB; a national
report's parts are ≈ 50 MB a run and language, a 21,700-body one's ≈ 300 MB). When a new file makes it
larger, the least recently used files go first (a file read is marked used); the one just kept stays.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from scoring.errors import GongkaiError

LIMIT = "GONGKAI_DERIVED_MAX_MB"
DEFAULT_MB = 2048
FOLDER = "derived"


def limit_bytes() -> int:
    """The folder's limit in bytes (`GONGKAI_DERIVED_MAX_MB`; 0 keeps only the file just written)."""
    said = os.environ.get(LIMIT, "").strip()
    try:
        mb = float(said) if said else DEFAULT_MB
    except ValueError:
        raise GongkaiError(f"{LIMIT}={said!r}: not a number of megabytes (the kept files' limit; "
                           f"default {DEFAULT_MB})") from None
    if mb < 0:
        raise GongkaiError(f"{LIMIT}={said!r}: the kept files' limit cannot be negative")
    return int(mb * 1024 * 1024)


def put(at: Path, write: Callable[[Path], object]) -> bool:
    """Keep at `at` what `write` writes to the temporary path it is given (`written`), then keep the
    folder within its limit. False when it could not be kept (a read-only or full disk)."""
    limit = limit_bytes()   # a bad setting is said before anything is written
    if not written(at, write):
        return False
    prune(next((p for p in at.parents if p.name == FOLDER), at.parent), keep=at, limit=limit)
    return True


def written(at: Path, write: Callable[[Path], object]) -> bool:
    """Write a file atomically: `write` writes a temporary file beside `at` (named by this process and
    thread: a dashboard's sessions are threads of one process), which then replaces `at`. False when it
    could not be written (a read-only or full disk): nothing half-written is left behind."""
    tmp = at.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        at.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, at)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False
    return True


def used(at: Path) -> None:
    """Mark a kept file as just used, so that it is among the last to go."""
    with contextlib.suppress(OSError):
        os.utime(at)


def prune(root: Path, keep: Path | None = None, limit: int | None = None) -> None:
    """Delete the least recently used files under `root` (never `keep`, never another writer's
    temporary file) until they are within the limit. A file another process is reading as it goes
    only means that process works it out again."""
    limit = limit_bytes() if limit is None else limit
    files = []
    for path in root.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file() and not path.name.endswith(".tmp"):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    for _, size, path in sorted(files, key=lambda f: f[0]):
        if total <= limit:
            return
        if path != keep:
            with contextlib.suppress(OSError):
                path.unlink()
                total -= size
