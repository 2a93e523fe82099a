"""The stored letterhead (NoticeSettings) of an assessment's documents of record: read and set."""

from __future__ import annotations

from sqlmodel import Session

from scoring.store.audit import audit, now
from scoring.store.models import NoticeSettings


def notice_settings(session: Session, *, scheme_id: str) -> NoticeSettings | None:
    """The letterhead set for a scheme's documents, or None (the documents then show placeholders)."""
    return session.get(NoticeSettings, scheme_id)


def set_notice_settings(session: Session, *, scheme_id: str, who: str, defaults: dict[str, str],
                        **changes: str | None) -> NoticeSettings:
    """Change the given fields (office, number, to, cc; None keeps a field), starting from `defaults`
    when none is stored; every change audited with its old and new value."""
    row = session.get(NoticeSettings, scheme_id)
    said = []
    if row is None:
        row = NoticeSettings(scheme_id=scheme_id, set_by=who, set_at=now(), **defaults)
        said.append("from " + ", ".join(f"{k}={v!r}" for k, v in defaults.items()))
    for key, value in changes.items():
        if value is not None and value != getattr(row, key):
            said.append(f"{key}: {getattr(row, key)!r} → {value!r}")
            setattr(row, key, value)
    if said:
        row.set_by, row.set_at = who, now()
        session.add(row)
        audit(session, who=who, action="notice_settings", scheme_id=scheme_id, detail="; ".join(said))
    return row
