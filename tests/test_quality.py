"""The quality of the assessment through the real command line, on SQLite and PostgreSQL: a sample
drawn twice with one seed gives the same items; the blind file carries no first reading; a second
firm's readings are stored apart and change no score; the disagreements, settled by an evaluator,
enter the score through the import; agreement per group as worked by hand; every role checked."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from sqlmodel import Session

from scoring import workflows
from scoring.store.accounts import Actor
from scoring.store.audit import audit_trail
from scoring.store.db import engine_for
from tests.conftest import BACKENDS, SCHEME_2017, fresh_database
from tests.test_accounts import PASSWORDS, run
from tests.test_cycle import ok, refused

PASSWORDS.update({"bee": "bee-pass-12", "jn": "jinan-pass-1"})

# 甲公司's reading: 6.7 is due 2017-06-16 (30 working days after 2017-05-04); 1.1.1's rating
FIRST = """單位,任務編號,發佈時間,分值
濟南市,6.7,2017-06-10,
青島市,6.7,2017-06-20,
煙台市,6.7,2017-06-01,
濰坊市,6.7,2017-06-12,
淄博市,6.7,2017-07-01,
省發展改革委,1.1.1,,80
省人力資源社會保障廳,1.1.1,,70
"""
# 乙公司's blind second reading: 青島 found on time (first: late), 濰坊 not found (first: on time),
# 人社廳 rated 60 (first: 70); the rest agree
SECOND = {("jinan", "6.7"): "2017-06-10", ("qingdao", "6.7"): "2017-06-10", ("yantai", "6.7"): "2017-06-01",
          ("weifang", "6.7"): "", ("zibo", "6.7"): "2017-07-01", ("fagaiwei", "1.1.1"): "80", ("renshe", "1.1.1"): "60"}


@pytest.fixture(params=BACKENDS)
def site(request, tmp_path):
    """The 2017 scheme; root (admin), eva (evaluator), acme (firm 甲公司, everything), bee (firm 乙公司:
    6.7 and 1.1.1), vic (viewer), jn (body jinan); 甲公司's reading imported by acme."""
    url, drop = fresh_database(request.param, tmp_path)
    workflows.load_scheme_file(url, actor=Actor("setup", None), path=SCHEME_2017)
    workflows.add_user(url, actor=None, name="root", password=PASSWORDS["root"], role="admin")
    root = Actor("root", "admin")
    for name, role, firm in (("eva", "evaluator", None), ("acme", "firm", "甲公司"), ("bee", "firm", "乙公司"),
                             ("vic", "viewer", None), ("jn", "body", None)):
        workflows.add_user(url, actor=root, name=name, password=PASSWORDS[name], role=role, firm=firm)
    workflows.assign(url, actor=root, name="acme", body="*", obligation="*")
    for ob in ("6.7", "1.1.1"):
        workflows.assign(url, actor=root, name="bee", body="*", obligation=ob)
    workflows.tie_body(url, actor=root, name="jn", body="jinan")
    workflows.import_file(url, actor=Actor("acme", "firm"), name="first.csv", data=FIRST.encode())
    yield url, tmp_path
    drop()


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_a_seed_draws_the_same_items_on_every_database(site):
    url, _ = site
    out = ok(run(url, "eva", "sample", "draw", "--seed", "7"))
    # 7 assessed items, one lot: code letter A, whose ↓ takes C's plan: 5 items, accept 0 / reject 1
    assert "sample 1: 5 of 7 assessed items (seed 7)" in out and "all: lot 7, sample 5, accept 0 / reject 1" in out
    again = ok(run(url, "eva", "sample", "draw", "--seed", "7"))
    assert "sample 2: 5 of 7 assessed items (seed 7)" in again
    one, two = (ok(run(url, "eva", "sample", "list", "--sample", n)) for n in ("1", "2"))
    drawn = [tuple(line.split()[1:4]) for line in one.splitlines()[2:7]]
    # the 7 items sorted (fagaiwei, jinan, qingdao, renshe, weifang, yantai, zibo);
    # numpy.random.default_rng(7).choice(7, 5, replace=False), sorted: positions 2, 3, 4, 5, 6
    assert drawn == [("qingdao", "6.7", "deadline"), ("renshe", "1.1.1", "rating"), ("weifang", "6.7", "deadline"),
                     ("yantai", "6.7", "deadline"), ("zibo", "6.7", "deadline")]
    assert [tuple(line.split()[1:4]) for line in two.splitlines()[2:7]] == drawn
    other = ok(run(url, "eva", "sample", "draw", "--seed", "8", "--by", "obligation"))
    assert "1.1.1: lot 2, sample 2, accept 0 / reject 1" in other and "6.7: lot 5, sample 5, accept 0 / reject 1" in other
    with Session(engine_for(url)) as s:
        trail = audit_trail(s)
    draws = trail[trail["action"] == "sample_draw"]["detail"].tolist()[::-1]
    assert draws[0].startswith("sample 1: seed 7, size auto, by —, AQL 2.5, as of 2018-01-31; 5 of 7 items")
    assert "qingdao·6.7·deadline, renshe·1.1.1·rating, weifang·6.7·deadline, yantai·6.7·deadline, zibo·6.7·deadline" in draws[0]


