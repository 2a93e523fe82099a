"""Accounts and roles through the real command line: every refusal, firm assignments, rejection,
argon2 hashes, and the audit trail naming the authenticated user."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlmodel import Session, select

from scoring.store import repository as store
from scoring.store.audit import audit_trail
from scoring.store.db import engine_for
from scoring.store.models import User
from tests.conftest import BACKENDS, SCHEME_2017, fresh_database

PASSWORDS = {"root": "root-pass-1", "eva": "eva-pass-12", "acme": "acme-pass-1", "vic": "vic-pass-12",
             "gone": "gone-pass-1"}


def run(url, who, *args, password=None, new_password=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGKAI_")}
    if who:
        env["GONGKAI_USER"] = who
        env["GONGKAI_PASSWORD"] = password if password is not None else PASSWORDS[who]
    if new_password:
        env["GONGKAI_NEW_PASSWORD"] = new_password
    return subprocess.run([sys.executable, "-m", "scoring.cli", *args, "--db", url], capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)


def _build(db_url, tmp_path):
    """The 2017 scheme with accounts: admin root, evaluator eva, firm acme (濟南 · 6.7), viewer vic."""
    assert run(db_url, None, "criteria", "load", str(SCHEME_2017)).returncode == 0
    r = run(db_url, None, "user", "add", "root", "--role", "admin", new_password=PASSWORDS["root"])
    assert r.returncode == 0, r.stderr
    for name, role in (("eva", "evaluator"), ("acme", "firm"), ("vic", "viewer"), ("gone", "viewer")):
        assert run(db_url, "root", "user", "add", name, "--role", role, new_password=PASSWORDS[name]).returncode == 0
    assert run(db_url, "root", "user", "assign", "acme", "--body", "jinan", "--obligation", "6.7").returncode == 0
    assert run(db_url, "root", "user", "disable", "gone").returncode == 0
    ok = tmp_path / "ok.csv"
    ok.write_text("單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n", encoding="utf-8")
    other = tmp_path / "other.csv"
    other.write_text("單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n青島市,6.7,2017-06-12\n", encoding="utf-8")
    return db_url, ok, other


@pytest.fixture(scope="module", params=BACKENDS)
def shared_site(request, tmp_path_factory):
    """One site per backend for the refusal table: those cases must change nothing."""
    folder = tmp_path_factory.mktemp("site")
    url, drop = fresh_database(request.param, folder)
    yield _build(url, folder)
    drop()


@pytest.fixture(params=BACKENDS)
def site(request, tmp_path):
    url, drop = fresh_database(request.param, tmp_path)
    yield _build(url, tmp_path)
    drop()


def counts(url):
    with Session(engine_for(url)) as s:
        return len(store.load_evidence(s, scheme_id="shandong-2017"))


@pytest.mark.parametrize(
    ("who", "password", "args", "message"),
    [
        (None, None, ["runs", "list"], "unknown user or wrong password"),
        ("vic", "wrong-password", ["runs", "list"], "unknown user or wrong password"),
        ("gone", None, ["runs", "list"], "the account gone is disabled"),
        ("vic", None, ["import", "OK"], "user vic (viewer) may not import; allowed roles: admin, firm"),
        ("eva", None, ["import", "OK"], "user eva (evaluator) may not import"),
        ("eva", None, ["criteria", "load", str(SCHEME_2017)], "user eva (evaluator) may not scheme"),
        ("acme", None, ["score"], "user acme (firm) may not read"),
        ("vic", None, ["report", "--out", "r.xlsx"], "user vic (viewer) may not score"),
        ("vic", None, ["reject", "1", "--reason", "x"], "user vic (viewer) may not reject"),
        ("acme", None, ["audit"], "user acme (firm) may not audit"),
        ("eva", None, ["user", "add", "x", "--role", "admin"], "user eva (evaluator) may not users"),
        ("vic", None, ["user", "role", "acme", "admin"], "user vic (viewer) may not users"),
        ("acme", None, ["demo"], "user acme (firm) may not scheme"),
    ],
)
def test_refusals(shared_site, who, password, args, message):
    url, ok, _ = shared_site
    args = [str(ok) if a == "OK" else a for a in args]
    before = counts(url)
    r = run(url, who, *args, password=password)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    assert counts(url) == before


def test_firm_imports_only_its_assignment(site):
    url, ok, other = site
    r = run(url, "acme", "import", str(other))
    assert r.returncode == 1
    assert "row 3, column body, value 'qingdao · 6.7': firm acme is not assigned this body and obligation" in r.stderr
    assert counts(url) == 0
    assert run(url, "acme", "import", str(ok)).returncode == 0
    assert counts(url) == 1


def test_rejected_evidence_is_kept_but_not_scored(site):
    url, ok, _ = site
    assert run(url, "acme", "import", str(ok)).returncode == 0
    before = run(url, "eva", "score", "--level", "obligation", "--format", "csv").stdout
    assert "jinan,6.7,3.0,3.0" in before
    r = run(url, "eva", "reject", "1", "--reason", "網址打不開")
    assert r.returncode == 0, r.stderr
    after = run(url, "eva", "score", "--level", "obligation", "--format", "csv").stdout
    assert "jinan,6.7,3.0,0.0" in after
    with Session(engine_for(url)) as s:
        shown = store.evidence_with_provenance(s, scheme_id="shandong-2017")
        trail = audit_trail(s)
    assert shown["rejected"].tolist() == ["網址打不開"] and shown["imported_by"].tolist() == ["acme"]
    rejection = trail[trail["action"] == "reject"].iloc[0]
    assert rejection["actor"] == "eva" and "網址打不開" in rejection["detail"]
    assert trail[trail["action"] == "import"].iloc[0]["actor"] == "acme"


def test_passwords_are_argon2_hashes(shared_site):
    url, _, _ = shared_site
    with Session(engine_for(url)) as s:
        hashes = list(s.exec(select(User.password_hash)))
    assert all(h.startswith("$argon2") for h in hashes)
    assert not any(p in h for h in hashes for p in PASSWORDS.values())


def test_first_account_must_be_admin(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    r = run(url, None, "user", "add", "bob", "--role", "viewer", new_password="bob-pass-12")
    assert r.returncode == 1 and "the first account must be an admin" in r.stderr
