"""The assessment cycle through the real command line, on SQLite and PostgreSQL: publish a preliminary
result, a body appeals its own finding (and only its own), an evaluator decides (a firm cannot),
the final result is refused while an appeal is undecided, then frozen and still reproducible."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import update
from sqlmodel import Session

from scoring import workflows
from scoring.errors import GongkaiError
from scoring.store.accounts import Actor, PermissionDenied
from scoring.store.audit import audit_trail
from scoring.store.db import engine_for
from scoring.store.models import Publication
from tests.conftest import BACKENDS, SCHEME_2017, fresh_database
from tests.test_accounts import PASSWORDS, run

PASSWORDS.update({"jn": "jinan-pass-1", "qd": "qingdao-pass"})
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32


def _site(url, folder):
    """The 2017 scheme; root (admin), eva (evaluator), acme (firm), jn (body jinan), qd (body qingdao);
    evidence: 濟南 published 6.7 on time, 青島 did not (its 6.7 deadline item is missing). Built
    in-process (the CLI runs are the steps under test)."""
    workflows.load_scheme_file(url, actor=Actor("setup", None), path=SCHEME_2017)
    workflows.add_user(url, actor=None, name="root", password=PASSWORDS["root"], role="admin")
    root = Actor("root", "admin")
    for name, role in (("eva", "evaluator"), ("acme", "firm"), ("jn", "body"), ("qd", "body")):
        workflows.add_user(url, actor=root, name=name, password=PASSWORDS[name], role=role,
                           firm="甲公司" if role == "firm" else None)
    workflows.tie_body(url, actor=root, name="jn", body="jinan")
    workflows.tie_body(url, actor=root, name="qd", body="qingdao")
    workflows.import_file(url, actor=root, name="ev.csv", data="單位,任務編號,發佈時間\n濟南市,6.7,2017-06-10\n".encode())
    shot = folder / "qingdao-6.7.png"
    shot.write_bytes(PNG)
    return url, shot


@pytest.fixture(params=BACKENDS)
def site(request, tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    url, drop = fresh_database(request.param, tmp_path)
    yield _site(url, tmp_path)
    drop()


def ok(r):
    assert r.returncode == 0, r.stderr
    return r.stdout


def refused(r, message):
    assert r.returncode == 1, r.stdout
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_one_appeal_from_submission_to_final(site):
    url, shot = site
    assert "appeals until" in ok(run(url, "eva", "publish", "--preliminary", "--days", "5"))
    # a body sees its own result, and only its own
    own = ok(run(url, "jn", "result"))
    assert "preliminary result 1" in own and "jinan" in own and "qingdao" not in own
    refused(run(url, "jn", "result", "--body", "qingdao"), "user jn acts only for its own body jinan, not qingdao")
    assert re.search(r"\n\s*6\.7\s+deadline\s+missing\s+\d", ok(run(url, "qd", "result")))
    # a body appeals only its own finding
    refused(run(url, "jn", "appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline",
                "--reason", "x"), "user jn acts only for its own body jinan, not qingdao")
    refused(run(url, "acme", "appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline",
                "--reason", "x"), "user acme (firm) may not appeal")
    refused(run(url, "qd", "appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "2017-03",
                "--reason", "x"), "no item '2017-03' of qingdao · 6.7; its items: deadline")
    out = ok(run(url, "qd", "appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline",
                 "--reason", "已於6月1日公開，見截圖", "--attach", str(shot), "--published-at", "2017-06-01",
                 "--url", "http://www.qingdao.gov.cn/gk/1"))
    assert "appeal 1 filed" in out
    # listing: a body only its own body's appeals; evaluators all
    assert "no appeals" in ok(run(url, "jn", "appeal", "list"))
    assert "已於6月1日公開" in ok(run(url, "eva", "appeal", "list", "--open"))
    # only an evaluator (or admin) decides; the final result waits for every decision
    refused(run(url, "acme", "appeal", "decide", "1", "--accept", "--reason", "ok"), "user acme (firm) may not decide")
    refused(run(url, "qd", "appeal", "decide", "1", "--accept", "--reason", "ok"), "user qd (body) may not decide")
    refused(run(url, "eva", "publish", "--final"), "1 appeal(s) undecided: 1 (qingdao · 6.7 · deadline)")
    before = ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv"))
    assert "qingdao,6.7,3.0,0.0" in before
    assert "its file is evidence batch 2" in ok(run(url, "eva", "appeal", "decide", "1", "--accept",
                                                     "--reason", "截圖屬實"))
    refused(run(url, "eva", "appeal", "decide", "1", "--reject", "--reason", "x"), "appeal 1 was already decided: accepted by eva")
    after = ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv"))
    assert "qingdao,6.7,3.0,3.0" in after  # the appeal's file is now the record that counts
    final = ok(run(url, "eva", "publish", "--final"))
    assert "final result 2" in final
    refused(run(url, "eva", "publish", "--final"), "the final result of shandong-2017 was published on")
    refused(run(url, "qd", "appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline",
                "--reason", "x"), "appeals are closed")
    with Session(engine_for(url)) as s:
        pub = s.get(Publication, 2)
        trail = audit_trail(s)
        record = workflows.evidence(url, actor=Actor("eva", "evaluator"), scheme_id="shandong-2017")
    assert record[record["body"] == "qingdao"][["file_name", "assessor", "attachment"]].values.tolist() == [
        ["appeal 1", "申訴 appeal 1", hashlib.sha256(PNG).hexdigest()]]
    done = trail[~trail["action"].str.endswith("_refused")]
    steps = done[done["action"].str.startswith(("appeal", "publish"))][["actor", "action"]].values.tolist()
    assert steps[::-1] == [["eva", "publish_preliminary"], ["qd", "appeal_add"], ["eva", "appeal_accepted"],
                           ["eva", "publish_final"]]
    refusals = trail[trail["action"].str.endswith("_refused")][["actor", "action"]].values.tolist()
    assert refusals[::-1] == [  # each refusal above, in order, under the account that tried
        ["jn", "result_refused"], ["jn", "appeal_add_refused"], ["acme", "appeal_add_refused"],
        ["qd", "appeal_add_refused"], ["acme", "appeal_decide_refused"], ["qd", "appeal_decide_refused"],
        ["eva", "publish_refused"], ["eva", "appeal_decide_refused"], ["eva", "publish_refused"],
        ["qd", "appeal_add_refused"]]
    # later evidence makes new runs; the frozen final run still reproduces
    later = shot.with_name("later.csv")
    later.write_text("單位,任務編號,發佈時間\n煙台市,6.7,2017-06-11\n", encoding="utf-8")
    ok(run(url, "root", "import", str(later)))
    assert f"run {pub.run_id}: recomputed to the same scores" in ok(run(url, "eva", "runs", "verify", str(pub.run_id)))


def test_appeal_after_the_window_names_the_closing_date(site):
    url, _ = site
    eva, qd = Actor("eva", "evaluator"), Actor("qd", "body")
    # 2017-09-29 + 5 working days: 09-30 (a make-up Saturday), then after 國慶 10-09 … 10-12
    pub = workflows.publish(url, actor=eva, stage="preliminary", days=5, today=dt.date(2017, 9, 29))
    assert pub.closes_on == dt.date(2017, 10, 12)
    kw = dict(body="qingdao", obligation="6.7", item="deadline", reason="見截圖")
    assert workflows.add_appeal(url, actor=qd, **kw, today=dt.date(2017, 10, 12)) == 1
    with pytest.raises(GongkaiError, match="closed on 2017-10-12; appeals are no longer accepted"):
        workflows.add_appeal(url, actor=qd, **kw, today=dt.date(2017, 10, 13))
    assert len(workflows.appeals(url, actor=eva)) == 1


def test_a_rejected_appeal_stays_on_file_and_changes_nothing(site):
    url, shot = site
    eva, qd = Actor("eva", "evaluator"), Actor("qd", "body")
    workflows.publish(url, actor=eva, stage="preliminary")
    n = workflows.add_appeal(url, actor=qd, body="qingdao", obligation="6.7", item="deadline", reason="見截圖",
                             attachment=(shot.name, PNG), published_at=dt.datetime(2017, 6, 1))
    decision = workflows.decide_appeal(url, actor=eva, appeal_id=n, accept=False, reason="截圖日期不可信")
    assert decision.batch is None
    assert decision.summary == "appeal 1 rejected; the score is unchanged: qingdao · 6.7 earns 0 of 3 points"
    kept = workflows.appeals(url, actor=qd).iloc[0]
    assert (kept["status"], kept["decision"], kept["decided_by"]) == ("rejected", "截圖日期不可信", "eva")
    assert workflows.evidence(url, actor=eva, scheme_id="shandong-2017")["body"].tolist() == ["jinan"]
    with pytest.raises(PermissionDenied, match="user jn acts only for its own body jinan"):
        workflows.body_result(url, actor=Actor("jn", "body"), body="qingdao")


def test_an_untied_body_account_is_refused(site):
    url, _ = site
    ok(run(url, "root", "user", "add", "yt", "--role", "body", new_password="yantai-pass"))
    PASSWORDS["yt"] = "yantai-pass"
    ok(run(url, "eva", "publish", "--preliminary"))
    refused(run(url, "yt", "result"), "the body account yt is not tied to a body yet")
    refused(run(url, "root", "user", "body", "acme", "jinan"), "'acme' is not a body account")
    refused(run(url, "root", "user", "body", "yt", "shanghai"), "no body 'shanghai' in any stored scheme")
    with Session(engine_for(url)) as s:
        s.execute(update(Publication).values(closes_on=dt.date(2017, 1, 1)))
        s.commit()
    refused(run(url, "qd", "appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline",
                "--reason", "x"), "closed on 2017-01-01; appeals are no longer accepted")


def test_attachments_are_served_only_to_who_may_see_them(site):
    url, shot = site
    eva, qd, jn = Actor("eva", "evaluator"), Actor("qd", "body"), Actor("jn", "body")
    workflows.publish(url, actor=eva, stage="preliminary")
    workflows.add_appeal(url, actor=qd, body="qingdao", obligation="6.7", item="deadline", reason="見截圖",
                         attachment=("shot.png", PNG))
    sha = hashlib.sha256(PNG).hexdigest()
    assert workflows.attachment(url, actor=qd, sha256=sha) == ("shot.png", "image/png", PNG)
    assert workflows.attachment(url, actor=eva, sha256=sha)[2] == PNG
    for other in (jn, Actor("acme", "firm")):  # another body, a firm not assigned it: it does not exist for them
        with pytest.raises(GongkaiError, match=f"no attachment {sha[:12]}"):
            workflows.attachment(url, actor=other, sha256=sha)
    page = workflows.add_appeal(url, actor=qd, body="qingdao", obligation="6.7", item="deadline", reason="存檔",
                                attachment=("page.html", b"<!doctype html><html><script>alert(1)</script></html>"))
    listed = workflows.appeals(url, actor=eva).set_index("id")
    assert workflows.attachment(url, actor=qd, sha256=listed.loc[page, "attachment"])[1] == "application/octet-stream"
    with pytest.raises(GongkaiError, match="not a PNG file: its content is HTML"):
        workflows.add_appeal(url, actor=qd, body="qingdao", obligation="6.7", item="deadline", reason="x",
                             attachment=("fake.png", b"<html><body></body></html>"))


def test_every_wrong_role_is_refused_plainly_and_audited(site, tmp_path):
    """Hostile review: each cycle step tried by a viewer, a firm, a body for another body and an untied
    body account. Each is refused with a message naming what the role may not do (or whose body it
    is), nothing changes, and the refusal is in the audit trail under the account that tried it,
    as refused imports and sign-ins are."""
    url, _ = site
    root, eva = Actor("root", "admin"), Actor("eva", "evaluator")
    for name, role in (("vic", "viewer"), ("yt", "body")):
        workflows.add_user(url, actor=root, name=name, password=f"{name}-password-1", role=role)
    vic, acme, jn, qd, yt = (Actor("vic", "viewer"), Actor("acme", "firm"), Actor("jn", "body"),
                             Actor("qd", "body"), Actor("yt", "body"))
    workflows.publish(url, actor=eva, stage="preliminary")
    n = workflows.add_appeal(url, actor=qd, body="qingdao", obligation="6.7", item="deadline", reason="x")
    own = "(own: seeing published results, appeals and 整改 problems)"
    untied = "the body account yt is not tied to a body yet"
    tries = [
        (vic, "publish", lambda a: workflows.publish(url, actor=a, stage="final"),
         "user vic (viewer) may not publish; allowed roles: admin, evaluator (publish: publishing results"),
        (acme, "appeal_add", lambda a: workflows.add_appeal(url, actor=a, body="qingdao", obligation="6.7",
                                                            item="deadline", reason="x"),
         "user acme (firm) may not appeal; allowed roles: admin, body (appeal: filing appeals (申訴))"),
        (vic, "appeal_add", lambda a: workflows.add_appeal(url, actor=a, body="qingdao", obligation="6.7",
                                                           item="deadline", reason="x"), "user vic (viewer) may not appeal"),
        (jn, "appeal_add", lambda a: workflows.add_appeal(url, actor=a, body="qingdao", obligation="6.7",
                                                          item="deadline", reason="x"),
         "user jn acts only for its own body jinan, not qingdao"),
        (yt, "appeal_add", lambda a: workflows.add_appeal(url, actor=a, body="qingdao", obligation="6.7",
                                                          item="deadline", reason="x"), untied),
        (acme, "appeal_decide", lambda a: workflows.decide_appeal(url, actor=a, appeal_id=n, accept=True, reason="ok"),
         "user acme (firm) may not decide; allowed roles: admin, evaluator (decide: deciding appeals (復核))"),
        (vic, "appeal_decide", lambda a: workflows.decide_appeal(url, actor=a, appeal_id=n, accept=True, reason="ok"),
         "user vic (viewer) may not decide"),
        (qd, "appeal_decide", lambda a: workflows.decide_appeal(url, actor=a, appeal_id=n, accept=True, reason="ok"),
         "user qd (body) may not decide"),
        (acme, "appeals", lambda a: workflows.appeals(url, actor=a), f"user acme (firm) may not own; allowed roles: "
                                                                    f"admin, evaluator, viewer, body {own}"),
        (yt, "appeals", lambda a: workflows.appeals(url, actor=a), untied),
        (jn, "result", lambda a: workflows.body_result(url, actor=a, body="qingdao"),
         "user jn acts only for its own body jinan, not qingdao"),
        (acme, "publications", lambda a: workflows.publications(url, actor=a), "user acme (firm) may not own"),
        (jn, "notice", lambda a: workflows.write_notice(url, actor=a, out=tmp_path / "n.docx"),
         "user jn (body) may not publish"),
        (jn, "user_body", lambda a: workflows.tie_body(url, actor=a, name="yt", body="jinan"),
         "user jn (body) may not users; allowed roles: admin (users: managing accounts)"),
    ]
    for actor, action, step, message in tries:
        with pytest.raises(PermissionDenied) as refusal:
            step(actor)
        assert message in str(refusal.value), (actor, action, str(refusal.value))
    workflows.decide_appeal(url, actor=eva, appeal_id=n, accept=False, reason="无证据")
    assert workflows.appeals(url, actor=eva)["status"].tolist() == ["rejected"]  # none of the tries decided it
    workflows.publish(url, actor=eva, stage="final")
    mine = int(workflows.problems(url, actor=qd).iloc[0]["id"])
    later = [
        (vic, "rectify", lambda a: workflows.set_problem(url, actor=a, problem_id=mine, status="verified"),
         "user vic (viewer) may not track; allowed roles: admin, evaluator, body (track: changing the status"),
        (acme, "rectify", lambda a: workflows.set_problem(url, actor=a, problem_id=mine, status="rectified", note="x"),
         "user acme (firm) may not track"),
        (jn, "rectify", lambda a: workflows.set_problem(url, actor=a, problem_id=mine, status="rectified", note="x"),
         f"no 整改 problem {mine} of your body"),
        (qd, "rectify", lambda a: workflows.set_problem(url, actor=a, problem_id=mine, status="verified"),
         "user qd (body) marks its problems rectified; an evaluator verifies or reopens"),
        (jn, "problems", lambda a: workflows.problems(url, actor=a, body="qingdao"),
         "user jn acts only for its own body jinan, not qingdao"),
        (acme, "problems", lambda a: workflows.problems_by_city(url, actor=a), "user acme (firm) may not own"),
        (vic, "rectify_notices", lambda a: workflows.write_rectifications(url, actor=a, out=tmp_path / "r"),
         "user vic (viewer) may not publish"),
    ]
    for actor, action, step, message in later:
        with pytest.raises(GongkaiError) as refusal:
            step(actor)
        assert message in str(refusal.value), (actor, action, str(refusal.value))
    assert workflows.problems(url, actor=eva).set_index("id").loc[mine, "status"] == "open"
    assert not (tmp_path / "n.docx").exists() and not (tmp_path / "r").exists()
    with Session(engine_for(url)) as s:
        trail = audit_trail(s)
    refused = trail[trail["action"].str.endswith("_refused")].iloc[::-1]
    assert [(r.actor, r.action) for r in refused.itertuples()] == [
        (a.name, f"{action}_refused") for a, action, _, _ in tries + later]
    assert all(m in d for d, (*_, m) in zip(refused["detail"], tries + later, strict=True))
    # the command line says the same, as an error line, no traceback
    refused_cli = run(url, "jn", "appeal", "decide", str(n), "--reject", "--reason", "x")
    assert refused_cli.returncode == 1 and "user jn (body) may not decide" in refused_cli.stderr
    assert "Traceback" not in refused_cli.stderr


def test_an_appeal_is_checked_when_filed_and_its_decision_says_what_it_changed(site):
    """Hostile review: --published-at 1800-01-01 / 9999-12-31 were accepted when filed and refused only at
    decision as "row 2, column published_at" of a file nobody sent; an appeal of a finding that lost
    nothing and a second identical appeal were accepted; an acceptance that changed nothing said only
    "accepted"; `appeal list` did not show the claim (published_at, url, file)."""
    url, shot = site
    ok(run(url, "eva", "publish", "--preliminary"))
    add = ["appeal", "add", "--body", "qingdao", "--obligation", "6.7", "--item", "deadline", "--reason", "見截圖"]
    for when in ("1800-01-01", "9999-12-31"):
        refused(run(url, "qd", *add, "--attach", str(shot), "--published-at", when),
                f"the appeal: --published-at {when} 00:00:00: the year is outside 1900–2200: a typo?")
    refused(run(url, "qd", *add, "--published-at", "2016-12-01"),
            "the appeal: --published-at 2016-12-01 00:00:00: dated before the item could exist (2017-05-04")
    refused(run(url, "qd", *add, "--published-at", "2018-03-01"),
            "--published-at 2018-03-01 00:00: after the assessment date 2018-01-31, a publication still counts "
            "as missing, so the appeal cannot change the score")
    refused(run(url, "jn", *[a.replace("qingdao", "jinan") for a in add]),
            "jinan lost no points on 6.7 · deadline (on_time): an appeal cannot change its score")
    assert "appeal 1 filed" in ok(run(url, "qd", *add))  # no file: accepting it can make no record
    assert "appeal 2 filed" in ok(run(url, "qd", *add, "--attach", str(shot), "--published-at", "2017-06-01",
                                      "--url", "http://www.qingdao.gov.cn/gk/1"))
    refused(run(url, "qd", *add, "--attach", str(shot), "--published-at", "2017-06-01",
                "--url", "http://www.qingdao.gov.cn/gk/1"),
            "appeal 2 (open) already makes this claim on qingdao · 6.7 · deadline: an identical appeal cannot "
            "change the decision")
    listed = ok(run(url, "eva", "appeal", "list"))
    assert re.search(r"2017-06-01 00:00\s+http://www.qingdao.gov.cn/gk/1\s+" + hashlib.sha256(PNG).hexdigest()[:12],
                     listed), listed
    assert ok(run(url, "eva", "appeal", "decide", "1", "--accept", "--reason", "理由成立")).strip() == (
        "appeal 1 accepted; the score is unchanged: qingdao · 6.7 earns 0 of 3 points: no evidence record was made "
        "(no file, or a rating or share: the firm re-rates)")
    refused(run(url, "eva", "appeal", "decide", "2", "--accept", "--reason", "截圖屬實", "--published-at", "1800-01-01"),
            "appeal 2: --published-at 1800-01-01 00:00:00: the year is outside 1900–2200: a typo?")
    assert ok(run(url, "eva", "appeal", "decide", "2", "--accept", "--reason", "截圖屬實")).strip() == (
        "appeal 2 accepted; its file is evidence batch 2; qingdao · 6.7 now earns 3 of 3 points (was 0)")
