"""通報, 整改通知書 and 整改 tracking on a final result, on SQLite and PostgreSQL: who may do what,
and the frozen final run unchanged by rectification and later evidence."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

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
    # one script: the scheme's words (a Traditional quotation) in the document's Simplified
    assert "\n关于2017年山东省政务公开工作要点\n考核结果的通报\n" in text and "山東" not in text  # broken as words
    assert "一、考核等次" in text and "（一）设区市政府" in text and "三、表现突出的单位" in text
    assert f"6.7 制定具体实施方案或工作安排并公开：{len(scheme_2017.assessed(scheme_2017.obligation('6.7'))) - 1}个单位失分" in text
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
    assert "青岛市：" in text and "请于2018年2月22日前完成整改" in text
    assert "6.7 制定具体实施方案或工作安排并公开" in text and "未发布" in text
    jinan = _text(tmp_path / "rectify" / "jinan-整改通知书.docx")
    assert "6.7 制定" not in jinan


def test_a_rectification_notice_quotes_the_evidence_that_has_an_address(tmp_path, monkeypatch):
    """Each lost obligation's records with an address are quoted under its table (证据：…, the address
    as it is); a record with neither address nor preserved file gives no line."""
    from tests.conftest import SCHEME_2017

    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    url, drop = fresh_database("sqlite", tmp_path)
    root = Actor("setup", None)
    workflows.load_scheme_file(url, actor=root, path=SCHEME_2017)
    late = "http://qd.example/gk?a=1&b=<2>"
    workflows.import_file(url, actor=root, name="ev.csv", data=(
        "單位,任務編號,發佈時間,網址\n青島市,6.7,2017-12-01," + late + "\n濟南市,6.7,2017-06-10,\n"
        "青島市,6.1,2017-06-10,\n").encode())
    workflows.publish(url, actor=root, stage="preliminary", today=dt.date(2018, 2, 1))
    workflows.publish(url, actor=root, stage="final", today=dt.date(2018, 2, 1))
    workflows.write_rectifications(url, actor=root, out=tmp_path / "r")
    quoted = [p.text for p in Document(str(tmp_path / "r" / "qingdao-整改通知书.docx")).paragraphs
              if p.text.startswith("证据：")]
    assert quoted == [f"证据：{late}"]
    drop()


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


# ---- GB/T 9704-2012: the documents of record (issue 26) ---------------------------------------------

MM = 36000   # EMU per millimetre (python-docx lengths)
ORDER = ["山东省人民政府办公厅（示例）文件", "鲁政办字〔2018〕1号（示例）", "关于2017年山东省政务公开工作要点",
         "考核结果的通报", "各市人民政府，省政府各部门、各直属机构：", "一、考核等次", "（一）设区市政府", "二、存在的共性问题",
         "三、表现突出的单位", "山东省人民政府办公厅（示例）", "2018年", "抄送：省委各部门", "印发"]


@pytest.fixture
def lettered(final):
    """The demo's final result under the demo's example letterhead (示例)."""
    url, pub, folder = final
    workflows.notice_settings(url, actor=EVA, **workflows.DEMO_LETTERHEAD)
    return url, pub, folder


def _in_order(text: str, parts: list[str]) -> None:
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part!r} missing after position {at}: {text[at:at + 200]!r}"
        at = found + len(part)


def _a4_by_the_standard(doc) -> None:
    s = doc.sections[0]
    assert (round(s.page_width / MM), round(s.page_height / MM)) == (210, 297)
    assert (round(s.top_margin / MM), round(s.left_margin / MM)) == (37, 28)
    assert (round((s.page_width - s.left_margin - s.right_margin) / MM),
            round((s.page_height - s.top_margin - s.bottom_margin) / MM)) == (156, 225)   # 版心


def _east_asian(run) -> str:
    from docx.oxml.ns import qn

    return run._element.rPr.rFonts.get(qn("w:eastAsia"))


def _title_and_body(doc, title_start: str):
    paragraphs = [p for p in doc.paragraphs if p.text]
    title = next(p for p in paragraphs if p.text.startswith(title_start))
    body = paragraphs[paragraphs.index(title) + 2]   # after 主送
    return title, body


def test_notice_docx_is_a4_in_the_standards_fonts(lettered, tmp_path):
    url, _, _ = lettered
    doc = Document(str(workflows.write_notice(url, actor=EVA, out=tmp_path / "通报.docx")))
    _a4_by_the_standard(doc)
    _in_order(_text_of(doc), ORDER)
    title, body = _title_and_body(doc, "关于")
    assert {(_east_asian(r), r.font.size.pt) for r in title.runs} == {("方正小标宋简体", 22)}
    assert {(_east_asian(r), r.font.size.pt) for r in body.runs} == {("仿宋_GB2312", 16)}
    assert 28 <= body.paragraph_format.line_spacing.pt <= 29
    heads = {p.text: _east_asian(p.runs[0]) for p in doc.paragraphs if p.text in ("一、考核等次", "（一）设区市政府")}
    assert heads == {"一、考核等次": "黑体", "（一）设区市政府": "楷体_GB2312"}
    sign = doc.paragraphs[0].runs[0]
    assert sign.text == "山东省人民政府办公厅（示例）文件" and str(sign.font.color.rgb) == "FF0000"
    _mark_at_the_foot_and_folios(doc)


def _mark_at_the_foot_and_folios(doc) -> None:
    """The 版记 (抄送, 印发) framed at the bottom of the 版心 of the page it falls on, the last, right
    after the 成文日期; 页码 in 宋体 4号, odd pages on the right and even pages on the left, 空一字."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    paragraphs = [p for p in doc.paragraphs if p.text]
    assert re.fullmatch(r"\d{4}年\d+月\d+日", paragraphs[-3].text), paragraphs[-3].text
    for p in paragraphs[-2:]:
        frame = p._p.pPr.find(qn("w:framePr"))
        assert frame is not None, p.text
        assert {k: frame.get(qn(f"w:{k}")) for k in ("vAnchor", "yAlign", "w")} == \
            {"vAnchor": "margin", "yAlign": "bottom", "w": str(round(156 / 25.4 * 1440))}
    assert paragraphs[-2].text.startswith("抄送：") and paragraphs[-1].text.endswith("印发")
    assert all(p._p.pPr.find(qn("w:framePr")) is None for p in paragraphs[:-2])
    assert doc.settings.odd_and_even_pages_header_footer
    section = doc.sections[0]
    for footer, align, indent in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right_indent"),
                                  (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left_indent")):
        folio = footer.paragraphs[0]
        assert folio.alignment == align and getattr(folio.paragraph_format, indent).pt == 14
        assert "PAGE" in folio._p.xml and folio.text == "—  —"
        assert {(_east_asian(r), r.font.size.pt) for r in folio.runs} == {("宋体", 14)}


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed")
def test_notice_pdf_is_a4_with_the_elements_in_order(lettered, tmp_path):
    from pypdf import PdfReader

    url, _, _ = lettered
    pdf = PdfReader(workflows.write_notice(url, actor=EVA, out=tmp_path / "通报.pdf"))
    for page in pdf.pages:
        assert abs(float(page.mediabox.width) - 595.3) < 1 and abs(float(page.mediabox.height) - 841.9) < 1
    text = _pdf_words("".join(page.extract_text() for page in pdf.pages))
    _in_order(text, [_pdf_words(p) for p in ORDER])
    assert "山東" not in text
    # the text copies as the characters printed: no radical code point (⼭ U+2F2D for 山, ⻘ for 青)
    assert "山东省" in text and "青岛市" in text
    assert not [c for c in text if 0x2E80 <= ord(c) <= 0x2FDF], sorted({c for c in text if 0x2E80 <= ord(c) <= 0x2FDF})

    pt = 72 / 25.4
    left, right, top, foot = 28 * pt, (28 + 156) * pt, (297 - 37) * pt, 35 * pt   # the 版心 (PDF y counts up)
    lines = [_pdf_lines(page) for page in pdf.pages]
    for n, page in enumerate(lines, start=1):
        folio, *body = page
        # 页码 under the 版心, 空一字 from its edge: odd pages on the right, even pages on the left
        y, x0, x1, words = folio
        assert _pdf_words(words) == f"—{n}—" and y < foot - 7 * pt + 1, (n, folio)
        if n % 2:
            assert abs(x1 - (right - 14)) < 3 and x0 > (left + right) / 2, (n, folio)
        else:
            assert abs(x0 - (left + 14)) < 1 and x1 < (left + right) / 2, (n, folio)
        for y, x0, x1, words in body:   # everything else inside the 版心
            assert foot - 1 < y < top and left - 1 < x0 and x1 < right + 1, (n, words, y, x0, x1)
    _, printed, cc, date, *_ = lines[-1]
    # the 版记 on the foot of the last page, under the 成文日期 (not right after it)
    assert _pdf_words(date[3]) == "2018年2月5日" and _pdf_words(cc[3]).startswith("抄送：省委各部门")
    assert _pdf_words(printed[3]) == "山东省人民政府办公厅（示例）2018年2月5日印发"
    assert foot < printed[0] < foot + 20 < cc[0] < foot + 60 < date[0] - 100, (date, cc, printed)
    assert not any("抄送" in words for page in lines[:-1] for *_, words in page)


def _pdf_lines(page) -> list[tuple[float, float, float, str]]:
    """A PDF page's lines of text as (baseline y, left x, right x, text), the lowest first."""
    glyphs: dict[float, list[tuple[float, float, str]]] = {}

    def seen(text, cm, tm, font, size):
        if text.strip():
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            em = sum(1 if ord(c) >= 0x2000 else 0.5 for c in text.rstrip())   # CJK and 一字线 a whole em
            glyphs.setdefault(round(y, 1), []).append((x, x + em * size * tm[0] * cm[0], text))

    page.extract_text(visitor_text=seen)
    return [(y, min(g[0] for g in row), max(g[1] for g in row), "".join(g[2] for g in sorted(row)))
            for y, row in sorted(glyphs.items())]


def _pdf_words(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _text_of(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_rectification_notices_have_the_layout_and_words_not_codes(lettered, tmp_path):
    from scoring.method.kinds import MODULES as RULE_KINDS  # every registered rule kind

    url, _, _ = lettered
    written = workflows.write_rectifications(url, actor=EVA, out=tmp_path / "r")
    for path in [p for p in written if p.name.split("-")[0] in ("qingdao", "jinan", "binzhou")]:
        doc = Document(str(path))
        _a4_by_the_standard(doc)
        _in_order(_text_of(doc), ["山东省人民政府办公厅（示例）文件", "鲁政办字〔2018〕1号（示例）",
                                  "2017年山东省政务公开工作要点\n考核整改通知书", "市：", "请于2018年2月22日前完成整改",
                                  "山东省人民政府办公厅（示例）", "抄送：", "印发"])
        title, body = _title_and_body(doc, "2017年")
        assert {(_east_asian(r), r.font.size.pt) for r in title.runs} == {("方正小标宋简体", 22)}
        assert {(_east_asian(r), r.font.size.pt) for r in body.runs} == {("仿宋_GB2312", 16)}
        _mark_at_the_foot_and_folios(doc)
        items = {row.cells[0].text for t in doc.tables for row in t.rows[1:]}
        assert items and not items & set(RULE_KINDS), items   # 第三方评分, 限期完成 …, never `rating`
    assert len([p for p in written if p.name.split("-")[0] in ("qingdao", "jinan", "binzhou")]) == 3


def test_the_letterhead_is_a_setting_set_by_an_evaluator_and_audited(final, tmp_path):
    url, _, _ = final
    assert workflows.notice_settings(url, actor=EVA)["office"] == "（发文机关）"   # a marked placeholder
    with pytest.raises(PermissionDenied, match="user qd \\(body\\) may not publish"):
        workflows.notice_settings(url, actor=QD, office="青岛市")
    shown = workflows.notice_settings(url, actor=EVA, office="山东省人民政府办公厅", cc="省委各部门")
    assert (shown["office"], shown["cc"], shown["set_by"]) == ("山东省人民政府办公厅", "省委各部门", "eva")
    trail = workflows.audit_entries(url, actor=EVA)
    assert "office: '（发文机关）' → '山东省人民政府办公厅'" in " ".join(trail[trail["action"] == "notice_settings"]["detail"])
    text = _text(workflows.write_notice(url, actor=EVA, out=tmp_path / "n.docx"))
    assert text.startswith("山东省人民政府办公厅文件") and "抄送：省委各部门。" in text


def test_the_demo_carries_example_letterhead_marked_as_such(tmp_path, monkeypatch):
    monkeypatch.setenv("GONGKAI_ATTACHMENTS", str(tmp_path / "store"))
    url, drop = fresh_database("sqlite", tmp_path)
    root = Actor("local", None)   # a database without accounts is open
    workflows.load_demo(url, actor=root)
    shown = workflows.notice_settings(url, actor=root)
    assert all("示例" in shown[k] for k in ("office", "number", "cc")), shown
    workflows.notice_settings(url, actor=root, office="山东省人民政府办公厅")
    workflows.load_demo(url, actor=root)   # loading the demo again keeps what an office set
    assert workflows.notice_settings(url, actor=root)["office"] == "山东省人民政府办公厅"
    drop()


def test_to_unicode_maps_are_read_in_every_form_and_radicals_named_by_their_ideograph():
    """The CMap parser behind `fix_to_unicode`: bfchar, bfrange with a start (counting up) and with a
    list, two-byte codes, a character beyond the BMP; the radicals chromium writes for Noto glyphs."""
    from scoring.report.pdf_text import RADICALS, read_cmap, write_cmap

    cmap = ("2 beginbfrange\n<0010> <0012> <4E00>\n<0020> <0021> [<2F2D> <D840DC00>]\nendbfrange\n"
            "1 beginbfchar\n<00A9> <2ED8>\nendbfchar\n")
    mapping, width = read_cmap(cmap)
    assert width == 2
    assert mapping == {0x10: "一", 0x11: "丁", 0x12: "丂", 0x20: "⼭", 0x21: "𠀀", 0xA9: "⻘"}
    fixed = {k: v.translate(RADICALS) for k, v in mapping.items()}
    assert (fixed[0x20], fixed[0xA9]) == ("山", "青")
    assert read_cmap(write_cmap(fixed, width)) == (fixed, 2)
    assert "<0020> <5C71>" in write_cmap(fixed, width)
    # every Kangxi radical (U+2F00–U+2FD5) has its ideograph, as do the supplement's the fonts share
    assert all(0x2F00 + i in RADICALS for i in range(0xD6))
    assert RADICALS[0x2EA0] == "民" and RADICALS[0x2F3E] == "户"


def test_rectification_notices_across_processes_are_the_same_documents(final, tmp_path):
    """Written by a pool of two processes (as thousands are), each 整改通知書 reads as the one written
    in this process: same paragraphs, same table cells, same evidence lines."""
    from scoring.report import notice
    from scoring.store import cycle
    from scoring.store import repository as repo
    from scoring.workflows import transaction
    from scoring.workflows.cycle import _final

    url, _, _ = final
    with transaction(url) as session:
        scheme, pub = _final(session, None)
        card = cycle.published_card(pub)
        todo = cycle.problems(session, publication_id=pub.id)
        ev = repo.evidence_links(session, scheme_id=scheme.id)
    args = dict(problems=todo, evidence=ev, issued=dt.date(2018, 2, 1))
    one = notice.write_rectifications(notice.rectifying(card), **args, out=tmp_path / "one", workers=1)
    two = notice.write_rectifications(notice.rectifying(card), **args, out=tmp_path / "two", workers=2)
    assert [p.name for p in one] == [p.name for p in two] == sorted(f"{b}-整改通知书.docx" for b in set(todo["body"]))
    assert [_text(p) for p in one] == [_text(p) for p in two]
    assert "未发布" in _text(one[0])
    # a nation's bodies are done in parts (their lost findings worked out, their rows held, a part at a
    # time): the same documents, part for part
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(notice, "BODIES_AT_ONCE", 3)
        parts = notice.write_rectifications(notice.rectifying(card), **args, out=tmp_path / "parts", workers=1)

    def unzipped(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as z:
            return {name: z.read(name) for name in z.namelist()}
    assert len(one) > 3 and [unzipped(p) for p in parts] == [unzipped(p) for p in one]
    # what they are made of was kept with the final run when it was published: `rectify` reads it and
    # does not score the frozen result again — the same documents
    from scoring.workflows.documents import rectifying_kept

    with pytest.MonkeyPatch.context() as mp, transaction(url) as session:
        mp.setattr(cycle, "published_card", lambda pub: pytest.fail("the frozen result scored again"))
        assert len(workflows.write_rectifications(url, actor=EVA, out=tmp_path / "exported")) == len(one)
        kept = notice.write_rectifications(rectifying_kept(session, _final(session, None)[1]), **args,
                                           out=tmp_path / "kept", workers=1)
    assert [unzipped(p) for p in kept] == [unzipped(p) for p in one]


def test_a_molded_document_is_the_document_python_docx_lays_out(tmp_path):
    """Each 整改通知書 is rendered from one python-docx layout (`gongwen._mold`) by joining texts into
    its XML: the result must be the document python-docx itself makes — every paragraph, run, table,
    keep-with-next and property — with texts that need escaping, a tab, an empty paragraph, tables of
    two widths and a closing table (the last paragraph before it keeps with the 署名)."""
    import io
    import zipfile

    from lxml import etree

    from scoring.report.gongwen import Letterhead, Table, _compose, _mold

    head = Letterhead("山东省人民政府办公厅", "鲁政办字〔{year}〕1号", "省委办公厅", "各市")
    title, issued = "山东省2017年政务公开工作要点考核整改通知书", dt.date(2018, 2, 1)
    cases = [
        [("p", "第一段 a<b & c> \n第二行"), ("h", "一、标题"), ("h2", "（一）小标题"), ("p", ""),
         Table([["事项", "应发布时间", "实际发布时间", "结果"], ["a\tb", "2017-01-01", "", "未发布"]]),
         ("url", "证据：http://x/?a=1&b=2"), ("h3", "1. 1.2 标题")],
        [("p", "只有一段"), Table([["一", "二"], ["1", "2"], ["3", "4"]])],
        [],
        # texts escaped together: plain ones (the three XML escapes only), a text holding the
        # separator itself (NUL) and one with a noncharacter — each dropped as python-docx drops them
        [("url", "证据：a&b<c>{0}"), Table([["事项", "结果"], ["x>y", "&"]])],
        [("p", "零\x00字符"), ("url", "证据：http://x/?a=1&b=2"), ("p", "\ufffe非字符")],
    ]

    def document_xml(docx: bytes) -> str:
        xml = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode("utf-8")
        # the mold opens every text to keep its spaces (python-docx only where there are some) and
        # writes an empty cell's text as an empty w:t (python-docx: none)
        return etree.canonicalize(xml.replace(' xml:space="preserve"', "")).replace("<w:t></w:t>", "")

    for blocks in cases:
        laid_out = io.BytesIO()
        _compose(head, title=title, to="济南市：", blocks=blocks, issued=issued).save(laid_out)
        molded = _mold(head, title, issued).render("济南市：", blocks)
        assert document_xml(molded) == document_xml(laid_out.getvalue())
        names = zipfile.ZipFile(io.BytesIO(molded)).namelist()
        assert sorted(names) == sorted(zipfile.ZipFile(laid_out).namelist())
        assert Document(io.BytesIO(molded)).paragraphs[-2].text == "抄送：省委办公厅。"
    # a control character (an imported note, a URL) cannot be in XML: python-docx refuses the whole
    # document; the mold drops the character and the document opens
    molded = _mold(head, title, issued).render("济南市：", [("url", "证据：http://x/\x01a\x0bb")])
    assert "证据：http://x/ab" in [p.text for p in Document(io.BytesIO(molded)).paragraphs]
    # a table wider than the mold's widest is laid out by python-docx itself
    from scoring.report.gongwen import _WIDEST, write_docx

    wide = [Table([[f"列{i}" for i in range(_WIDEST + 2)], [str(i) for i in range(_WIDEST + 2)]])]
    written = write_docx(head, title=title, to="济南市：", blocks=wide, issued=issued, path=tmp_path / "wide.docx")
    assert [c.text for c in Document(str(written)).tables[0].rows[1].cells] == [str(i) for i in range(_WIDEST + 2)]
    # a letterhead that carries the mold's sentinel, or a control character, still makes its document
    for odd in (Letterhead(number="⟦gongkai-mold:to⟧"), Letterhead(office="⟦gongkai-mold:body⟧"),
                Letterhead(office="机关\x01")):
        made = write_docx(odd, title=title, to="济南市：", blocks=[("p", "正文\x01一")], issued=issued,
                          path=tmp_path / "odd.docx")
        texts = [p.text for p in Document(str(made)).paragraphs]
        assert odd.document_number(issued) in texts and "正文一" in texts and "考核整改通知书" in "".join(texts)


def test_a_molded_package_is_the_zip_zipfile_writes(monkeypatch):
    """A 整改通知書's .docx is put together from the mold's zipped parts and its own deflated
    document.xml: byte for byte what zipfile writes appending that document.xml to the parts (at
    the same moment), and a zip every reader opens."""
    import io
    import struct
    import time

    from scoring.report.gongwen import Letterhead, Table, _mold

    monkeypatch.setattr(time, "time", lambda: 1_543_210_987.0)   # zipfile and the mold stamp the part alike
    mold = _mold(Letterhead("山东省人民政府办公厅"), "考核整改通知书", dt.date(2018, 2, 1))
    made = mold.render("济南市：", [("p", "x < y & z"), Table([["事项", "结果"], ["a", "未发布"]])])
    with zipfile.ZipFile(io.BytesIO(made)) as z:
        assert z.testzip() is None
        document = z.read("word/document.xml")
        assert z.namelist()[-1] == "word/document.xml" and len(z.namelist()) == mold.entries + 1
    package = io.BytesIO(mold.records + mold.directory + struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, mold.entries, mold.entries, len(mold.directory), len(mold.records), 0))
    with zipfile.ZipFile(package, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("word/document.xml", document)
    assert package.getvalue() == made
    assert Document(io.BytesIO(made)).paragraphs[-2].text.startswith("抄送：")
