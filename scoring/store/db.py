"""Database connection: the embedded SQLite default (WAL, foreign keys) or a URL; migrations at open."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, event
from sqlmodel import create_engine

from scoring.errors import GongkaiError

DEFAULT_PATH = Path("data/local/gongkai.db")
_MIGRATIONS = Path(__file__).with_name("migrations")
_engines: dict[str, Engine] = {}


def busy_timeout_ms() -> int:
    """How long SQLite waits for another writer before "database is locked" (GONGKAI_BUSY_TIMEOUT_MS,
    default 10 s), read when a connection opens."""
    return int(os.environ.get("GONGKAI_BUSY_TIMEOUT_MS", "10000"))


class Settings(BaseSettings):
    """`GONGKAI_DATABASE_URL` selects the database; the default is an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_")
    database_url: str = f"sqlite:///{DEFAULT_PATH}"
    # signs dashboard sessions; default: a random secret generated once into gongkai.secret beside
    # the SQLite file (data/local/gongkai.secret for other databases)
    secret: str = ""


def resolve_url(url: str | None) -> str:
    return url or Settings().database_url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    for pragma in (f"busy_timeout={busy_timeout_ms()}", "journal_mode=WAL", "foreign_keys=ON"):
        # a read-only file keeps its journal mode (sqlite3.OperationalError); reading needs none of these
        with contextlib.suppress(Exception):
            cur.execute(f"PRAGMA {pragma}")
    cur.close()


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for other databases and in-memory SQLite)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:" and "?" not in url:
        return Path(url.removeprefix("sqlite:///"))
    return None


def _writable(path: Path) -> bool:
    effective = os.access in os.supports_effective_ids  # the process's effective user, as SQLite sees it
    return os.access(path, os.W_OK, effective_ids=effective)


def _sqlite_url(url: str) -> str:
    """The URL to open an SQLite file with: as given when it can be written; read-only (URI `mode=ro`)
    when the file or its folder cannot be; `immutable` when the folder cannot hold the WAL files
    SQLite needs to read a WAL database (a read-only file system, a chmod-ed folder)."""
    path = sqlite_path(url)
    if path is None:
        return url
    folder = path.parent
    if not path.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise GongkaiError(f"cannot create the database folder {folder}: {e.strerror}") from None
        if not _writable(folder):
            raise GongkaiError(f"cannot create the database {path}: the folder is read-only")
        return url
    if _writable(path) and _writable(folder):
        return url
    side = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    mode = "mode=ro" if _writable(folder) or all(p.exists() for p in side) else "immutable=1"
    return f"sqlite:///file:{path.resolve()}?{mode}&uri=true"


def engine_for(url: str | None = None) -> Engine:
    """An engine for the URL (created once per process), with the schema migrated to head. A
    read-only SQLite file (or folder) is opened read-only: reads work, writes are refused."""
    url = resolve_url(url)
    if url in _engines:
        return _engines[url]
    try:
        engine = create_engine(_sqlite_url(url))
    except Exception as e:  # a malformed URL or a missing driver
        raise GongkaiError(f"cannot use database URL {url!r}: {e}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except Exception as e:
        engine.dispose()
        first = str(e).splitlines()[0]
        if "readonly" in first.replace(" ", "").lower():
            raise GongkaiError(f"the database {url} is read-only and its schema needs an upgrade by this "
                               "version of gongkai: open it once where it can be written") from None
        raise GongkaiError(f"cannot open database {engine.url!r}: {first}") from None
    _engines[url] = engine
    return engine


def migrate(engine: Engine) -> None:
    """Bring the database schema to the latest Alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def dispose(url: str | None = None) -> None:
    """Close pooled connections (tests dropping their database)."""
    engine = _engines.pop(resolve_url(url), None)
    if engine is not None:
        engine.dispose()


_secrets: dict[str, bytes] = {}


def session_secret(url: str | None = None) -> bytes:
    """The server secret that signs dashboard sessions: GONGKAI_SECRET, else a random one generated
    once into a file (mode 600) beside the SQLite database (data/local/ for other databases). Where
    no file can be written, a secret for this process only (sessions end when the server does)."""
    url = resolve_url(url)
    if url in _secrets:
        return _secrets[url]
    configured = Settings().secret
    if configured:
        secret = configured.encode()
    else:
        path = sqlite_path(url)
        file = (path.parent if path is not None else DEFAULT_PATH.parent) / "gongkai.secret"
        try:
            secret = file.read_bytes().strip()
        except OSError:
            secret = b""
        if len(secret) < 32:
            secret = secrets.token_hex(32).encode()
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(secret)
            except OSError:
                pass  # read-only: this process's secret
    _secrets[url] = secret
    return secret
