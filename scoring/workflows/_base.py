"""What every workflow shares: one transaction per call, the actor re-checked in it, refusals audited, a busy or read-only database said plainly."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from scoring.errors import GongkaiError
from scoring.store import accounts
from scoring.store.accounts import Actor
from scoring.store.audit import audit
from scoring.store.db import engine_for

ATTEMPTS = 3  # an import meeting a busy database is tried this often


class ReadOnlyDatabase(GongkaiError):
    """A write was asked of a database (or file system) that is read-only."""


BUSY = "the database is busy (another import is writing); try again in a moment"


class DatabaseBusy(GongkaiError):
    """A write met another writer holding the database past the busy timeout (SQLite: "database is
    locked"); `detail` is the database's own first line. Reads never wait on a writer (WAL)."""

    def __init__(self, detail: str):
        super().__init__(BUSY)
        self.detail = detail


def _busy(e: DBAPIError) -> str:
    """The database's first line when `e` is another writer holding it ('' otherwise)."""
    first = (str(e.orig).splitlines() or [""])[0]
    return first if any(w in first.lower() for w in ("database is locked", "database is busy",
                                                      "database table is locked")) else ""


@contextmanager
def transaction(db: str | None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with Session(engine_for(db)) as session:
        try:
            yield session
            session.commit()
        except DBAPIError as e:  # SQLite: "attempt to write a readonly database"; PostgreSQL: "read-only transaction"
            session.rollback()
            if "readonly" in str(e.orig).replace(" ", "").lower() or "read-only" in str(e.orig).lower():
                raise ReadOnlyDatabase("the database is read-only: nothing was changed") from None
            if _busy(e):
                raise DatabaseBusy(_busy(e)) from None
            raise
        except BaseException:
            session.rollback()
            raise


def _signed_in(actor: Actor) -> str:
    """The permission every signed-in account has: a body account its own result, any other reading."""
    return "own" if actor.role == "body" else "browse"


def _as(session: Session, actor: Actor, action: str) -> Actor:
    return accounts.recheck(session, actor, action)


P = ParamSpec("P")


R = TypeVar("R")


def _refusals_audited(action: str, *, only: type[GongkaiError] = GongkaiError
                      ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Audit a refused cycle step as `<action>_refused` (who, the message), in a transaction of its own
    as refused imports and sign-ins are: the refusal stands, nothing of the step is stored. Steps that
    change something audit every refusal; reads only those the account's role or body does not allow."""
    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def step(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except only as refusal:
                if not isinstance(refusal, (ReadOnlyDatabase, DatabaseBusy)):
                    actor = kwargs["actor"]
                    assert isinstance(actor, Actor)
                    try:
                        with transaction(args[0] if args else kwargs.get("db")) as session:  # type: ignore[arg-type]
                            audit(session, who=actor.name, action=f"{action}_refused",
                                  scheme_id=str(kwargs.get("scheme_id") or ""), detail=str(refusal)[:1000])
                    except (ReadOnlyDatabase, DatabaseBusy, DBAPIError):
                        pass  # a database that cannot record it: the refusal itself is the answer
                raise
        return step
    return wrap