def test_draw_blind_export_second_reading_settle_score(site):
    url, folder = site
    refused(run(url, "acme", "sample", "draw", "--size", "7"), "user acme (firm) may not sample")
    assert "sample 1: 7 of 7 assessed items" in ok(run(url, "eva", "sample", "draw", "--size", "7", "--seed", "1"))
    # the blind file: the sampled items in the import format, no first reading in it
    blind = folder / "blind.csv"
    ok(run(url, "bee", "sample", "export", "--out", str(blind)))
    table = _csv(blind.read_text(encoding="utf-8-sig"))
    assert list(table.columns) == ["body", "obligation", "period", "event", "event_at", "step", "published_at",
                                   "value", "url", "assessor", "note"]
    assert sorted(zip(table["body"], table["obligation"], strict=True)) == sorted(SECOND)
    assert set(table[["published_at", "value", "url"]].to_numpy().ravel()) == {""}
    # the second firm fills it in; a row beyond the sample and the first firm re-reading are refused
    table["published_at"] = [SECOND[b, o] if o == "6.7" else "" for b, o in zip(table["body"], table["obligation"], strict=True)]
    table["value"] = [SECOND[b, o] if o == "1.1.1" else "" for b, o in zip(table["body"], table["obligation"], strict=True)]
    second = folder / "second.csv"
    table.to_csv(second, index=False)
    beyond = folder / "beyond.csv"
    beyond.write_text("body,obligation,published_at\ndongying,6.7,2017-06-01\n", encoding="utf-8")
    refused(run(url, "bee", "sample", "import", str(beyond)), "not an item of sample 1: a second reading is of sampled items only")
    refused(run(url, "acme", "sample", "import", str(second)), "firm 甲公司 read fagaiwei · 1.1.1 first; a second reading comes from another firm")
    refused(run(url, "jn", "sample", "import", str(second)), "user jn (body) may not second")
    before = ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv"))
    assert "7 second readings of sample 1 (1 nothing found, 0 replaced); not scored until settled" in ok(
        run(url, "bee", "sample", "import", str(second)))
    assert ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv")) == before  # never scored
    assert "qingdao,6.7,3.0,1.5" in before and "weifang,6.7,3.0,3.0" in before
    # a firm sees no other firm's reading of a sampled, unsettled item, in any view
    browsed = workflows.evidence(url, actor=Actor("bee", "firm"), scheme_id="shandong-2017")
    assert browsed.empty
    assert len(workflows.evidence(url, actor=Actor("acme", "firm"), scheme_id="shandong-2017")) == 7  # its own
    # a firm sees its items blind; a body nothing; evaluators the disagreements and the lot to re-check
    seen = ok(run(url, "bee", "sample", "list"))
    assert "qingdao" in seen and "late" not in seen and "on_time" not in seen and "甲公司" not in seen
    refused(run(url, "bee", "sample", "disagreements"), "user bee (firm) may not sample")
    refused(run(url, "jn", "sample", "list"), "user jn (body) may not sample_read")
    refused(run(url, "jn", "sample", "agreement"), "user jn (body) may not quality")
    listed = ok(run(url, "eva", "sample", "list"))
    assert "RE-CHECK all: 3 disagreements > accept 0: batches 1 (甲公司) to be re-checked (复核)" in listed
    dispute = _csv(ok(run(url, "eva", "sample", "disagreements", "--format", "csv")))
    assert dispute[["id", "body", "obligation", "first_outcome", "second"]].values.tolist() == [
        ["3", "qingdao", "6.7", "late", "on_time"], ["4", "renshe", "1.1.1", "rated", "rated"],
        ["5", "weifang", "6.7", "on_time", "missing"]]
    assert dispute[["first_value", "second_value"]].values.tolist()[1] == ["70.0000", "60.0000"]
    # agreement as worked by hand: 6.7 — 3 of 5 alike, table late→(late 1, on_time 1), on_time→(on_time 2,
    # missing 1): p_o = 3/5, p_e = (2·1 + 3·3)/25 = 11/25, κ = (15−11)/(25−11) = 2/7;
    # 1.1.1 — ratings (80, 80), (70, 60): D_o = 2·100/4 = 50, D_e = 2·4·275/12 = 183.3, α = 1 − 50/183.3 = 8/11
    for who in ("vic", "eva"):
        by_ob = _csv(ok(run(url, who, "sample", "agreement", "--format", "csv")))
        assert list(by_ob.columns) == ["group", "n", "agreement", "kappa", "alpha", "low", "high"]
        assert by_ob[["group", "n", "agreement"]].values.tolist() == [["1.1.1", "2", "0.5000"], ["6.7", "5", "0.6000"]]
        assert (by_ob["kappa"].tolist(), by_ob["alpha"].tolist()) == (["", f"{2 / 7:.4f}"], [f"{8 / 11:.4f}", ""])
    firm = _csv(ok(run(url, "vic", "sample", "agreement", "--by", "firm", "--format", "csv"))).iloc[0]
    assert (firm["group"], firm["n"], firm["agreement"], firm["kappa"], firm["alpha"]) == (
        "甲公司", "7", f"{4 / 7:.4f}", f"{2 / 7:.4f}", f"{8 / 11:.4f}")
    assert float(firm["low"]) <= 2 / 7 <= float(firm["high"])
    assessor = _csv(ok(run(url, "vic", "sample", "agreement", "--by", "assessor", "--format", "csv")))
    assert assessor["group"].tolist() == ["乙公司"]
    shown = ok(run(url, "vic", "sample", "agreement"))
    assert "—" in shown and "0.286" in shown and "0.727" in shown
    # settling: evaluators only, each with a reason; a change enters the score through the import
    refused(run(url, "bee", "sample", "settle", "3", "--take", "--reason", "x"), "user bee (firm) may not sample")
    refused(run(url, "vic", "sample", "settle", "3", "--take", "--reason", "x"), "user vic (viewer) may not sample")
    refused(run(url, "eva", "sample", "settle", "2", "--keep", "--reason", "x"), "is not in dispute: both readings agree")
    refused(run(url, "eva", "sample", "settle", "3", "--take", "--keep", "--reason", "x"), "give exactly one of --keep, --take, --value V")
    assert "item 3 settled: take; imported as evidence batch 2" in ok(
        run(url, "eva", "sample", "settle", "3", "--take", "--reason", "截圖顯示6月10日已發佈"))
    ok(run(url, "eva", "sample", "settle", "5", "--value", "missing", "--reason", "網址無此文件"))
    ok(run(url, "eva", "sample", "settle", "4", "--keep", "--reason", "評分依據充分"))
    refused(run(url, "eva", "sample", "settle", "4", "--take", "--reason", "x"), "item 4 was already settled: keep by eva")
    after = ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv"))
    assert "qingdao,6.7,3.0,3.0" in after and "weifang,6.7,3.0,0.0" in after
    assert [line for line in after.splitlines() if line.startswith("renshe,1.1.1")] == \
        [line for line in before.splitlines() if line.startswith("renshe,1.1.1")]
    record = workflows.evidence(url, actor=Actor("eva", "evaluator"), scheme_id="shandong-2017")
    qd = record[record["body"] == "qingdao"]
    assert [(pd.Timestamp(r.published_at), r.assessor, r.file_name, r.earlier_values) for r in qd.itertuples()] == [
        (pd.Timestamp("2017-06-10"), "甲公司", "sample 1 item 3", 1)]
    assert record[record["body"] == "weifang"]["rejected"].tolist() == ["抽查 settled (sample 1 item 5): 網址無此文件"]
    assert "settled: take" in ok(run(url, "eva", "sample", "list"))
    # settled items are no longer blind: bee now sees 青島 (taken), 人社廳 (kept) and 濰坊 (rejected)
    browsed = workflows.evidence(url, actor=Actor("bee", "firm"), scheme_id="shandong-2017")
    assert sorted(browsed["body"]) == ["qingdao", "renshe", "weifang"]
    with Session(engine_for(url)) as s:
        trail = audit_trail(s)
    steps = trail[trail["action"].str.startswith("sample")][["actor", "action"]].values.tolist()[::-1]
    assert steps == [["acme", "sample_draw_refused"], ["eva", "sample_draw"], ["bee", "sample_export"],
                     ["bee", "sample_import_refused"], ["acme", "sample_import_refused"], ["jn", "sample_import_refused"],
                     ["bee", "sample_import"], ["bee", "sample_disagreements_refused"], ["jn", "sample_list_refused"],
                     ["jn", "sample_agreement_refused"], ["bee", "sample_settle_refused"], ["vic", "sample_settle_refused"],
                     ["eva", "sample_settle_refused"], ["eva", "sample_settle"], ["eva", "sample_settle"],
                     ["eva", "sample_settle"], ["eva", "sample_settle_refused"]]


