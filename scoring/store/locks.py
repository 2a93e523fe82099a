"""One writer at a time for a scheme's evidence. An import compares the file with the stored records it
read and writes the difference; a rejection or acceptance committed between that read and the write
would be overwritten (the import's UPDATE clears `rejected` as of what it read). So every writer of a
scheme's evidence takes this lock first, in its own transaction, and holds it to the commit."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session

from scoring.store.models import SchemeRecord


def lock_evidence(session: Session, *, scheme_id: str) -> None:
    """Serialise the writers of `scheme_id`'s evidence for the rest of this transaction: PostgreSQL locks
    the scheme's row (`FOR UPDATE`); SQLite takes the database's write lock now, by a write that changes
    nothing, instead of at the first real write (its reads before that see no fixed snapshot)."""
    t = SchemeRecord.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(t).where(t.c.id == scheme_id).values(sha256=t.c.sha256))
    else:
        session.execute(select(t.c.id).where(t.c.id == scheme_id).with_for_update())
