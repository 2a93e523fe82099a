"""The annual report's quality sections (抽查 and 自評) as written by `gongkai report`, read back from the
HTML and the Word file and checked against hand-worked numbers; the sections when nothing is sampled;
the self-assessment page of the dashboard by role (a body sees only its own comparison)."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from scoring import workflows
from scoring.report import model as report
from scoring.report import quality
from scoring.report.html import render
from scoring.store.accounts import Actor
from scoring.workflows import quality as q
from tests.conftest import SCHEME_2017, fresh_database
from tests.test_accounts import PASSWORDS
from tests.test_quality import FIRST, SECOND

PASSWORDS.update({"bee": "bee-pass-12", "jn": "jinan-pass-1", "qd": "qingdao-pass-1"})
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
ROOT, EVA, ACME, BEE = Actor("root", "admin"), Actor("eva", "evaluator"), Actor("acme", "firm"), Actor("bee", "firm")
JN, QD = Actor("jn", "body"), Actor("qd", "body")

# 济南's claims: 6.7 on time (the firm found it on time: agrees); 2.1.3 on time (its list, due
# 2017-05-31, and its rating were not found: missing 2 — the deadline differs, and falls short of the
# claim). 青岛's: 6.7 missing (the firm found it late: differs, but the evidence is better than claimed).
JINAN_CLAIMS = "任務編號,自評,網址,發佈時間\n6.7,on_time,http://www.jinan.gov.cn/a,2017-06-10\n" \
               "2.1.3,on_time,http://www.jinan.gov.cn/b,2017-05-20\n"
QINGDAO_CLAIMS = "任務編號,自評\n6.7,missing\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The 2017 scheme; 甲公司's first reading (tests/test_quality.py), sample 1 of all 7 items (seed 1),
    乙公司's blind second reading (3 disagreements: 青島 6.7, 人社廳 1.1.1, 濰坊 6.7), and the
    self-assessments of 济南 (jn) and 青岛 (qd)."""
    folder = tmp_path_factory.mktemp("quality-report")
    url, drop = fresh_database("sqlite", folder)
    workflows.load_scheme_file(url, actor=Actor("setup", None), path=SCHEME_2017)
    workflows.add_user(url, actor=None, name="root", password=PASSWORDS["root"], role="admin")
    for name, role, firm in (("eva", "evaluator", None), ("acme", "firm", "甲公司"), ("bee", "firm", "乙公司"),
                             ("vic", "viewer", None), ("jn", "body", None), ("qd", "body", None)):
        workflows.add_user(url, actor=ROOT, name=name, password=PASSWORDS[name], role=role, firm=firm)
    workflows.assign(url, actor=ROOT, name="acme", body="*", obligation="*")
    for ob in ("6.7", "1.1.1"):
        workflows.assign(url, actor=ROOT, name="bee", body="*", obligation=ob)
    workflows.tie_body(url, actor=ROOT, name="jn", body="jinan")
    workflows.tie_body(url, actor=ROOT, name="qd", body="qingdao")
    workflows.import_file(url, actor=ACME, name="first.csv", data=FIRST.encode())
    q.draw_sample(url, actor=EVA, size="7", seed=1)
    blind = pd.read_csv(io.BytesIO(q.export_blind(url, actor=BEE)), dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    pairs = list(zip(blind["body"], blind["obligation"], strict=True))
    blind["published_at"] = [SECOND[p] if p[1] == "6.7" else "" for p in pairs]
    blind["value"] = [SECOND[p] if p[1] == "1.1.1" else "" for p in pairs]
    q.import_second(url, actor=BEE, name="second.csv", data=blind.to_csv(index=False).encode())
    q.import_self_assessment(url, actor=JN, name="jinan.csv", data=JINAN_CLAIMS.encode())
    q.import_self_assessment(url, actor=QD, name="qingdao.csv", data=QINGDAO_CLAIMS.encode())
    done = workflows.write_report(url, actor=EVA, outs=[folder / "r.html", folder / "r.docx", folder / "r.xlsx",
                                                       folder / "r.pdf"])
    assert done.failed == []
    yield url, folder
    drop()


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(f'<h2 id="{start}">'):page.index(f'<h2 id="{end}">')]