def test_a_body_self_assessment_is_shown_beside_the_finding_never_scored(site):
    url, folder = site
    claims = folder / "self.csv"
    claims.write_text("任務編號,自評,網址,發佈時間\n6.7,on_time,http://www.jinan.gov.cn/a,2017-06-10\n"
                      "2.1.3,on_time,http://www.jinan.gov.cn/b,2017-05-20\n", encoding="utf-8")
    other = folder / "other.csv"
    other.write_text("單位,任務編號,自評\n青島市,6.7,on_time\n", encoding="utf-8")
    bad = folder / "bad.csv"
    bad.write_text("任務編號,自評,發佈時間\n9.9,fine,yesterday\n", encoding="utf-8")
    before = ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv"))
    refused(run(url, "jn", "self", "import", str(other)), "a body account assesses its own body jinan only")
    refused(run(url, "jn", "self", "import", str(bad)), "row 2, column obligation, value '9.9': no such obligation")
    refused(run(url, "vic", "self", "import", str(claims)), "user vic (viewer) may not self")
    refused(run(url, "acme", "self", "import", str(claims)), "user acme (firm) may not self")
    assert "self.csv: 2 new, 0 replaced self-assessment claims; never scored" in ok(run(url, "jn", "self", "import", str(claims)))
    assert "0 new, 2 replaced" in ok(run(url, "jn", "self", "import", str(claims)))
    assert ok(run(url, "eva", "score", "--level", "obligation", "--format", "csv")) == before  # never evidence
    # 6.7: the firm found jinan's plan on time (2017-06-10), as claimed; 2.1.3: its list (deadline 2017-05-31)
    # and its rating were not found — 2 items missing, of which the deadline differs from "on_time"
    # (an outcome claim leaves ratings out)
    mine = _csv(ok(run(url, "jn", "self", "compare", "--format", "csv")))
    assert mine[["body", "obligation", "claim", "third_party", "items", "differ", "differs"]].values.tolist() == [
        ["jinan", "2.1.3", "on_time", "missing 2", "2", "1", "True"], ["jinan", "6.7", "on_time", "on_time 1", "1", "0", "False"]]
    differing = _csv(ok(run(url, "jn", "self", "compare", "--differing", "--format", "csv")))
    assert differing["obligation"].tolist() == ["2.1.3"]
    refused(run(url, "jn", "self", "compare", "--body", "qingdao"), "user jn acts only for its own body jinan, not qingdao")
    assert "jinan" in ok(run(url, "eva", "self", "compare"))
    refused(run(url, "acme", "self", "compare"), "user acme (firm) may not own")
    with Session(engine_for(url)) as s:
        trail = audit_trail(s)
    steps = trail[trail["action"].str.startswith("self")][["actor", "action"]].values.tolist()[::-1]
    assert steps == [["jn", "self_import_refused"], ["jn", "self_import_refused"], ["vic", "self_import_refused"],
                     ["acme", "self_import_refused"], ["jn", "self_import"], ["jn", "self_import"],
                     ["jn", "self_compare_refused"], ["acme", "self_compare_refused"]]


