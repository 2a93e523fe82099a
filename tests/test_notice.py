"""通報, 整改通知書 and 整改 tracking on a final result, on SQLite and PostgreSQL: who may do what,
and the frozen final run unchanged by rectification and later evidence."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
from docx import Document

from scoring import workflows
from scoring.errors import GongkaiError
from scoring.store.accounts import Actor, PermissionDenied
from tests.conftest import BACKENDS, fresh_database
from tests.test_accounts import run
from tests.test_cycle import PNG, _site

EVA, QD, JN, ACME = Actor("eva", "evaluator"), Actor("qd", "body"), Actor("jn", "body"), Actor("acme", "firm")


@pytest.fixture(params=BACKENDS)
def final(request, tmp_path, monkeypatch, scheme_2017):
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    url, drop = fresh_database(request.param, tmp_path)
    _site(url, tmp_path)
    workflows.publish(url, actor=EVA, stage="preliminary", today=dt.date(2018, 2, 1))
    # 2018-02-01 + 11 working days: 02-02, 02-05…09, the make-up Sunday 02-11, 02-12…14, then 春節
    # 02-15…21 off: the 11th is 02-22
    pub = workflows.publish(url, actor=EVA, stage="final", rectify_days=11, today=dt.date(2018, 2, 1))
    yield url, pub, tmp_path
    drop()


def _text(path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_final_opens_a_problem_for_every_point_lost(final, scheme_2017):
    url, pub, _ = final
    assert pub.problems > 0
    assert pub.closes_on is None
    mine = workflows.problems(url, actor=QD)
    assert set(mine["body"]) == {"qingdao"} and "6.7" in set(mine["obligation"])
    assert str(mine["due_on"].iloc[0]) == "2018-02-22"
    everyone = workflows.problems(url, actor=EVA)
    assert "6.7" not in set(everyone[everyone["body"] == "jinan"]["obligation"])  # 濟南 published it on time
    assert (everyone["obligation"] == "6.7").sum() == len(scheme_2017.assessed(scheme_2017.obligation("6.7"))) - 1


def test_notice_docx_lists_grades_problems_and_outstanding_units(final, tmp_path, scheme_2017):
    url, _, _ = final
    path = workflows.write_notice(url, actor=EVA, out=tmp_path / "通报.docx")
    text = _text(path)
    assert text.startswith("关于2017年山東省政務公開工作要點考核结果的通报")  # the document keeps its wording
    assert "一、考核等次" in text and "设区市政府" in text and "三、表现突出的单位" in text
    assert f"6.7 制定具體實施方案或工作安排並公開：{len(scheme_2017.assessed(scheme_2017.obligation('6.7'))) - 1}个单位失分" in text
    with pytest.raises(PermissionDenied, match="user qd \\(body\\) may not publish"):
        workflows.write_notice(url, actor=QD, out=tmp_path / "x.docx")
    with pytest.raises(GongkaiError, match="a notice is .docx or .pdf"):
        workflows.write_notice(url, actor=EVA, out=tmp_path / "x.html")


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed")
def test_notice_pdf(final, tmp_path):
    url, _, _ = final
    path = workflows.write_notice(url, actor=EVA, out=tmp_path / "notice.pdf", lang="zh-Hant")
    assert path.read_bytes().startswith(b"%PDF-") and path.stat().st_size > 5000


def test_rectification_notices_one_per_body(final, tmp_path):
    url, _, _ = final
    written = workflows.write_rectifications(url, actor=EVA, out=tmp_path / "rectify")
    qingdao = tmp_path / "rectify" / "qingdao-整改通知书.docx"
    assert qingdao in written and len(written) == len(set(workflows.problems(url, actor=EVA)["body"]))
    text = _text(qingdao)
    assert "青島市：" in text and "请于2018年2月22日前完成整改" in text
    assert "6.7 制定具體實施方案或工作安排並公開" in text and "未发布" in text
    jinan = _text(tmp_path / "rectify" / "jinan-整改通知书.docx")
    assert "6.7 制定" not in jinan


def test_tracking_open_rectified_verified(final, tmp_path):
    url, pub, _ = final
    mine = workflows.problems(url, actor=QD)
    n = int(mine[mine["obligation"] == "6.7"]["id"].iloc[0])
    other = int(workflows.problems(url, actor=JN)["id"].iloc[0])
    with pytest.raises(GongkaiError, match=f"no 整改 problem {other} of your body"):
        workflows.set_problem(url, actor=QD, problem_id=other, status="rectified", note="x")
    with pytest.raises(PermissionDenied, match="user qd \\(body\\) marks its problems rectified"):
        workflows.set_problem(url, actor=QD, problem_id=n, status="verified")
    with pytest.raises(PermissionDenied, match="user acme \\(firm\\) may not track"):
        workflows.set_problem(url, actor=ACME, problem_id=n, status="rectified", note="x")
    with pytest.raises(GongkaiError, match="rectified needs its evidence"):
        workflows.set_problem(url, actor=QD, problem_id=n, status="rectified")
    with pytest.raises(GongkaiError, match=f"problem {n} is open: only a rectified problem can be verified"):
        workflows.set_problem(url, actor=EVA, problem_id=n, status="verified")
    before = workflows.problems_by_city(url, actor=EVA).set_index("unit").loc["青島市"]
    workflows.set_problem(url, actor=QD, problem_id=n, status="rectified", note="已补充公开",
                          attachment=("fixed.png", PNG))
    workflows.set_problem(url, actor=EVA, problem_id=n, status="verified")
    after = workflows.problems_by_city(url, actor=EVA).set_index("unit").loc["青島市"]
    assert (after["open"], after["verified"]) == (before["open"] - 1, before["verified"] + 1)
    row = workflows.problems(url, actor=QD).set_index("id").loc[n]
    assert (row["status"], row["updated_by"]) == ("verified", "eva")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d qd → rectified: 已补充公开", row["note"])
    # a re-check brings new evidence: new runs, the frozen final run unchanged
    workflows.import_file(url, actor=Actor("root", "admin"), name="recheck.csv",
                          data="單位,任務編號,發佈時間\n青島市,6.7,2018-02-10\n".encode())
    assert workflows.verify_run(url, actor=EVA, run_id=pub.run_id) == []


def test_a_verified_problem_stays_verified_and_its_notes_are_a_history(final):
    """A body account moved a problem out of `verified` (problem set N --status rectified), overwriting
    the evaluator's note: only an evaluator or admin does that now, and every note stays, dated and signed."""
    url, _, _ = final
    mine = workflows.problems(url, actor=QD)
    n = str(int(mine[mine["obligation"] == "6.7"]["id"].iloc[0]))
    assert run(url, "qd", "problem", "set", n, "--status", "rectified", "--note", "已补充公开").returncode == 0
    assert run(url, "eva", "problem", "set", n, "--status", "verified", "--note", "核实无误").returncode == 0
    r = run(url, "qd", "problem", "set", n, "--status", "rectified", "--note", "再次补充")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"problem {n} was verified by eva: only an evaluator or admin moves it out of verified (user qd is body)" \
        in r.stderr
    row = workflows.problems(url, actor=EVA).set_index("id").loc[int(n)]
    day = r"\d{4}-\d\d-\d\d"
    assert row["status"] == "verified"
    assert re.fullmatch(f"{day} qd → rectified: 已补充公开\n{day} eva → verified: 核实无误", row["note"]), row["note"]
    assert run(url, "eva", "problem", "set", n, "--status", "open", "--note", "复查未通过").returncode == 0
    listed = run(url, "qd", "problem", "list").stdout
    assert re.search(f"{day} qd → rectified: 已补充公开 \\| {day} eva → verified: 核实无误 \\| {day} eva → open: 复查未通过",
                     listed), listed
