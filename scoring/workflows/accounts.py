"""Signing in, sessions and accounts: who may act, as what, for which body."""

from __future__ import annotations

import pandas as pd

from scoring.store import accounts, cycle
from scoring.store.accounts import Actor, LoginRefused, PermissionDenied
from scoring.store.audit import audit
from scoring.store.db import session_secret
from scoring.workflows._base import (
    DatabaseBusy,
    ReadOnlyDatabase,
    _as,
    _refusals_audited,
    _signed_in,
    transaction,
)


def sign_in(db: str | None, *, name: str | None, password: str | None, client: str = "") -> Actor:
    """The actor for a name and password; a database without accounts is open (`name` or `local`).

    `client` names where the attempt comes from (a terminal's user@host, a browser's address). A
    refused sign-in is recorded and audited in a transaction of its own; too many failures for a
    name or from a client lock further sign-ins (see `accounts.Limits`)."""
    try:
        with transaction(db) as session:
            return accounts.authenticate(session, name=name, password=password, client=client)
    except LoginRefused as refusal:
        try:
            with transaction(db) as session:
                accounts.record_login_refusal(session, refusal)
        except (ReadOnlyDatabase, DatabaseBusy):
            pass  # a read-only (or busy) database cannot count failures; the refusal stands
        raise


def session_token(db: str | None, *, actor: Actor) -> str:
    """A signed, expiring token that signs `actor` in again (every page view of the dashboard tab holding it), until it expires or
    its session ends: signed out, the account disabled, its password or role changed."""
    try:
        with transaction(db) as session:
            who = _as(session, actor, _signed_in(actor))
            return accounts.session_token(session, actor=who, secret=session_secret(db))
    except ReadOnlyDatabase:  # no row can be stored: a session of this server process only
        with transaction(db) as session:
            who = _as(session, actor, _signed_in(actor))
            return accounts.session_token(session, actor=who, secret=session_secret(db), stored=False)


def sign_out(db: str | None, *, token: str) -> None:
    """End the session of a token: the token (and any copy of it) is refused from now on."""
    with transaction(db) as session:
        accounts.end_session(session, token=token, secret=session_secret(db))


def resume_session(db: str | None, *, token: str) -> Actor:
    """The account a session token signs in (refused when forged, expired, or no longer valid)."""
    with transaction(db) as session:
        return accounts.resume(session, token=token, secret=session_secret(db))


def has_accounts(db: str | None) -> bool:
    with transaction(db) as session:
        return accounts.has_accounts(session)


def add_user(db: str | None, *, actor: Actor | None, name: str, password: str, role: str,
             firm: str | None = None) -> None:
    """Add an account. The first account (actor None: nobody can sign in yet) must be an admin."""
    with transaction(db) as session:
        if accounts.has_accounts(session):
            if actor is None:
                raise PermissionDenied("this database has accounts: sign in as an admin to add one")
            by = _as(session, actor, "users")
        else:
            by = Actor(name, None)
        accounts.add_user(session, name=name, password=password, role=role, by=by, firm=firm)


def set_role(db: str | None, *, actor: Actor, name: str, role: str, firm: str | None = None) -> None:
    """Change a role (never leaving no active admin); a firm account names its firm."""
    with transaction(db) as session:
        accounts.set_role(session, name=name, role=role, firm=firm, by=_as(session, actor, "users"))


def disable_user(db: str | None, *, actor: Actor, name: str) -> None:
    """Disable an account (refused for the last active admin); its open sessions end at once."""
    with transaction(db) as session:
        accounts.disable(session, name=name, by=_as(session, actor, "users"))


def enable_user(db: str | None, *, actor: Actor, name: str) -> None:
    """Enable a disabled account again (and lift its sign-in lockout)."""
    with transaction(db) as session:
        accounts.enable(session, name=name, by=_as(session, actor, "users"))


def set_password(db: str | None, *, actor: Actor, name: str | None, password: str) -> None:
    """Change one's own password (`name` None or one's own), or, as an admin, reset another's.
    Sessions signed in with the old password end."""
    with transaction(db) as session:
        who = _as(session, actor, _signed_in(actor))
        accounts.set_password(session, name=name or who.name, password=password, by=who)


def assign(db: str | None, *, actor: Actor, name: str, body: str, obligation: str) -> None:
    with transaction(db) as session:
        accounts.assign(session, name=name, body=body, obligation=obligation, by=_as(session, actor, "users"))


def users(db: str | None, *, actor: Actor) -> pd.DataFrame:
    with transaction(db) as session:
        _as(session, actor, "users")
        return accounts.users_with_firms(session)


@_refusals_audited("user_body")
def tie_body(db: str | None, *, actor: Actor, name: str, body: str) -> None:
    """Tie a `body` account to the one assessed unit it acts for."""
    with transaction(db) as session:
        who = _as(session, actor, "users")
        cycle.tie_body(session, user=name, body=body)
        audit(session, who=who.name, action="user_body", detail=f"{name}: body {body}")