def _tables(part: str) -> list[list[list[str]]]:
    """The HTML tables of a part of the page as rows of cell texts (header first)."""
    return [[[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
             for row in re.findall(r"<tr>(.*?)</tr>", table)] for table in re.findall(r"<table>(.*?)</table>", part)]


def _docx_blocks(path: Path) -> list[tuple[str, object]]:
    """The Word body in order: ("p", text) for paragraphs, ("table", rows of cell texts) for tables."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = Document(str(path))
    out: list[tuple[str, object]] = []
    for el in doc.element.body:
        if el.tag.endswith("}p"):
            out.append(("p", Paragraph(el, doc).text))
        elif el.tag.endswith("}tbl"):
            out.append(("table", [[c.text for c in r.cells] for r in Table(el, doc).rows]))
    return out


def _interval(low: float, high: float) -> str:
    return f"{low:.2f}–{high:.2f}"


# hand-worked (tests/test_quality.py): 6.7 — 3 of 5 alike, κ = (15 − 11)/(25 − 11) = 2/7, no ratings;
# 1.1.1 — ratings (80, 80), (70, 60): 1 of 2 alike, α = 1 − 50/183.3 = 8/11, no outcome items;
# 甲公司 (all 7): 4 of 7 alike, κ 2/7, α 8/11. The lot: 7 items, all sampled, 3 disagreements > Ac 0.
LOTS = [["分层", "批量", "样本量", "已复评", "不一致", "接收数 Ac", "拒收数 Re", "导入批次", "评估机构", "判定"],
        ["全部", "7", "7", "7", "3", "0", "1", "1", "甲公司", "需复核"]]
AGREEMENT_HEAD = ["事项数", "一致率", "κ（结果）", "α（评分）", "95% 区间"]
CLAIMS = [["单位", "任务编号", "自评", "自评所称发布时间", "第三方评估结果", "事项数", "不一致事项", "证据不支持的事项",
           "证据支持自评"],
          ["济南市", "2.1.3", "按时", "2017-05-20", "缺失 2", "2", "1", "1", "否"],
          ["青岛市", "6.7", "缺失", "", "逾期 1", "1", "1", "0", "是"]]


def _expected_agreement(url: str) -> tuple[list[list[str]], list[list[str]]]:
    """The tables as hand-worked, with the bootstrap intervals of `gongkai sample agreement`."""
    ob = q.agreement(url, actor=EVA).set_index("group")
    firm = q.agreement(url, actor=EVA, by="firm").set_index("group")
    return ([["任务编号", *AGREEMENT_HEAD],
             ["1.1.1", "2", "0.50", "—", "0.73", _interval(ob.at["1.1.1", "low"], ob.at["1.1.1", "high"])],
             ["6.7", "5", "0.60", "0.29", "—", _interval(ob.at["6.7", "low"], ob.at["6.7", "high"])]],
            [["评估机构", *AGREEMENT_HEAD],
             ["甲公司", "7", "0.57", "0.29", "0.73", _interval(firm.at["甲公司", "low"], firm.at["甲公司", "high"])]])


def test_the_html_report_has_the_quality_and_self_assessment_sections(site):
    url, folder = site
    page = (folder / "r.html").read_text(encoding="utf-8")
    part = _section(page, "report_quality", "report_self")
    assert "<h2 id=\"report_quality\">四（续一）、抽查与评估质量</h2>" in part
    assert "样本 1：随机种子 1，样本量 7，分层 —，AQL 2.5，评估日 2018-01-31，自 7 个评估事项中抽取 7 个" in part
    assert '<p class="veto">需复核：— 不一致 3 项，超过接收数 0；批次 1（甲公司）</p>' in part
    by_obligation, by_firm = _expected_agreement(url)
    assert _tables(part) == [LOTS, by_obligation, by_firm]
    assert float(by_firm[1][5].split("–")[0]) <= 2 / 7 <= float(by_firm[1][5].split("–")[1])
    assert "“—”：未定义" in part and part.count('class="plotly-graph-div"') == 1  # the heat map, in its section
    own = _section(page, "report_self", "report_method")
    assert "2 个单位共 3 条自评：2 条与第三方评估结果不一致，1 条没有评估机构的证据支持" in own
    assert _tables(own) == [CLAIMS]  # 济南 6.7 agrees and is supported: not listed
    toc = page[page.index('<nav class="toc">'):page.index("</nav>")]
    assert toc.index("#report_bodies") < toc.index("#report_quality") < toc.index("#report_self") < toc.index("#report_method")


def test_the_word_report_has_the_same_sections_before_the_method(site):
    url, folder = site
    blocks = _docx_blocks(folder / "r.docx")
    texts = [b for kind, b in blocks if kind == "p"]
    start = blocks.index(("p", "四（续一）、抽查与评估质量"))
    end = blocks.index(("p", "五、考核方法：任务、分值、规则与原文"))
    assert blocks.index(("p", "四、各单位得分与差距")) < start < blocks.index(("p", "四（续二）、自评与第三方评估对照")) < end
    part = blocks[start:end]
    by_obligation, by_firm = _expected_agreement(url)
    assert [b for kind, b in part if kind == "table"] == [LOTS, by_obligation, by_firm, CLAIMS]
    assert ("p", "需复核：— 不一致 3 项，超过接收数 0；批次 1（甲公司）") in part
    assert ("p", "一致性（按任务）") in part and ("p", "一致性（按第一次评估的评估机构）") in part
    assert sum(1 for t in texts if t.startswith("2 个单位共 3 条自评")) == 1
    from docx import Document

    doc = Document(str(folder / "r.docx"))
    headings = {p.text: p.style.name for p in doc.paragraphs if p.text.startswith(("四（续", "一致性"))}
    assert headings == {"四（续一）、抽查与评估质量": "Heading 1", "四（续二）、自评与第三方评估对照": "Heading 1",
                        "一致性（按任务）": "Heading 2", "一致性（按第一次评估的评估机构）": "Heading 2"}
    pictures = [i for i, (kind, b) in enumerate(part) if kind == "p" and b == ""]
    assert len(doc.inline_shapes) >= 1 and pictures  # the heat map sits in the section (an image paragraph)


def test_the_workbook_has_a_sheet_per_section(site):
    _, folder = site
    sheets = pd.read_excel(folder / "r.xlsx", sheet_name=None, engine="calamine", header=None, dtype=str)
    lots = sheets["四（续一）、抽查与评估质量"].fillna("").to_numpy().tolist()
    assert [row for row in lots if row[0] == "全部"] == [LOTS[1]]
    claims = sheets["四（续二）、自评与第三方评估对照"].fillna("").to_numpy().tolist()
    assert claims[2:] == CLAIMS  # after the caption line and a blank row


def test_the_pdf_has_the_sections_with_bookmarks(site):
    import unicodedata

    from pypdf import PdfReader

    _, folder = site
    reader = PdfReader(str(folder / "r.pdf"))
    top = [o["/Title"] for o in reader.outline if not isinstance(o, list)]
    assert top[top.index("四、各单位得分与差距") + 1:top.index("五、考核方法：任务、分值、规则与原文")] == [
        "四（续一）、抽查与评估质量", "四（续二）、自评与第三方评估对照"]
    pdf = " ".join(unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages)
    assert "需复核:— 不一致 3 项,超过接收数 0;批次 1(甲公司)" in pdf  # NFKC: full-width punctuation as ASCII


def test_without_a_sample_or_claims_the_sections_say_so(tmp_path):
    url, drop = fresh_database("sqlite", tmp_path)
    try:
        workflows.load_scheme_file(url, actor=Actor("setup", None), path=SCHEME_2017)
        workflows.import_file(url, actor=Actor("setup", None), name="first.csv", data=FIRST.encode(), firm="甲公司")
        workflows.write_report(url, actor=Actor("setup", None), outs=[tmp_path / "r.html"], lang="en")
        page = (tmp_path / "r.html").read_text(encoding="utf-8")
        assert "<p>No sample has been drawn: there are no spot-check results.</p>" in _section(
            page, "report_quality", "report_self")
        assert "No body has submitted a self-assessment (gongkai self import)." in _section(page, "report_self", "report_method")
        assert "plotly-graph-div" not in _section(page, "report_quality", "report_method")
        q.draw_sample(url, actor=Actor("setup", None), size="2", seed=3)  # drawn, nothing read twice yet
        workflows.write_report(url, actor=Actor("setup", None), outs=[tmp_path / "r.html"], lang="en")
        part = _section((tmp_path / "r.html").read_text(encoding="utf-8"), "report_quality", "report_self")
        assert "No second readings yet (gongkai sample import)." in part and "No lot is marked for re-checking." in part
        assert _tables(part) == [[["Stratum", "Lot size", "Sample size", "Read twice", "Disagreements", "Accept Ac",
                                   "Reject Re", "Import batches", "Firm", "Verdict"],
                                  ["all", "7", "2", "0", "0", "0", "1", "1", "甲公司", "awaiting second readings"]]]
    finally:
        drop()


def test_the_report_is_refused_to_a_body_and_a_firm(site):
    from scoring.store.accounts import PermissionDenied

    url, folder = site
    for who in (JN, ACME):
        with pytest.raises(PermissionDenied, match=f"user {who.name} \\({who.role}\\) may not score"):
            workflows.write_report(url, actor=who, outs=[folder / "x.html"])
    assert not (folder / "x.html").exists()


def _self_page(url: str, actor: Actor) -> AppTest:
    from dashboard import data
    from dashboard.ui import Context

    at = AppTest.from_file(str(APP.parent / "app_pages" / "self_assessment.py"), default_timeout=60)
    at.session_state["ctx"] = Context("zh-Hans", url, "shandong-2017", None, data.token(url, "shandong-2017"), actor)
    return at.run()


def test_the_self_assessment_page_shows_a_body_only_its_own(site):
    url, _ = site
    at = _self_page(url, JN)
    assert not at.exception, at.exception
    assert at.caption[0].value.startswith("1 个单位共 2 条自评：1 条与第三方评估结果不一致，1 条没有评估机构的证据支持")
    shown = at.dataframe[0].value
    assert shown["单位"].tolist() == ["济南市", "济南市"] and shown["任务编号"].tolist() == ["2.1.3", "6.7"]
    assert shown["证据支持自评"].tolist() == ["否", "是"] and "青岛市" not in shown.to_string()
    assert [u.label for u in at.get("file_uploader")] == ["上传自评（CSV：任务编号,自评,网址,发布时间）"]
    at = _self_page(url, EVA)  # an evaluator sees every body's, and uploads none
    assert at.dataframe[0].value["单位"].tolist() == ["济南市", "济南市", "青岛市"] and not at.get("file_uploader")
    at.checkbox[0].check().run()
    assert at.dataframe[0].value[["单位", "任务编号"]].values.tolist() == [["济南市", "2.1.3"], ["青岛市", "6.7"]]
    at = _self_page(url, ACME)  # a firm sees no body's claims
    assert at.error[0].value == "您的角色无权使用此页面。" and not at.dataframe
    workflows.add_user(url, actor=ROOT, name="nb", password="no-body-pass-1", role="body")
    at = _self_page(url, Actor("nb", "body"))  # a body account not tied to its body yet: told so, shown nothing
    assert at.error[0].value.startswith("the body account nb is not tied to a body yet") and not at.dataframe


def test_sections_of_a_report_built_without_quality_inputs(site):
    """`model.build` without the quality inputs (a caller that has none) says that nothing was sampled."""
    url, _ = site
    from sqlmodel import Session

    from scoring.store import repository as store
    from scoring.store.db import engine_for

    with Session(engine_for(url)) as s:
        card, _ = store.score_and_record(s, scheme_id=None, as_of=None, who="test")
        built = report.build(card, store.evidence_summary(s, scheme_id=card.scheme.id))
    assert [s.key for s in built.sections] == ["report_quality", "report_self"]
    page = render(built, {})
    assert "本周期尚未抽取样本，没有抽查结果。" in page and "尚无单位提交自评（gongkai self import）。" in page
    assert quality.figure(built.quality_inputs, "zh-Hans") is None
