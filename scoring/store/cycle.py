"""Storing the assessment cycle: attachment records, body accounts, publications (preliminary and
final, with the scheme and evidence they rest on), appeals and 整改 problems. Keyword-only functions
over an explicit session, like repository.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from scoring.intake.attachments import KINDS, Attached, suffix
from scoring.store.attachments import AttachmentStore
from scoring.store.audit import now
from scoring.store.models import Attachment


def save_attachments(session: Session, *, store: AttachmentStore, files: list[Attached]) -> int:
    """Put each file in the store and record it (once per sha256). Returns how many were new."""
    new = 0
    for f in files:
        store.put(f.data)
        if session.get(Attachment, f.sha256) is None:
            session.add(Attachment(sha256=f.sha256, size=f.size, kind=KINDS[suffix(f.name)][0], name=f.name,
                                   stored_at=now()))
            new += 1
    session.flush()
    return new


def attachment_record(session: Session, *, sha256: str) -> Attachment | None:
    return session.get(Attachment, sha256)


def attachment_refs(session: Session, *, sha256: str) -> list[tuple[str, str, str]]:
    """(scheme, body, obligation) of every evidence record (current or earlier) naming the file."""
    from scoring.store.models import Evidence, EvidenceHistory

    e, h = Evidence.__table__.c, EvidenceHistory.__table__.c  # type: ignore[attr-defined]
    current = session.execute(select(e.scheme_id, e.body, e.obligation).where(e.attachment == sha256)).all()
    earlier = session.execute(select(e.scheme_id, e.body, e.obligation).join(
        EvidenceHistory.__table__, h.evidence_id == e.id).where(h.attachment == sha256)).all()  # type: ignore[attr-defined]
    return [tuple(r) for r in [*current, *earlier]]