def test_nothing_found_rows_are_told_by_row_number_past_blank_lines(tmp_path):
    """A second-reading file with blank lines: each row's 'nothing found' is its own (rows are numbered
    as the spreadsheet shows them, blank lines skipped)."""
    from scoring.store import quality as store
    from scoring.workflows import quality as q

    url, drop = fresh_database("sqlite", tmp_path)
    try:
        workflows.load_scheme_file(url, actor=Actor("setup", None), path=SCHEME_2017)
        workflows.import_file(url, actor=Actor("setup", None), name="first.csv", data=FIRST.encode(), firm="甲公司")
        q.draw_sample(url, actor=Actor("setup", None), size="7", seed=1)
        second = "body,obligation,published_at,value,assessor\njinan,6.7,2017-06-10,,乙公司\n\n\nqingdao,6.7,,,乙公司\n" \
                 "renshe,1.1.1,,65,乙公司\n"
        done = q.import_second(url, actor=Actor("setup", None), name="second.csv", data=second.encode())
        assert (done.rows, done.not_found) == (3, 1)
        with Session(engine_for(url)) as s:
            rows = store.second_rows(s, sample_id=1)
        assert rows[["body", "found", "value"]].fillna(-1).values.tolist() == [
            ["jinan", True, -1], ["qingdao", False, -1], ["renshe", True, 65.0]]
        disputes = q.disagreements(url, actor=Actor("setup", None))
        assert disputes[["body", "first_outcome", "second"]].values.tolist() == [
            ["qingdao", "late", "missing"], ["renshe", "rated", "rated"]]
    finally:
        drop()
