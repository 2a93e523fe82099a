"""Accounts, roles and what each role may do; firm assignments; rejecting evidence. Every change is
audited. Authentication is on once the database has a user (a fresh single-user install is open)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlmodel import Session

from scoring.errors import EvidenceError, GongkaiError, RowProblem
from scoring.method.scheme import Scheme
from scoring.store.audit import audit
from scoring.store.models import Evidence, FirmAssignment, User

ROLES = ("admin", "evaluator", "firm", "viewer", "body")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "scheme": ("admin",),                 # load schemes, the demo
    "users": ("admin",),                  # accounts and firm assignments
    "import": ("admin", "firm"),          # a firm only for its assignments
    "score": ("admin", "evaluator"),      # store scoring runs, reports
    "reject": ("admin", "evaluator"),     # reject evidence with a reason
    "read": ("admin", "evaluator", "viewer"),  # scores, gaps, all evidence, runs
    "browse": ("admin", "evaluator", "viewer", "firm"),  # evidence: a firm only its own assignments
    "audit": ("admin", "evaluator"),
    # the assessment cycle (scoring/store/cycle.py); a `body` account acts only for its own body
    "publish": ("admin", "evaluator"),    # preliminary and final results, 通報, 整改通知書
    "appeal": ("admin", "body"),          # file an appeal during the feedback window
    "decide": ("admin", "evaluator"),     # accept or reject an appeal (復核)
    "own": ("admin", "evaluator", "viewer", "body"),     # published results, appeals, 整改
    "track": ("admin", "evaluator", "body"),  # 整改 status: a body marks rectified; evaluators verify
}
_HASHER = PasswordHasher()


class PermissionDenied(GongkaiError):
    """A user asked for something their role does not allow."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: an authenticated user, or the open mode of a database without accounts."""

    name: str
    role: str | None  # None: no accounts exist, everything is allowed

    def may(self, action: str) -> bool:
        return self.role is None or self.role in PERMISSIONS[action]

    def require(self, action: str) -> None:
        if not self.may(action):
            raise PermissionDenied(f"user {self.name} ({self.role}) may not {action}; "
                                   f"allowed roles: {', '.join(PERMISSIONS[action])}")


def recheck(session: Session, actor: Actor, action: str) -> Actor:
    """The actor as the database knows it now, checked for `action`: an account disabled, removed
    or given another role since it signed in acts with its current state (or not at all)."""
    if actor.role is None:  # open mode: still open only while the database has no accounts
        if has_accounts(session):
            raise PermissionDenied("this database now has accounts: sign in")
        return actor
    user = session.get(User, actor.name)
    if user is None or user.disabled:
        raise PermissionDenied(f"the account {actor.name} is disabled or no longer exists")
    current = Actor(user.name, user.role)
    current.require(action)
    return current


def has_accounts(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(User)).scalar_one() > 0


def authenticate(session: Session, *, name: str | None, password: str | None) -> Actor:
    """The actor for a name and password; open mode when the database has no accounts."""
    if not has_accounts(session):
        return Actor(name or "local", None)
    user = session.get(User, name or "")
    try:
        ok = user is not None and password is not None and _HASHER.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        raise PermissionDenied("unknown user or wrong password")
    if user.disabled:
        raise PermissionDenied(f"the account {user.name} is disabled")
    return Actor(user.name, user.role)


def add_user(session: Session, *, name: str, password: str, role: str, by: Actor) -> None:
    if has_accounts(session):
        by.require("users")
    elif role != "admin":
        raise GongkaiError("the first account must be an admin (--role admin)")
    if role not in ROLES:
        raise GongkaiError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    if not name.strip() or session.get(User, name) is not None:
        raise GongkaiError(f"user name {name!r} is empty or taken")
    if len(password) < 8:
        raise GongkaiError("a password has at least 8 characters")
    session.add(User(name=name, password_hash=_HASHER.hash(password), role=role,
                     created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
    audit(session, action="user_add", detail=f"{name} as {role}", who=by.name)


def _user(session: Session, name: str) -> User:
    user = session.get(User, name)
    if user is None:
        raise GongkaiError(f"no user {name!r}")
    return user


def set_role(session: Session, *, name: str, role: str, by: Actor) -> None:
    by.require("users")
    if role not in ROLES:
        raise GongkaiError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    user = _user(session, name)
    audit(session, action="user_role", detail=f"{name}: {user.role} → {role}", who=by.name)
    user.role = role


def disable(session: Session, *, name: str, by: Actor) -> None:
    by.require("users")
    _user(session, name).disabled = True
    audit(session, action="user_disable", detail=name, who=by.name)


def assign(session: Session, *, name: str, body: str, obligation: str, by: Actor) -> None:
    by.require("users")
    if _user(session, name).role != "firm":
        raise GongkaiError(f"{name} is not a firm account; only firms have assignments")
    session.add(FirmAssignment(user=name, body=body, obligation=obligation))
    audit(session, action="firm_assign", detail=f"{name}: body {body}, obligation {obligation}", who=by.name)


def users(session: Session) -> pd.DataFrame:
    rows = session.execute(select(User.__table__.c.name, User.__table__.c.role,  # type: ignore[attr-defined]
                                  User.__table__.c.disabled, User.__table__.c.created_at)).all()  # type: ignore[attr-defined]
    return pd.DataFrame(rows, columns=["name", "role", "disabled", "created_at"])


def assigned_mask(session: Session, *, actor: Actor, scheme: Scheme, body: pd.Series,
                  obligation: pd.Series) -> np.ndarray:
    """Per row: is (body, obligation) within the firm's assignments (a body id, a body kind, or *)."""
    a = FirmAssignment.__table__.c  # type: ignore[attr-defined]
    grants = session.execute(select(a.body, a.obligation).where(a.user == actor.name)).all()
    kinds = {b.id: b.kind for b in scheme.bodies}
    body, ob = body.astype(str), obligation.astype(str)
    allowed = np.zeros(len(body), dtype=bool)
    for g_body, g_ob in grants:
        allowed |= ((g_body == "*") | (body == g_body) | (body.map(kinds) == g_body)).to_numpy() \
            & ((g_ob == "*") | (ob == g_ob)).to_numpy()
    return allowed


def check_firm_rows(session: Session, *, actor: Actor, scheme: Scheme, evidence: pd.DataFrame, source: str) -> None:
    """A firm imports only rows of its assigned bodies × obligations; any other row refuses the file."""
    if actor.role != "firm":
        return
    allowed = assigned_mask(session, actor=actor, scheme=scheme, body=evidence["body"],
                            obligation=evidence["obligation"])
    if not allowed.all():
        bad = evidence[~allowed]
        raise EvidenceError(source, [RowProblem(int(r.row), "body", f"{r.body} · {r.obligation}",
                                                f"firm {actor.name} is not assigned this body and obligation")
                                     for r in bad.itertuples()][:1000])


def reject(session: Session, *, evidence_id: int, reason: str, by: Actor) -> None:
    """Reject an evidence record with a reason: it stays stored (and shown) but is not scored."""
    by.require("reject")
    if not reason.strip():
        raise GongkaiError("a rejection needs a reason")
    record = session.get(Evidence, evidence_id)
    if record is None:
        raise GongkaiError(f"no evidence record {evidence_id}")
    session.execute(update(Evidence).where(Evidence.__table__.c.id == evidence_id)  # type: ignore[attr-defined]
                    .values(rejected=reason.strip()))
    audit(session, action="reject", scheme_id=record.scheme_id, who=by.name,
          detail=f"evidence {evidence_id} ({record.body} · {record.obligation} · {record.period or record.event}): {reason.strip()}")
