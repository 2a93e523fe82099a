"""Accounts and roles through the real command line: every refusal, firm assignments, rejection,
argon2 hashes, and the audit trail naming the authenticated user."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from scoring.errors import GongkaiError
from scoring.store import repository as store
from scoring.store.audit import audit_trail
from scoring.store.db import engine_for
from scoring.store.models import User
from tests.cli import clean_env, gongkai
from tests.conftest import BACKENDS, SCHEME_2017, fresh_database

PASSWORDS = {"root": "root-pass-1", "eva": "eva-pass-12", "acme": "acme-pass-1", "vic": "vic-pass-12",
             "gone": "gone-pass-1"}


def run(url, who, *args, password=None, new_password=None, env_extra=None):
    env = clean_env(**(env_extra or {}))
    if who:
        env["GONGKAI_USER"] = who
        env["GONGKAI_PASSWORD"] = password if password is not None else PASSWORDS[who]
    if new_password:
        env["GONGKAI_NEW_PASSWORD"] = new_password
    return gongkai(*args, "--db", url, env=env)


def _build(db_url, tmp_path):
    """The 2017 scheme with accounts: admin root, evaluator eva, firm acme of 甲公司 (濟南 · 6.7), viewer vic."""
    assert run(db_url, None, "criteria", "load", str(SCHEME_2017)).returncode == 0
    r = run(db_url, None, "user", "add", "root", "--role", "admin", new_password=PASSWORDS["root"])
    assert r.returncode == 0, r.stderr
    for name, role in (("eva", "evaluator"), ("acme", "firm"), ("vic", "viewer"), ("gone", "viewer")):
        firm = ["--firm", "甲公司"] if role == "firm" else []
        r = run(db_url, "root", "user", "add", name, "--role", role, *firm, new_password=PASSWORDS[name])
        assert r.returncode == 0, r.stderr
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
        (None, None, ["runs", "list"], "this database has accounts: set GONGKAI_USER"),
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


def test_a_viewer_scores_but_stores_no_run(site):
    """A viewer reads: `gongkai score` (and the dashboard's scorecard) computes and shows the score, but
    storing a scoring run needs the evaluator or admin role (it wrote a run in the viewer's name)."""
    from scoring import workflows
    from scoring.store.accounts import Actor

    url, ok, _ = site
    assert run(url, "acme", "import", str(ok)).returncode == 0
    r = run(url, "vic", "score", "--level", "obligation", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert "jinan,6.7,3.0,3.0" in r.stdout
    assert "not stored (as of 2018-01-31): storing a scoring run needs the evaluator or admin role" in r.stderr
    card = workflows.scorecard(url, actor=Actor("vic", "viewer"))  # the dashboard's path
    assert len(card.scores) == 67
    assert "no scoring runs stored yet" in run(url, "vic", "runs", "list").stdout
    with Session(engine_for(url)) as s:
        assert "score" not in set(audit_trail(s)["action"])
    assert "scoring run 1 " in run(url, "eva", "score").stderr  # an evaluator stores it …
    assert "scoring run 1 " in run(url, "vic", "score").stderr  # … and a viewer is shown that stored run
    assert len(run(url, "vic", "runs", "list").stdout.strip().splitlines()) == 2  # a header and run 1


def test_passwords_are_argon2_hashes(shared_site):
    url, _, _ = shared_site
    with Session(engine_for(url)) as s:
        hashes = list(s.exec(select(User.password_hash)))
    assert all(h.startswith("$argon2") for h in hashes)
    assert not any(p in h for h in hashes for p in PASSWORDS.values())


def test_the_default_password_hash_is_argon2id_rfc9106(monkeypatch):
    """Outside this suite (which sets the cheapest profile) a new hash is argon2id with 64 MiB, t=3, and
    verifies whatever the setting is now; a profile name that does not exist is refused by name."""
    from scoring.store import accounts

    monkeypatch.delenv("GONGKAI_PASSWORD_HASH")
    made = accounts._hasher().hash("pw-123456")
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    monkeypatch.setenv("GONGKAI_PASSWORD_HASH", "cheapest")
    assert accounts._hasher().verify(made, "pw-123456")
    monkeypatch.setenv("GONGKAI_PASSWORD_HASH", "fast")
    with pytest.raises(GongkaiError, match="GONGKAI_PASSWORD_HASH 'fast' is not one of: rfc9106-low-memory"):
        accounts._hasher()


def test_first_account_must_be_admin(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    r = run(url, None, "user", "add", "bob", "--role", "viewer", new_password="bob-pass-12")
    assert r.returncode == 1 and "the first account must be an admin" in r.stderr


# ---- second round (issue 12): every refusal below failed before, on both databases ----------------

def audit_of(url):
    with Session(engine_for(url)) as s:
        return audit_trail(s)


def scored(url, body="jinan", obligation="6.7"):
    """The points earned on one obligation (the obligation level's `earned` column)."""
    out = run(url, "eva", "score", "--level", "obligation", "--format", "csv").stdout
    return next(line for line in out.splitlines() if line.startswith(f"{body},{obligation},")).split(",")[3]


def test_a_firm_account_writes_only_as_its_firm(site, tmp_path):
    url, ok, _ = site
    other = tmp_path / "other-firm.csv"
    other.write_text("單位,任務編號,發佈時間,評估機構\n濟南市,6.7,2017-06-10,甲公司\n濟南市,6.7,2017-06-11,乙公司\n",
                     encoding="utf-8")
    r = run(url, "acme", "import", str(other))
    assert r.returncode == 1
    assert ("row 3, column assessor, value '乙公司': account acme belongs to firm 甲公司; its rows are 甲公司's"
            in r.stderr)
    r = run(url, "acme", "import", str(ok), "--firm", "乙公司")
    assert r.returncode == 1 and "row 1, column firm, value '乙公司': account acme belongs to firm 甲公司" in r.stderr
    assert counts(url) == 0
    # 乙公司's record for the same key, imported by the admin, is never replaced by the firm account
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("單位,任務編號,發佈時間,評估機構\n濟南市,6.7,2017-08-30,乙公司\n", encoding="utf-8")
    assert run(url, "root", "import", str(theirs)).returncode == 0
    r = run(url, "acme", "import", str(ok))  # assessor blank: 甲公司's row
    assert r.returncode == 0 and "1 new, 0 replaced" in r.stdout, r.stdout + r.stderr
    with Session(engine_for(url)) as s:
        ev = store.evidence_with_provenance(s, scheme_id="shandong-2017").set_index("assessor")
    assert sorted(ev.index) == ["乙公司", "甲公司"]
    assert str(ev.loc["乙公司", "published_at"])[:10] == "2017-08-30" and ev.loc["甲公司", "firm"] == "甲公司"
    assert ev.loc["甲公司", "imported_by"] == "acme" and ev.loc["乙公司", "earlier_values"] == 0


def test_a_firm_account_needs_its_firm(shared_site):
    url, _, _ = shared_site
    r = run(url, "root", "user", "add", "nofirm", "--role", "firm", new_password="nofirm-pass")
    assert r.returncode == 1 and "a firm account belongs to one firm: give --firm NAME" in r.stderr
    r = run(url, "root", "user", "add", "vic2", "--role", "viewer", "--firm", "甲公司", new_password="vic2-pass-1")
    assert r.returncode == 1 and "only a firm account has a firm" in r.stderr


def test_a_resent_value_for_a_rejected_record_waits_for_an_evaluator(site, tmp_path):
    url, ok, _ = site
    assert run(url, "acme", "import", str(ok)).returncode == 0
    assert scored(url) == "3.0"
    assert run(url, "eva", "reject", "1", "--reason", "網址打不開").returncode == 0
    resent = tmp_path / "resent.csv"
    resent.write_text("單位,任務編號,發佈時間\n濟南市,6.7,2017-06-11\n", encoding="utf-8")
    r = run(url, "acme", "import", str(resent))
    assert r.returncode == 0 and "1 replaced" in r.stdout and "1 of the replaced are new values for rejected" in r.stdout
    assert scored(url) == "0.0"  # still not scored
    r = run(url, "acme", "accept", "1")
    assert r.returncode == 1 and "user acme (firm) may not reject" in r.stderr
    assert scored(url) == "0.0"
    from scoring import workflows
    from scoring.store.accounts import Actor

    old = workflows.history(url, actor=Actor("eva", "evaluator"), evidence_id=1)
    assert old["rejected"].tolist() == ["網址打不開"] and str(old["published_at"].iloc[0])[:10] == "2017-06-10"
    r = run(url, "eva", "accept", "1")
    assert r.returncode == 0, r.stderr
    assert scored(url) == "3.0"
    trail = audit_of(url)
    assert trail[trail["action"] == "resent"].iloc[0]["actor"] == "acme"
    assert trail[trail["action"] == "accept"].iloc[0]["actor"] == "eva"
    r = run(url, "eva", "accept", "1")
    assert r.returncode == 1 and "evidence 1 is neither rejected nor waiting for review" in r.stderr


def test_the_last_active_admin_stays(site):
    url, _, _ = site
    for args in (["user", "disable", "root"], ["user", "role", "root", "viewer"]):
        r = run(url, "root", *args)
        assert r.returncode == 1 and "refused: root is the last active admin" in r.stderr, r.stderr
    assert run(url, "root", "runs", "list").returncode == 0  # still an admin
    assert run(url, "root", "user", "add", "ada", "--role", "admin", new_password="ada-pass-12").returncode == 0
    assert run(url, "root", "user", "disable", "ada").returncode == 0
    r = run(url, "root", "user", "disable", "root")  # ada is disabled: root is still the last active one
    assert r.returncode == 1 and "last active admin" in r.stderr
    assert run(url, "root", "user", "enable", "ada").returncode == 0
    assert run(url, "ada", "user", "disable", "root", password="ada-pass-12").returncode == 0
    assert run(url, "root", "runs", "list").returncode == 1
    assert run(url, "ada", "user", "enable", "root", password="ada-pass-12").returncode == 0
    assert run(url, "root", "runs", "list").returncode == 0
    trail = audit_of(url)
    assert [(a.actor, a.detail) for a in trail[trail["action"] == "user_enable"].itertuples()] == \
        [("ada", "root"), ("root", "ada")]


def test_passwords_change_and_reset(site):
    url, _, _ = site
    r = run(url, "vic", "user", "password", "eva", new_password="eva-new-pass")
    assert r.returncode == 1 and "user vic (viewer) may not users" in r.stderr
    assert run(url, "vic", "user", "password", new_password="short").returncode == 1
    r = run(url, "vic", "user", "password", new_password="vic-new-pass")
    assert r.returncode == 0, r.stderr
    assert run(url, "vic", "runs", "list").returncode == 1  # the old password no longer works
    assert run(url, "vic", "runs", "list", password="vic-new-pass").returncode == 0
    assert run(url, "root", "user", "password", "vic", new_password="vic-reset-1").returncode == 0
    assert run(url, "vic", "runs", "list", password="vic-reset-1").returncode == 0
    trail = audit_of(url)
    changes = trail[trail["action"] == "user_password"]
    assert [(a.actor, a.detail) for a in changes.itertuples()] == [
        ("root", "vic: password reset by root"), ("vic", "vic: password changed")]
    assert not trail["detail"].str.contains("vic-new-pass|vic-reset-1").any()


def test_failed_sign_ins_lock_the_account_then_cool_down(site):
    url, _, _ = site
    limits = {"GONGKAI_LOGIN_MAX_FAILURES": "3", "GONGKAI_LOGIN_WINDOW_SECONDS": "600"}
    for _ in range(3):
        r = run(url, "vic", "runs", "list", password="guess-guess", env_extra=limits)
        assert "unknown user or wrong password" in r.stderr
    r = run(url, "vic", "runs", "list", env_extra=limits)  # the right password, locked out
    assert r.returncode == 1 and "too many failed sign-ins for account vic: locked; try again in 10 minute(s)" in r.stderr
    assert run(url, "eva", "runs", "list", env_extra=limits).returncode == 0  # other accounts are not locked
    trail = audit_of(url)
    assert (trail[trail["action"] == "login_failed"]["actor"] == "vic").sum() == 3
    assert (trail[trail["action"] == "login_refused"]["actor"] == "vic").sum() == 1
    _age_failures(url, seconds=570)  # the oldest failure is still inside the window: still locked
    assert "try again in 1 minute(s)" in run(url, "vic", "runs", "list", env_extra=limits).stderr
    _age_failures(url, seconds=31)  # the cool-down: the failures are now more than 600 s old
    assert run(url, "vic", "runs", "list", env_extra=limits).returncode == 0


def _age_failures(url, *, seconds):
    """As if `seconds` had passed since every recorded failed sign-in (instead of sleeping)."""
    import datetime as dt

    from scoring.store.models import LoginFailure

    with Session(engine_for(url)) as s:
        for failure in s.exec(select(LoginFailure)):
            failure.at -= dt.timedelta(seconds=seconds)
            s.add(failure)
        s.commit()


def test_failed_sign_ins_lock_the_client(site):
    url, _, _ = site
    limits = {"GONGKAI_LOGIN_CLIENT_MAX_FAILURES": "4"}
    for name in ("a1", "a2", "a3", "a4"):  # guessing names from one terminal
        assert run(url, name, "runs", "list", password="guess-guess", env_extra=limits).returncode == 1
    r = run(url, "eva", "runs", "list", env_extra=limits)
    assert r.returncode == 1 and "too many failed sign-ins from this client: locked" in r.stderr


def test_a_firm_reads_no_other_bodys_history(site, tmp_path):
    from scoring import workflows
    from scoring.errors import GongkaiError
    from scoring.store.accounts import Actor

    url, ok, _ = site
    qingdao = tmp_path / "qd.csv"
    for day in ("10", "12"):
        qingdao.write_text(f"單位,任務編號,發佈時間,備註\n青島市,6.7,2017-06-{day},secret {day}\n", encoding="utf-8")
        assert run(url, "root", "import", str(qingdao)).returncode == 0
    assert run(url, "acme", "import", str(ok)).returncode == 0
    acme = Actor("acme", "firm")
    with pytest.raises(GongkaiError, match="^no evidence record 1$"):
        workflows.history(url, actor=acme, evidence_id=1)
    assert workflows.history(url, actor=acme, evidence_id=2).empty  # its own record: readable
    assert workflows.evidence(url, actor=acme, scheme_id="shandong-2017")["id"].tolist() == [2]
    assert len(workflows.history(url, actor=Actor("vic", "viewer"), evidence_id=1)) == 1


def test_a_session_survives_a_reload_but_not_a_role_change_disable_or_password_change(site, monkeypatch):
    from scoring import workflows
    from scoring.errors import GongkaiError
    from scoring.store.accounts import Actor

    url, _, _ = site
    monkeypatch.setenv("GONGKAI_SECRET", "a-test-secret-of-sufficient-length-0123456789")
    root = Actor("root", "admin")
    vic = workflows.sign_in(url, name="vic", password=PASSWORDS["vic"], client="test")
    token = workflows.session_token(url, actor=vic)
    assert workflows.resume_session(url, token=token) == Actor("vic", "viewer")
    body, sig = token.split(".")
    # forgeries change a whole base64 character (a last character's spare bits decode to the same bytes)
    for forged in (f"{body}.{'B' if sig[0] == 'A' else 'A'}{sig[1:]}", f"{'B' if body[0] == 'A' else 'A'}{body[1:]}.{sig}",
                   "x.y", ""):
        with pytest.raises(GongkaiError, match="the session has expired or is no longer valid"):
            workflows.resume_session(url, token=forged)
    workflows.set_role(url, actor=root, name="vic", role="evaluator")
    with pytest.raises(GongkaiError, match="^the session has ended"):  # a new role: signed in again
        workflows.resume_session(url, token=token)
    token = workflows.session_token(url, actor=Actor("vic", "evaluator"))
    assert workflows.resume_session(url, token=token) == Actor("vic", "evaluator")
    workflows.set_password(url, actor=root, name="vic", password="vic-other-pass")
    with pytest.raises(GongkaiError, match="no longer valid"):
        workflows.resume_session(url, token=token)
    token = workflows.session_token(url, actor=Actor("vic", "evaluator"))
    workflows.disable_user(url, actor=root, name="vic")
    with pytest.raises(GongkaiError, match="no longer valid"):
        workflows.resume_session(url, token=token)
    monkeypatch.setenv("GONGKAI_SESSION_HOURS", "-1")
    expired = workflows.session_token(url, actor=Actor("eva", "evaluator"))
    with pytest.raises(GongkaiError, match="expired"):
        workflows.resume_session(url, token=expired)


ENDED = "the session has ended (signed out, or the account was changed): sign in again"


def test_signing_out_ends_the_session_and_a_copied_token_with_it(site, monkeypatch):
    """退出登录 ends the session server-side: the token copied before (a URL in another browser) is
    refused; the account's other sessions go on; a new sign-in works."""
    from scoring import workflows
    from scoring.errors import GongkaiError
    from scoring.store.accounts import Actor

    url, _, _ = site
    monkeypatch.setenv("GONGKAI_SECRET", "a-test-secret-of-sufficient-length-0123456789")
    vic = workflows.sign_in(url, name="vic", password=PASSWORDS["vic"], client="test")
    copied, other = workflows.session_token(url, actor=vic), workflows.session_token(url, actor=vic)
    workflows.sign_out(url, token=copied)
    with pytest.raises(GongkaiError) as e:
        workflows.resume_session(url, token=copied)
    assert str(e.value) == ENDED
    assert workflows.resume_session(url, token=other) == Actor("vic", "viewer")  # another browser's session
    workflows.sign_out(url, token=copied)  # signing out twice changes nothing
    with pytest.raises(GongkaiError, match="no longer valid"):  # a forged token cannot sign anyone out
        workflows.sign_out(url, token=other[:-2] + ("AA" if not other.endswith("AA") else "BB"))
    assert workflows.resume_session(url, token=other) == Actor("vic", "viewer")


@pytest.mark.parametrize("change", ["disable+enable", "own password", "role"])
def test_a_token_from_before_an_account_change_stays_refused(site, monkeypatch, change):
    """Disabling (then enabling again), a password change by the account itself, a role change: every
    session from before ends for good; signing in again works."""
    from scoring import workflows
    from scoring.errors import GongkaiError
    from scoring.store.accounts import Actor

    url, _, _ = site
    monkeypatch.setenv("GONGKAI_SECRET", "a-test-secret-of-sufficient-length-0123456789")
    root = Actor("root", "admin")
    vic = workflows.sign_in(url, name="vic", password=PASSWORDS["vic"], client="test")
    old = workflows.session_token(url, actor=vic)
    password = PASSWORDS["vic"]
    if change == "disable+enable":
        workflows.disable_user(url, actor=root, name="vic")
        workflows.enable_user(url, actor=root, name="vic")
    elif change == "own password":
        password = "vic-new-password"
        workflows.set_password(url, actor=vic, name=None, password=password)
    else:
        workflows.set_role(url, actor=root, name="vic", role="evaluator")
    with pytest.raises(GongkaiError) as e:
        workflows.resume_session(url, token=old)
    assert str(e.value) == (ENDED if change != "own password" else
                            "the session has expired or is no longer valid: sign in again")
    again = workflows.sign_in(url, name="vic", password=password, client="test")
    assert workflows.resume_session(url, token=workflows.session_token(url, actor=again)) == again
