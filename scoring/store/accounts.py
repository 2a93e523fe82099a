"""Accounts, roles and what each role may do; firm assignments; rejecting evidence. Every change is
audited. Authentication is on once the database has a user (a fresh single-user install is open)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from scoring.errors import EvidenceError, GongkaiError, RowProblem
from scoring.method.scheme import Scheme
from scoring.store.audit import audit, now
from scoring.store.locks import lock_evidence
from scoring.store.models import Evidence, FirmAssignment, LoginFailure, SignIn, User

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
    "calendar": ("admin", "evaluator"),   # load a year's holiday notice (it moves scores and the cycle's dates)
    "holidays": ROLES,                    # see the working-day calendar
    "collect": ("admin", "evaluator", "firm"),  # crawl bodies' websites (a firm only its assigned bodies), proposals
    "collect_private": ("admin", "evaluator"),  # crawl loopback and private addresses (--allow-private)
    # the quality of the assessment (抽查): samples, blind second readings, settlements, agreement
    "sample": ("admin", "evaluator"),     # draw samples, see both readings, settle disagreements
    "sample_read": ("admin", "evaluator", "viewer", "firm"),  # a sample's items: a firm its assigned ones, blind
    "second": ("admin", "firm"),          # import second readings (a firm: its assignments)
    "quality": ("admin", "evaluator", "viewer"),  # agreement of the readings
    "self": ("admin", "body"),            # upload a self-assessment (自評): a body its own, never evidence
}
# what each permission lets a role do, said in a refusal (the permission's name alone is not clear)
ALLOWS: dict[str, str] = {
    "scheme": "loading schemes and the demo", "users": "managing accounts", "import": "importing evidence",
    "score": "storing scoring runs and writing reports", "reject": "rejecting and accepting evidence",
    "read": "reading all scores and evidence", "browse": "browsing evidence", "audit": "reading the audit trail",
    "publish": "publishing results and writing the 通報 and 整改通知書", "appeal": "filing appeals (申訴)",
    "decide": "deciding appeals (復核)", "own": "seeing published results, appeals and 整改 problems",
    "track": "changing the status of 整改 problems",
    "calendar": "loading the working-day calendar (a year's holiday notice)", "holidays": "seeing the working-day calendar",
    "collect": "crawling websites and reviewing proposals (網站採集)",
    "collect_private": "crawling loopback and private addresses (--allow-private)",
    "sample": "drawing samples and settling their disagreements", "sample_read": "seeing a sample's items",
    "second": "importing second readings of a sample", "quality": "reading the agreement of the readings",
    "self": "uploading a self-assessment (自評)",
}
PASSWORD_HASH_PROFILES = {"rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,  # argon2id, 64 MiB, t=3: the default
                          "rfc9106-high-memory": profiles.RFC_9106_HIGH_MEMORY,  # argon2id, 2 GiB, t=1
                          "cheapest": profiles.CHEAPEST}  # for test suites only: no protection at all


def _hasher() -> PasswordHasher:
    """The argon2 hasher for new hashes (GONGKAI_PASSWORD_HASH names a profile). A stored hash carries
    its own parameters, so verifying works whatever the setting was when it was made."""
    name = Limits().password_hash
    if name not in PASSWORD_HASH_PROFILES:
        raise GongkaiError(f"GONGKAI_PASSWORD_HASH {name!r} is not one of: {', '.join(PASSWORD_HASH_PROFILES)}")
    return PasswordHasher.from_parameters(PASSWORD_HASH_PROFILES[name])


class PermissionDenied(GongkaiError):
    """A user asked for something their role does not allow."""


class LoginRefused(PermissionDenied):
    """A sign-in refused: a wrong name or password (`counts`: a failure toward the lockout), or a
    lockout in force (not counted: it cannot prolong itself). The caller records it (`record_login_refusal`)
    in a transaction of its own, so the record outlives the refusal."""

    def __init__(self, message: str, *, name: str, client: str, counts: bool) -> None:
        super().__init__(message)
        self.name, self.client, self.counts = name, client, counts


class Limits(BaseSettings):
    """The sign-in lockout, the session lifetime and the password hash cost (GONGKAI_LOGIN_MAX_FAILURES, …)."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_")
    login_max_failures: int = 5            # per account name, within the window
    login_client_max_failures: int = 20    # per client (a terminal user@host, a browser's address)
    login_window_seconds: int = 900        # the window, and so the cool-down of a lockout
    session_hours: float = 8.0             # a dashboard session's lifetime
    password_hash: str = "rfc9106-low-memory"  # the argon2 profile of new password hashes


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
                                   f"allowed roles: {', '.join(PERMISSIONS[action])} ({action}: {ALLOWS[action]})")


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


