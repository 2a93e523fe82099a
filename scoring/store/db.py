"""Database connection: the embedded SQLite default (WAL, foreign keys) or a URL; migrations at open."""

from __future__ import annotations

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
# how long SQLite waits for another writer before "database is locked" (GONGKAI_BUSY_TIMEOUT_MS)
BUSY_TIMEOUT_MS = int(__import__("os").environ.get("GONGKAI_BUSY_TIMEOUT_MS", "10000"))


class Settings(BaseSettings):
    """`GONGKAI_DATABASE_URL` selects the database; the default is an embedded SQLite file."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_")
    database_url: str = f"sqlite:///{DEFAULT_PATH}"


def resolve_url(url: str | None) -> str:
    return url or Settings().database_url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def engine_for(url: str | None = None) -> Engine:
    """An engine for the URL (created once per process), with the schema migrated to head."""
    url = resolve_url(url)
    if url in _engines:
        return _engines[url]
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url)
    except Exception as e:  # a malformed URL or a missing driver
        raise GongkaiError(f"cannot use database URL {url!r}: {e}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except Exception as e:
        engine.dispose()
        raise GongkaiError(f"cannot open database {engine.url!r}: {str(e).splitlines()[0]}") from None
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