def _locked(session: Session, *, name: str, client: str, limits: Limits) -> str:
    """Why sign-ins for this name or from this client are locked now ('' when they are not)."""
    f = LoginFailure.__table__.c  # type: ignore[attr-defined]
    since = now() - dt.timedelta(seconds=limits.login_window_seconds)
    for column, value, most, what in ((f.client, client, limits.login_client_max_failures, "from this client"),
                                      (f.account, name, limits.login_max_failures, f"for account {name}")):
        times = session.execute(select(f.at).where(column == value, f.at > since).order_by(f.at.desc())
                                .limit(most)).scalars().all()
        if len(times) >= most:
            free = times[-1] + dt.timedelta(seconds=limits.login_window_seconds)
            minutes = max(1, -int(-(free - now()).total_seconds() // 60))
            return (f"too many failed sign-ins {what}: locked; try again in {minutes} minute(s) "
                    f"(or ask an admin)")
    return ""


def authenticate(session: Session, *, name: str | None, password: str | None, client: str = "") -> Actor:
    """The actor for a name and password; open mode when the database has no accounts. A name or a
    client with too many recent failures is refused before the password is even looked at."""
    if not has_accounts(session):
        return Actor(name or "local", None)
    name = name or ""
    locked = _locked(session, name=name, client=client, limits=Limits())
    if locked:
        raise LoginRefused(locked, name=name, client=client, counts=False)
    user = session.get(User, name)
    try:
        ok = user is not None and password is not None and _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        raise LoginRefused("unknown user or wrong password", name=name, client=client, counts=True)
    if user.disabled:
        raise LoginRefused(f"the account {user.name} is disabled", name=name, client=client, counts=False)
    # a success clears this account's failures (another client's failures for it included); only when
    # there are some: a DELETE takes SQLite's write lock, and signing in must not wait on an import
    failures = LoginFailure.__table__.c.account == name  # type: ignore[attr-defined]
    if session.execute(select(func.count()).select_from(LoginFailure).where(failures)).scalar_one():
        session.execute(delete(LoginFailure).where(failures))
    return Actor(user.name, user.role)


def record_login_refusal(session: Session, refusal: LoginRefused) -> None:
    """A refused sign-in: counted toward the lockout when it was a wrong name or password; audited."""
    if refusal.counts:
        session.add(LoginFailure(at=now(), account=refusal.name, client=refusal.client))
    audit(session, who=refusal.name or "(no name)", action="login_failed" if refusal.counts else "login_refused",
          detail=f"client {refusal.client or '?'}: {refusal}")


# ---- sessions: a signed, expiring token bound to the account's current password -------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _password_version(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


# sessions opened on a database that cannot be written: kept by this process (they end with the server)
_PROCESS_SESSIONS: set[str] = set()


def session_token(session: Session, *, actor: Actor, secret: bytes, hours: float | None = None,
                  stored: bool = True) -> str:
    """A token that signs the account in again until it expires or its session ends: signed out, the
    account disabled, its password or role changed (checked when it is presented). Its id (jti) is
    kept server-side (`SignIn`), so ending a session refuses a copy of the token anywhere."""
    user = _user(session, actor.name)
    seconds = 3600 * (hours or Limits().session_hours)
    expires = int(now().replace(tzinfo=dt.UTC).timestamp() + seconds)
    jti = secrets.token_urlsafe(16)
    if stored:
        u = SignIn.__table__.c  # type: ignore[attr-defined]
        session.execute(delete(SignIn).where(u.user == user.name, u.expires_at < now()))  # this account's expired ones
        session.add(SignIn(id=jti, user=user.name, created_at=now(), expires_at=now() + dt.timedelta(seconds=seconds)))
    else:  # a read-only database: `stored=False` keeps the session in this process
        jti = "p" + jti
        _PROCESS_SESSIONS.add(jti)
    payload = f"{user.name}\n{expires}\n{_password_version(user)}\n{jti}".encode()
    return _b64(payload) + "." + _b64(hmac.new(secret, payload, hashlib.sha256).digest())


REFUSED = "the session has expired or is no longer valid: sign in again"
ENDED = "the session has ended (signed out, or the account was changed): sign in again"


def _claims(token: str, secret: bytes) -> tuple[str, int, str, str]:
    """(name, expiry, password version, session id) of a token whose signature holds; refused otherwise."""
    try:
        body, sig = token.split(".")
        payload = _unb64(body)
        good = hmac.compare_digest(_unb64(sig), hmac.new(secret, payload, hashlib.sha256).digest())
        name, expires, version, jti = payload.decode().split("\n")
        claims = name, int(expires), version, jti
    except (ValueError, UnicodeDecodeError):
        raise PermissionDenied(REFUSED) from None
    if not good:
        raise PermissionDenied(REFUSED)
    return claims


def resume(session: Session, *, token: str, secret: bytes) -> Actor:
    """The account a session token signs in, checked against its signature, expiry, its session still
    open, the account's current password and state; refused otherwise."""
    name, expires, version, jti = _claims(token, secret)
    if expires < now().replace(tzinfo=dt.UTC).timestamp():
        raise PermissionDenied(REFUSED)
    user = session.get(User, name)
    if user is None or user.disabled or not hmac.compare_digest(version, _password_version(user)):
        raise PermissionDenied(REFUSED)
    open_ = session.get(SignIn, jti)
    if (open_ is None or open_.user != name) and jti not in _PROCESS_SESSIONS:
        raise PermissionDenied(ENDED)
    return Actor(user.name, user.role)


def end_session(session: Session, *, token: str, secret: bytes) -> None:
    """Sign out: the token's session ends (a copy of the token is refused from now on)."""
    jti = _claims(token, secret)[3]
    if jti in _PROCESS_SESSIONS:
        _PROCESS_SESSIONS.discard(jti)
        return
    session.execute(delete(SignIn).where(SignIn.__table__.c.id == jti))  # type: ignore[attr-defined]


def _end_sessions(session: Session, name: str) -> None:
    """Every open session of the account ends (disabled, password or role changed)."""
    session.execute(delete(SignIn).where(SignIn.__table__.c.user == name))  # type: ignore[attr-defined]


def firm_name(text: str | None) -> str:
    """A firm's name as compared: NFKC (full-width forms folded) and stripped."""
    return unicodedata.normalize("NFKC", text or "").strip()


def _firm_for(role: str, firm: str | None) -> str:
    if role not in ROLES:
        raise GongkaiError(f"role {role!r} is not one of: {', '.join(ROLES)}")
    if role == "firm" and not firm_name(firm):
        raise GongkaiError("a firm account belongs to one firm: give --firm NAME (the assessor name its rows carry)")
    if role != "firm" and firm_name(firm):
        raise GongkaiError(f"only a firm account has a firm (--firm); {role} has none")
    return firm_name(firm)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise GongkaiError("a password has at least 8 characters")


def add_user(session: Session, *, name: str, password: str, role: str, by: Actor, firm: str | None = None) -> None:
    if has_accounts(session):
        by.require("users")
    elif role != "admin":
        raise GongkaiError("the first account must be an admin (--role admin)")
    firm = _firm_for(role, firm)
    if not name.strip() or session.get(User, name) is not None:
        raise GongkaiError(f"user name {name!r} is empty or taken")
    _check_password(password)
    session.add(User(name=name, password_hash=_hasher().hash(password), role=role, firm=firm, created_at=now()))
    audit(session, action="user_add", detail=f"{name} as {role}" + (f" of firm {firm}" if firm else ""), who=by.name)


def _user(session: Session, name: str) -> User:
    user = session.get(User, name)
    if user is None:
        raise GongkaiError(f"no user {name!r}")
    return user


def _keep_an_admin(session: Session, user: User, change: str) -> None:
    """Refuse a change that would leave no active admin (nobody could manage accounts again)."""
    if user.role != "admin" or user.disabled:
        return
    u = User.__table__.c  # type: ignore[attr-defined]
    # locks the admin rows on PostgreSQL, so two admins cannot remove each other at once
    admins = session.execute(select(u.name).where(u.role == "admin", u.disabled.is_(False))
                             .with_for_update()).scalars().all()
    if set(admins) <= {user.name}:
        raise GongkaiError(f"refused: {user.name} is the last active admin; {change} would leave nobody "
                           "to manage accounts (add or enable another admin first)")


def set_role(session: Session, *, name: str, role: str, by: Actor, firm: str | None = None) -> None:
    by.require("users")
    user = _user(session, name)
    firm = _firm_for(role, firm if firm is not None or role != "firm" else user.firm)
    if role != "admin":
        _keep_an_admin(session, user, f"making it {role}")
    audit(session, action="user_role", who=by.name,
          detail=f"{name}: {user.role} → {role}" + (f" of firm {firm}" if firm else ""))
    if (user.role, user.firm) != (role, firm):
        _end_sessions(session, name)  # signed in again, the account works with its new role
    user.role, user.firm = role, firm


def disable(session: Session, *, name: str, by: Actor) -> None:
    by.require("users")
    user = _user(session, name)
    _keep_an_admin(session, user, "disabling it")
    user.disabled = True
    _end_sessions(session, name)  # enabling it again does not bring them back
    audit(session, action="user_disable", detail=name, who=by.name)


def enable(session: Session, *, name: str, by: Actor) -> None:
    by.require("users")
    _user(session, name).disabled = False
    session.execute(delete(LoginFailure).where(LoginFailure.__table__.c.account == name))  # type: ignore[attr-defined]
    audit(session, action="user_enable", detail=name, who=by.name)


def set_password(session: Session, *, name: str, password: str, by: Actor) -> None:
    """A new password: anyone for their own account, an admin for any. Open sessions of the account
    end (deleted, and their tokens are bound to the old password). The password itself is never audited."""
    if name != by.name:
        by.require("users")
    _check_password(password)
    user = _user(session, name)
    user.password_hash = _hasher().hash(password)
    _end_sessions(session, name)
    audit(session, action="user_password", who=by.name,
          detail=f"{name}: password changed" if name == by.name else f"{name}: password reset by {by.name}")


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


def users_with_firms(session: Session) -> pd.DataFrame:
    u = User.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(select(u.name, u.role, u.firm, u.disabled, u.created_at).order_by(u.name)).all()
    return pd.DataFrame(rows, columns=["name", "role", "firm", "disabled", "created_at"])


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


def may_collect(session: Session, *, actor: Actor, scheme: Scheme, body: str) -> bool:
    """Whether the actor may crawl a body's website and review what it proposes: any `collect` role;
    a firm only a body it is assigned (by id, kind or *, for any obligation)."""
    if not actor.may("collect"):
        return False
    if actor.role != "firm":
        return True
    a = FirmAssignment.__table__.c  # type: ignore[attr-defined]
    kind = next((b.kind for b in scheme.bodies if b.id == body), "")
    grants = session.execute(select(a.body).where(a.user == actor.name)).scalars().all()
    return any(g in ("*", body, kind) for g in grants)


def account_firm(session: Session, actor: Actor) -> str:
    """The firm a firm account belongs to ('' for other roles)."""
    if actor.role != "firm":
        return ""
    return _user(session, actor.name).firm


def check_firm_rows(session: Session, *, actor: Actor, scheme: Scheme, evidence: pd.DataFrame, source: str,
                    firm: str | None = None) -> pd.DataFrame:
    """A firm account's rows: only its assigned bodies × obligations, and only its own firm's — a
    blank assessor becomes its firm, another name is a row problem (so it can never write in, or
    replace, another firm's records). Returns the evidence with the assessor filled in."""
    if actor.role != "firm":
        return evidence
    own = account_firm(session, actor)
    if firm is not None and firm_name(firm) != own:
        raise EvidenceError(source, [RowProblem(1, "firm", firm,
                                                f"account {actor.name} belongs to firm {own}; it imports only as {own}")])
    allowed = assigned_mask(session, actor=actor, scheme=scheme, body=evidence["body"],
                            obligation=evidence["obligation"])
    stated = evidence["assessor"].fillna("").map(firm_name)
    foreign = ((stated != "") & (stated != own)).to_numpy()
    problems = [RowProblem(int(r.row), "body", f"{r.body} · {r.obligation}",
                           f"firm {actor.name} is not assigned this body and obligation")
                for r in evidence[~allowed].itertuples()]
    problems += [RowProblem(int(r.row), "assessor", str(r.assessor),
                            f"account {actor.name} belongs to firm {own}; its rows are {own}'s (leave assessor blank or write {own})")
                 for r in evidence[foreign].itertuples()]
    if problems:
        raise EvidenceError(source, sorted(problems, key=lambda p: p.row)[:1000])
    return evidence.assign(assessor=own)


def reject(session: Session, *, evidence_id: int, reason: str, by: Actor) -> None:
    """Reject an evidence record with a reason: it stays stored (and shown) but is not scored."""
    by.require("reject")
    if not reason.strip():
        raise GongkaiError("a rejection needs a reason")
    record = session.get(Evidence, evidence_id)
    if record is None:
        raise GongkaiError(f"no evidence record {evidence_id}")
    lock_evidence(session, scheme_id=record.scheme_id)  # not while an import compares this scheme's records
    session.execute(update(Evidence).where(Evidence.__table__.c.id == evidence_id)  # type: ignore[attr-defined]
                    .values(rejected=reason.strip(), pending=False))
    audit(session, action="reject", scheme_id=record.scheme_id, who=by.name,
          detail=f"evidence {evidence_id} ({record.body} · {record.obligation} · {record.period or record.event}): {reason.strip()}")


def accept(session: Session, *, evidence_id: int, by: Actor) -> None:
    """Accept a record's current value — a value re-sent after a rejection, or a rejected one — so it
    is scored again. The rejection stays in the history and the audit trail."""
    by.require("reject")
    record = session.get(Evidence, evidence_id)
    if record is None:
        raise GongkaiError(f"no evidence record {evidence_id}")
    lock_evidence(session, scheme_id=record.scheme_id)
    session.refresh(record)  # as it is now that no import can change it
    if not record.pending and not record.rejected:
        raise GongkaiError(f"evidence {evidence_id} is neither rejected nor waiting for review: nothing to accept")
    was = "a re-sent value" if record.pending else f"rejected ({record.rejected})"
    session.execute(update(Evidence).where(Evidence.__table__.c.id == evidence_id)  # type: ignore[attr-defined]
                    .values(rejected="", pending=False))
    audit(session, action="accept", scheme_id=record.scheme_id, who=by.name,
          detail=f"evidence {evidence_id} ({record.body} · {record.obligation} · {record.period or record.event}): "
                 f"{was}, accepted; scored again")
