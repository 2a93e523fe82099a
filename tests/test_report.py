"""The annual report from the demo run in every format, read back: the engine's numbers, Chinese text,
no network, and evidence text that cannot become a spreadsheet formula."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text as sql
from sqlmodel import Session

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.method.kinds import MODULES
from scoring.report import model as report
from scoring.report.write import write
from scoring.store import repository as store
from scoring.store.db import dispose, engine_for
from scoring.synthetic import demo
from tests.cli import gongkai
from tests.e2e.test_browser import ARGS, CHROMIUM

HOSTILE_NOTE = "=HYPERLINK(\"http://evil.example\",\"<b onmouseover=alert(1)>click</b>\")"
HOSTILE_URL = "@SUM(1+1)*cmd|' /C calc'!A0"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


def simplified(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, scheme_2017):
    """The demo in a database, plus one late publication whose note and URL are formula attacks."""
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'r.db'}"
    with Session(engine_for(url)) as s:
        store.save_scheme(s, scheme=scheme_2017, who="test")
        data = demo.generate(scheme_2017).to_csv(index=False).encode()
        ev = validate(read_table(data, "demo"), scheme_2017, "demo")
        store.import_evidence(s, who="test", scheme=scheme_2017, evidence=ev, file_name="demo", sha256="x")
        card, _ = store.score_and_record(s, scheme_id=None, as_of=None, who="test")
        missing = card.findings[(card.findings["obligation"] == "6.7") & (card.findings["outcome"] == "missing")]
        body = missing.iloc[0]["body"]
        extra = f"單位,任務編號,發佈時間,網址,備註\n{body},6.7,2017-07-31,\"{HOSTILE_URL}\",\"{HOSTILE_NOTE.replace(chr(34), chr(34) * 2)}\"\n"
        ev2 = validate(read_table(extra.encode(), "firm.csv"), scheme_2017, "firm.csv")
        store.import_evidence(s, who="test", scheme=scheme_2017, evidence=ev2, file_name="firm.csv",
                              sha256=hashlib.sha256(extra.encode()).hexdigest(), firm="某評估機構")
        s.commit()
    yield url
    dispose(url)


@pytest.fixture(scope="module")
def built(demo_db):
    with Session(engine_for(demo_db)) as s:
        card, run_id = store.score_and_record(s, scheme_id=None, as_of=None, who="test")
        summary = store.evidence_summary(s, scheme_id=card.scheme.id)
        s.commit()
    return report.build(card, summary, run_id)


def test_excel_sheets_hold_the_engine_numbers(built, tmp_path):
    path = write(built, tmp_path / "r.xlsx")
    sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
    cities = sheets["排名-设区市"]
    engine = built.card.scores[built.card.scores["kind"] == "city"]
    assert cities["单位"].tolist() == [simplified(n) for n in engine["name"]]
    assert cities["得分"].tolist() == pytest.approx(engine["score"].round(2).tolist())
    assert cities["名次"].tolist() == engine["rank"].tolist()
    assert pd.api.types.is_float_dtype(cities["得分"])  # numbers as numbers
    gaps = sheets["差距"]
    assert gaps["失分"].sum() == pytest.approx(built.card.obligations["gap"].sum(), abs=0.01 * len(gaps))


def test_excel_cells_never_become_formulas(built, tmp_path):
    path = write(built, tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml
    appendix = pd.read_excel(path, sheet_name="缺失与逾期", engine="calamine")
    assert HOSTILE_NOTE in appendix["备注"].tolist()
    assert HOSTILE_URL in appendix["网址"].tolist()


@needs_chromium
def test_a_line_break_or_tab_in_a_note_is_words_own_in_the_word_report(built, tmp_path):
    """docxtpl's listing pass (skipped when no text holds a tab, line break, \\a or \\f) still turns a
    note's line break and tab into Word's own break and tab."""
    from dataclasses import replace

    from docx import Document

    appendix = built.appendix.copy()
    appendix.loc[0, "note"] = "第一行\n第二行\t附注"
    doc = Document(str(write(replace(built, appendix=appendix), tmp_path / "r.docx")))
    cells = [c for t in doc.tables for row in t.rows for c in row.cells if "第一行" in c.text]
    assert cells and cells[0].text.startswith("第一行\n第二行\t附注")
    xml = cells[0]._tc.xml
    assert "<w:br/>" in xml and "<w:tab/>" in xml


@needs_chromium
def test_word_tables_hold_the_engine_numbers(built, tmp_path):
    from docx import Document

    path = write(built, tmp_path / "r.docx")
    doc = Document(str(path))
    engine = built.card.scores[built.card.scores["kind"] == "city"]
    ranking = next(t for t in doc.tables if t.rows[0].cells[0].text == "名次"
                   and t.rows[1].cells[1].text == simplified(engine.iloc[0]["name"]))
    rows = [[c.text for c in r.cells] for r in ranking.rows[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(x.rank), simplified(x.name), f"{x.score:.2f}") for x in engine.itertuples()]
    assert len(doc.inline_shapes) >= 3  # the charts, as images
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"


@needs_chromium
def test_pdf_text_has_the_city_names(built, tmp_path):
    from pypdf import PdfReader

    path = write(built, tmp_path / "r.pdf")
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(str(path)).pages))
    cities = built.card.scores[built.card.scores["kind"] == "city"]["name"]
    assert [c for c in cities if simplified(c) not in text] == []
    assert "年度政务公开考核报告" in re.sub(r"\s+", "", text)   # the cover's title wraps at its true size


@needs_chromium
def test_html_is_self_contained_and_interactive(built, tmp_path):
    from playwright.sync_api import sync_playwright

    path = write(built, tmp_path / "r.html")
    html = path.read_text(encoding="utf-8")
    assert "<b onmouseover" not in html  # evidence notes are escaped text, never markup
    assert "&lt;b onmouseover=alert(1)&gt;click&lt;/b&gt;" in html
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(path.as_uri())
        page.wait_for_selector(".plot-container", timeout=30_000)
        charts = page.locator(".plot-container").count()
        browser.close()
    assert outside == []
    assert charts >= 3


def test_missing_chromium_names_the_fix_and_other_formats_still_work(demo_db, tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent), "GONGKAI_CHROMIUM": "/nonexistent"}
    r = gongkai("report", "--db", demo_db, "--out", str(tmp_path / "r.pdf"), "--out", str(tmp_path / "r.xlsx"), env=env)
    assert r.returncode == 1
    assert "apt-get install chromium fonts-noto-cjk" in r.stderr
    assert (tmp_path / "r.xlsx").exists() and not (tmp_path / "r.pdf").exists()


# ---- what a provincial office reads: paper, navigation, one script, words, layout, numbers ----------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
RULE_KINDS = tuple(MODULES)  # every registered rule kind: none may reach a reader as its code


@pytest.fixture(scope="module")
def docx_file(built, tmp_path_factory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    return write(built, tmp_path_factory.mktemp("docx") / "r.docx")


@pytest.fixture(scope="module")
def pdf_file(built, tmp_path_factory) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    return write(built, tmp_path_factory.mktemp("pdf") / "r.pdf")


def _xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith(part))


def _docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_word_paper_is_a4_with_official_margins(docx_file):
    import re

    xml = _xml(docx_file, "word/document.xml")
    assert re.search(r'<w:pgSz w:w="11906" w:h="16838"/>', xml)  # A4, not US Letter (12240 × 15840)
    margins = dict(re.findall(r'w:(top|bottom|left|right)="(\d+)"', re.search(r"<w:pgMar [^>]*>", xml)[0]))
    mm = {k: round(int(v) / 1440 * 25.4) for k, v in margins.items()}
    assert mm == {"top": 37, "bottom": 35, "left": 28, "right": 26}


def test_word_has_a_toc_field_and_page_numbers(docx_file):
    document, footers = _xml(docx_file, "word/document.xml"), _xml(docx_file, "word/footer")
    assert 'TOC \\o "1-2"' in document and 'w:fldCharType="begin"' in document
    assert "<w:instrText" in footers and " PAGE " in footers
    assert '<w:updateFields w:val="true"/>' in _xml(docx_file, "word/settings.xml")  # Word fills them on opening
    assert "合成示例数据" in footers  # the demo says so on every page


def test_pdf_has_bookmarks_and_page_numbers(pdf_file):
    from pypdf import PdfReader

    reader = PdfReader(str(pdf_file))
    top = [o["/Title"] for o in reader.outline if not isinstance(o, list)]
    assert top == ["目录", "一、总体情况", "二、排名", "二（续）、排名稳健性", "三、图表", "四、各单位得分与差距",
                   "四（续一）、抽查与评估质量", "四（续二）、自评与第三方评估对照", "五、考核方法：任务、分值、规则与原文", "附录：缺失与逾期事项"]
    pages = [unicodedata.normalize("NFKC", p.extract_text()) for p in reader.pages]
    assert len(pages) > 10
    assert all(f"— {n} —" in " ".join(text.split()) for n, text in enumerate(pages, 1))
    assert all("合成示例数据 · 非真实考核结果" in text for text in pages)
    assert "本报告由合成示例数据生成" in pages[0] and "目录" in pages[0] + pages[1]


def test_simplified_report_has_no_traditional_characters(built, docx_file, pdf_file, tmp_path):
    """zh-Hans: names, grades, titles, quotations and evidence notes all in Simplified characters
    (the document's words, character for character converted)."""
    from pypdf import PdfReader

    pdf = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(str(pdf_file)).pages))
    xlsx = pd.read_excel(write(built, tmp_path / "r.xlsx"), sheet_name=None, engine="calamine", header=None)
    cells = "\n".join(str(v) for frame in xlsx.values() for v in frame.to_numpy().ravel() if isinstance(v, str))
    for text in (_docx_text(docx_file), pdf, cells):
        traditional = sorted(c for c in set(text) if simplified(c) != c)  # each distinct character once
        assert traditional == []
    # the title as one string: at its true size (no table overflows the page, so chromium no longer
    # shrinks the pages to fit) it wraps on the cover
    assert "《2017年山东省政务公开工作要点》年度政务公开考核报告" in re.sub(r"\s+", "", pdf)
    assert "济南市" in pdf and "优秀" in pdf and "濟南市" not in pdf


def test_traditional_report_keeps_traditional_names(demo_db, tmp_path):
    with Session(engine_for(demo_db)) as s:
        card, run_id = store.score_and_record(s, scheme_id=None, as_of=None, who="test")
        built = report.build(card, store.evidence_summary(s, scheme_id=card.scheme.id), run_id, "zh-Hant")
    assert built.title.startswith("《2017年山東省政務公開工作要點》年度政務公開")
    assert "濟南市" in built.rankings["city"]["name"].tolist()


def test_no_raw_rule_or_outcome_codes(built, tmp_path):
    sheets = pd.read_excel(write(built, tmp_path / "r.xlsx"), sheet_name=None, engine="calamine")
    words = set(sheets["缺失与逾期"]["事项"]) | set(sheets["缺失与逾期"]["结果"])
    words |= {w for col in ("rule", "item", "outcome") for w in built.findings[col]}
    assert [w for w in words if any(k in w for k in RULE_KINDS)] == []
    assert {"限期完成", "缺失", "逾期", "第三方评分"} <= words
    assert [w for w in sheets["指标"]["规则"] if any(k in w for k in RULE_KINDS)] == []


def test_item_words():
    assert [report.item_text(i, "zh-Hans") for i in ("deadline", "rating", "2017-03", "2017-Q2", "2017-W05",
                                                      "2017", "2017-05-31", "2017-06-P2", "E1/受理")] == [
        "限期完成", "第三方评分", "2017年3月", "2017年第2季度", "2017年第5周", "2017年", "2017年5月31日",
        "2017年6月第2候", "E1/受理"]
    assert report.item_text("2017-Q2", "en") == "2017 Q2"


def test_one_number_format_per_column(docx_file):
    import re

    from docx import Document

    mixed = []
    for t in Document(str(docx_file)).tables:
        columns = list(zip(*[[c.text for c in r.cells] for r in t.rows[1:]], strict=True))
        for i, col in enumerate(columns):
            places = {len(v.split(".")[1]) if "." in v else 0 for v in col if re.fullmatch(r"-?\d+(\.\d+)?", v)}
            if len(places) > 1:
                mixed.append((t.rows[0].cells[i].text, sorted(places)))
    assert mixed == []
    assert report.decimals(pd.Series([27.87, 0.0, 11.7])) == 2
    assert report.decimals(pd.Series([2.0, 2.5])) == 1 and report.decimals(pd.Series([2.0, 4.0])) == 0


@needs_chromium
def test_the_appendix_prints_every_column_on_the_page(built, pdf_file):
    """Issue 26: the PDF lost the appendix's last two columns (留存附件, 附件 SHA-256) off the page edge:
    the HTML had 108 无附件 cells, the PDF none. The appendix prints on landscape pages, whole."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf_file))
    cells = built.appendix.astype(str)
    files = cells.iloc[:, -2]
    assert (files == "无附件").sum() > 50   # the demo's evidence has few preserved files
    wide = [p for p in reader.pages if float(p.mediabox.width) > float(p.mediabox.height)]
    assert wide and all(abs(float(p.mediabox.width) - 841.9) < 1 for p in wide)   # A4 landscape
    text = "".join(p.extract_text() for p in wide)
    assert text.count("无附件") == (files == "无附件").sum()
    from scoring.report.model import header

    last = header(cells.columns[-1], built.lang)  # the last column's header, as printed
    assert re.sub(r"\s+", "", last) in re.sub(r"\s+", "", text)
    for page in wide:   # nothing printed past the right margin
        right: list[float] = []
        page.extract_text(visitor_text=lambda t, cm, tm, f, s, right=right: right.append(tm[4] * cm[0] + cm[4])
                          if t.strip() else None)
        assert max(right) < 841.9 - 26 / 25.4 * 72, max(right)


def test_names_dates_and_outcomes_stay_on_one_line(built, pdf_file):
    """The appendix and findings tables print each body name, date and outcome on one line."""
    from pypdf import PdfReader

    lines = {line.strip() for p in PdfReader(str(pdf_file)).pages
             for line in unicodedata.normalize("NFKC", p.extract_text()).splitlines()}
    text = "\n".join(lines)
    for name in set(built.appendix["name"]):
        assert name in text, name  # never 省国土资 / 源厅
    assert "缺\n失" not in text and "缺失" in text


def test_each_firm_once_on_the_cover(tmp_path, scheme_2017):
    url = f"sqlite:///{tmp_path / 'f.db'}"
    rows = "單位,任務編號,發佈時間,評估機構\n濟南,6.7,2017-06-16,乙公司\n青島,6.7,2017-06-16,甲公司\n"
    with Session(engine_for(url)) as s:
        store.save_scheme(s, scheme=scheme_2017, who="test")
        for n in (1, 2):  # two files, each holding both assessors
            data = rows.replace("2017-06-16", f"2017-06-1{n}").encode()
            ev = validate(read_table(data, f"f{n}.csv"), scheme_2017, f"f{n}.csv")
            store.import_evidence(s, who="test", scheme=scheme_2017, evidence=ev, file_name=f"f{n}.csv",
                                  sha256=hashlib.sha256(data).hexdigest(), firm="乙公司、甲公司")
        s.commit()
        summary = store.evidence_summary(s, scheme_id=scheme_2017.id)
        card, run_id = store.score_and_record(s, scheme_id=None, as_of=None, who="test")
    dispose(url)
    assert summary.firms == ["乙公司", "甲公司"]
    built = report.build(card, summary, run_id)
    assert built.firms == ["乙公司", "甲公司"] and not built.synthetic


def test_the_reports_records_are_every_stored_record_with_its_file(tmp_path, scheme_2017, monkeypatch):
    """The report reads its scored records from the run's evidence state and only the rest row by row:
    the records, rejected and pending ones included, each with its url, note and preserved file, are
    exactly every stored record's (id order), as one read of the table gives them."""
    monkeypatch.setenv(store.SNAPSHOTS, "off")   # the rows are changed by hand below, unaudited
    url = f"sqlite:///{tmp_path / 'e.db'}"
    with Session(engine_for(url)) as s:
        store.save_scheme(s, scheme=scheme_2017, who="test")
        data = demo.generate(scheme_2017).head(300).to_csv(index=False).encode()
        ev = validate(read_table(data, "demo"), scheme_2017, "demo")
        store.import_evidence(s, who="test", scheme=scheme_2017, evidence=ev, file_name="demo", sha256="x")
        s.execute(sql("UPDATE evidence SET rejected = 'wrong page' WHERE id % 7 = 0"))
        s.execute(sql("UPDATE evidence SET pending = 1 WHERE id % 11 = 0"))
        s.execute(sql("UPDATE evidence SET attachment = 'ab' || id, captured_at = '2017-05-0' || (id % 9 + 1) "
                             "|| ' 10:00:00.000000' WHERE id % 5 = 0"))
        s.commit()
        summary = store.evidence_summary(s, scheme_id=scheme_2017.id)
        whole = store._typed(store._raw(s, "evidence", [*summary.evidence.columns], scheme_id=scheme_2017.id))
    dispose(url)
    assert len(whole) == summary.records == 300
    assert whole["attachment"].str.startswith("ab").sum() == 60
    got = summary.evidence.astype({c: str for c in ("body", "obligation", "period", "event", "step", "assessor")})
    pd.testing.assert_frame_equal(got, whole, check_dtype=False)


def test_each_appendix_row_quotes_the_first_published_record_of_its_item(built):
    """The appendix's url, note and file of a missing or late item are those of its body's record of
    that obligation and item published first (the lowest id among equals), as a plain merge finds."""
    from scoring.method.explain import evidence_item

    ev = built.evidence.evidence.astype({c: str for c in ("body", "obligation", "period", "event", "step")})
    ev = ev.assign(item=evidence_item(ev)).sort_values("published_at", kind="stable")
    first = ev.drop_duplicates(["body", "obligation", "item"]).set_index(["body", "obligation", "item"])
    f = built.card.findings
    f = f[f["outcome"].isin(["missing", "late"])].sort_values(["body", "obligation", "due"])
    keys = list(zip(f["body"].astype(str), f["obligation"].astype(str), f["item"].astype(str), strict=True))
    expected = first["url"].reindex(keys).fillna("").tolist()
    assert sum(u != "" for u in expected) > 50   # late items and items published after the as-of date
    assert built.appendix["url"].tolist() == expected
    assert built.appendix["sha"].tolist() == first["attachment"].reindex(keys).fillna("").tolist()


def test_word_has_the_robustness_section_of_the_html_report(built, docx_file):
    """The same section, numbered and placed as in html (after the rankings, before the charts), with
    every body's rank interval and grade certainty, the uncertain ones flagged."""
    from docx import Document

    doc = Document(str(docx_file))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:4] == ["一、总体情况", "二、排名", "二（续）、排名稳健性", "三、图表"]
    caption = [p.text for p in doc.paragraphs]
    assert caption[caption.index(built.t("report_robustness")) + 1] == built.t("robustness_caption")
    table = next(t for t in doc.tables if t.rows[0].cells[3].text == "名次区间（5%–95%）")
    assert [c.text for c in table.rows[0].cells] == ["单位", "类别", "名次", "名次区间（5%–95%）", "等次", "等次保持概率"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows == report.cells(built.robustness)[0]
    assert any(r[5].endswith("（等次不确定）") for r in rows) == any(built.robustness.iloc[:, 5].str.contains("不确定"))


def test_a_kind_of_many_bodies_is_charted_as_its_scores_spread(built, monkeypatch):
    """A bar per body is a chart metres long for a nation's 2,844 counties: over BARS_SHOWN bodies a
    kind's chart counts its bodies per 2-point band, each grade its own colour, every body counted
    once; the departments (fewer) keep a bar each."""
    from scoring.report import images

    monkeypatch.setattr(images, "BARS_SHOWN", 5)
    figs = images.figures(built)
    scores = built.card.scores.dropna(subset=["score"])
    cities = scores[scores["kind"] == "city"]
    assert len(cities) > 5 and {t.type for t in figs["ranking_city"].data} == {"histogram"}
    def values(x) -> list[float]:   # plotly keeps numbers as a typed array (base64) once they pass JSON
        import base64

        import numpy as np
        return np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]).tolist() if isinstance(x, dict) else list(x)
    counted = {t.name: sorted(values(t.x)) for t in figs["ranking_city"].data}
    assert counted == {simplified(g): sorted(v.round(2)) for g, v in cities.groupby("grade")["score"]}
    assert figs["ranking_city"].layout.title.text.startswith("得分分布")
    assert figs["ranking_city"].data[0].xbins.size == 2
    monkeypatch.setattr(images, "BARS_SHOWN", 100)
    assert {t.type for t in images.figures(built)["ranking_city"].data} == {"bar"}


def test_charts_name_bodies_in_the_script_of_the_tables(built):
    """Issue 26: the charts named bodies and grades in Traditional (萊蕪市, 優秀) beside Simplified tables."""
    from scoring.report.images import figures
    from tests.e2e.test_script_browser import traditional_only

    shown = " ".join(fig.to_json() for fig in figures(built).values())
    shown = shown.encode().decode("unicode_escape") if "\\u" in shown else shown
    assert "莱芜市" in shown and "萊蕪市" not in shown
    assert not traditional_only(shown), sorted(traditional_only(shown))
    assert "莱芜市" in set(built.summary.iloc[:, 1].astype(str)) | set(built.rankings["city"].iloc[:, 1].astype(str))


# ---- one model, every format: the same tables, rows and cells ----------------------------------------

def _model_tables(r) -> list[tuple[list[str], list[list[str]]]]:
    """The model's tables in the report's order, each as (headers, rows of cell text)."""
    frames = [r.summary, *r.rankings.values(), r.robustness,
              *(r.body_table(b, part) for b in r.bodies if r.section_cells(b, "gaps") for part in ("gaps", "findings")), r.method,
              r.appendix]
    return [([r.header(k) for k in f.columns], report.cells(f)[0]) for f in frames]


@needs_chromium
def test_every_format_carries_the_same_tables_rows_and_cells(built, docx_file, pdf_file, tmp_path):
    """HTML shows each table as the model holds it; Word the same rows and cells (its summary joins
    the grade counts in one cell, its appendix the file with its SHA-256); each workbook sheet reads
    back as the model's table; the PDF holds every short cell of every table."""
    import lxml.html
    from docx import Document
    from pypdf import PdfReader

    tables = _model_tables(built)
    page = lxml.html.fromstring(write(built, tmp_path / "r.html").read_text(encoding="utf-8"))
    html = [([th.text_content() for th in t.iter("th")],
             [[td.text_content() for td in tr.iter("td")] for tr in t.iter("tr") if tr.find("td") is not None])
            for t in page.iter("table") if "meta" not in (t.get("class") or "")]
    assert html == tables

    summary, *rest = tables
    grades = [c for c in built.summary.columns if c.startswith(report.GRADE)]
    word_summary = (summary[0][:4] + [built.t("report_grade_counts")],
                    [row[:4] + [" / ".join(f"{built.header(g)} {n}" for g, n in zip(grades, row[4:], strict=True))]
                     for row in summary[1]])
    appendix = rest[-1]
    word_appendix = (appendix[0][:-1], [row[:9] + [f"{row[9]} SHA-256 {row[10]}" if row[10] else row[9]]
                                        for row in appendix[1]])
    word = [([c.text for c in t.rows[0].cells], [[c.text for c in row.cells] for row in t.rows[1:]])
            for t in Document(str(docx_file)).tables]
    assert word == [word_summary, *rest[:-1], word_appendix]

    sheets = pd.read_excel(write(built, tmp_path / "r.xlsx"), sheet_name=None, engine="calamine")
    for sheet, frame in (("排名-设区市", built.rankings["city"]), ("缺失与逾期", built.appendix), ("指标", built.method),
                         ("排名稳健性", built.robustness)):   # numbers read back as numbers, shown as the sheet shows them
        assert (list(sheets[sheet].columns), report.cells(sheets[sheet])[0]) == \
            ([built.header(k) for k in frame.columns], report.cells(frame)[0]), sheet

    pdf = "".join(unicodedata.normalize("NFKC", p.extract_text()) for p in PdfReader(str(pdf_file)).pages)
    pdf = "".join(pdf.split())
    # not yet: the appendix's last two columns (留存附件, SHA-256) print off the page edge (issue 26)
    printed = [*tables[:-1], (appendix[0][:-2], [row[:-2] for row in appendix[1]])]
    one_line = [c for _, rows in printed for row in rows for c in row if c and len(c) <= 12]
    assert [c for c in one_line if "".join(unicodedata.normalize("NFKC", c).split()) not in pdf] == []


def test_one_pass_sections_are_each_bodys_explanation(built):
    """Built for every body at once, each section lists what `explained()` gives that body alone:
    its costliest findings (at most 12, worst first) and its gaps, largest first."""
    from scoring.method.explain import explained

    card = built.card
    assert len(built.bodies) == card.scores["score"].notna().sum()
    for b in built.bodies:
        findings, gaps_shown = built.body_table(b, "findings"), built.body_table(b, "gaps")
        assert (report.cells(findings)[0], report.cells(gaps_shown)[0]) == (built.section_cells(b, "findings"),
                                                                            built.section_cells(b, "gaps"))
        alone = explained(card, b["body"])
        alone = alone[alone["lost"] > 1e-12].head(12)
        assert findings["obligation"].tolist() == alone["obligation"].tolist(), b["body"]
        assert findings["lost"].tolist() == alone["lost"].round(2).tolist(), b["body"]
        assert findings["item"].tolist() == [report.item_text(str(i), "zh-Hans") for i in alone["item"]]
        gaps = card.gaps_of(b["body"])
        assert gaps_shown["obligation"].tolist() == gaps["obligation"].tolist()
        assert gaps_shown["lost"].tolist() == gaps["gap"].round(2).tolist()


def test_printed_tables_are_split_into_tables_of_a_thousand_rows(built):
    """chromium prints nothing for a page of 21,307-row tables: the printed page holds them as tables
    of at most PRINTED_ROWS_PER_TABLE rows, each with its head, the rows in order (here 7 a table)."""
    import lxml.html

    from scoring.report.html import render

    def tables(page: str) -> list[tuple[list[str], list[list[str]]]]:
        return [([th.text_content() for th in t.iter("th")],
                 [[td.text_content() for td in tr.iter("td")] for tr in t.iter("tr") if tr.find("td") is not None])
                for t in lxml.html.fromstring(page).iter("table") if "meta" not in (t.get("class") or "")]
    whole, split = tables(render(built, {})), tables(render(built, {}, rows_per_table=7))
    assert max(len(rows) for _, rows in split) == 7 and len(split) > len(whole)
    joined: list[tuple[list[str], list[list[str]]]] = []
    for head, rows in split:   # a table of the same head right after another: its continuation
        if joined and joined[-1][0] == head and len(joined[-1][1]) % 7 == 0 and len(joined[-1][1]) and rows:
            joined[-1][1].extend(rows)
        else:
            joined.append((head, list(rows)))
    assert joined == whole


def test_a_nations_body_sections_are_written_beside_the_report(built, demo_db, tmp_path, monkeypatch):
    """Over BODIES_INLINE bodies (a nation's 3,237: 5,751 printed pages) the documents that print the
    body sections (html, docx, pdf) say where they are instead: two CSVs beside the report, every
    body's gaps and costliest findings with its name, the bodies in the report's order; the workbook
    keeps its sheet of every body's gaps; `write_report` and the dashboard name the CSVs."""
    import lxml.html
    from docx import Document

    from scoring import workflows
    from scoring.intake.tables import spreadsheet_safe
    from scoring.report import write as writer
    from scoring.store.accounts import Actor

    monkeypatch.setattr(writer, "BODIES_INLINE", 5)
    n = len(built.bodies)
    note = (f"{n:,} 个单位的逐单位差距与失分事项篇幅过大，不在本报告内排印，另存为与本报告同目录的 r-各单位失分指标.csv"
            "（各单位失分的指标）与 r-各单位失分事项.csv（各单位失分最多的事项，每单位至多 12 项），CSV，UTF-8，"
            "每行注明单位，单位按本报告排名顺序。")
    page = lxml.html.fromstring(writer.write(built, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert note in page.text_content() and page.find_class("body") == []
    for part, name in (("gaps", "r-各单位失分指标.csv"), ("findings", "r-各单位失分事项.csv")):
        got = pd.read_csv(tmp_path / name, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        expected = built.headed(built.every_body(part))
        assert list(got.columns) == list(expected.columns)
        assert got.values.tolist() == spreadsheet_safe(expected).astype(str).values.tolist()   # numbers as numbers
        # each body's rows are those its section printed
        assert got.iloc[:, 0].tolist() == [b["name"] for b in built.bodies for _ in built.section_cells(b, part)]
        assert got.iloc[:, 1].tolist() == [row[0] for b in built.bodies for row in built.section_cells(b, part)]
    assert got[built.header("name")].unique().tolist() == [b["name"] for b in built.bodies
                                                           if built.section_cells(b, "findings")]

    doc = Document(str(writer.write(built, tmp_path / "r.docx")))
    assert note in [p.text for p in doc.paragraphs]
    assert not any(p.text.startswith(built.bodies[0]["name"] + "（") for p in doc.paragraphs)
    sheets = pd.read_excel(writer.write(built, tmp_path / "r.xlsx"), sheet_name=None, engine="calamine")
    assert len(sheets["差距"]) == len(built.gaps) > 0   # the workbook is unchanged

    done = workflows.write_report(demo_db, actor=Actor("local", None), outs=[tmp_path / "w" / "r.html",
                                                                              tmp_path / "w" / "r.xlsx"])
    assert done.written == [tmp_path / "w" / "r.html", tmp_path / "w" / "r-各单位失分指标.csv",
                            tmp_path / "w" / "r-各单位失分事项.csv", tmp_path / "w" / "r.xlsx"]
    from dashboard import data as dashboard_data

    files = dashboard_data.report_files(demo_db, built.card.scheme.id, None, [".html"], "zh-Hans", Actor("local", None))
    assert sorted(files) == [".html", "gongkai-report-各单位失分事项.csv", "gongkai-report-各单位失分指标.csv"]


def test_parts_apart_in_english_name_their_columns_apart(built, tmp_path, monkeypatch):
    """In English the report's body sections apart are r-gaps.csv and r-findings.csv, their headers
    each a column's own (the obligation's number and its title were both "Obligation": the CSV was
    refused with a pandas error)."""
    from dataclasses import replace

    from scoring.report import write as writer

    monkeypatch.setattr(writer, "BODIES_INLINE", 5)
    english = replace(built, lang="en")
    writer.write(english, tmp_path / "r.html")
    gaps = pd.read_csv(tmp_path / "r-gaps.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(gaps.columns) == ["Body", "Obligation", "Title", "Lost"] and len(gaps) == len(built.gaps)
    assert (tmp_path / "r-findings.csv").exists()


def test_a_national_appendix_is_written_beside_the_report(built, demo_db, tmp_path, monkeypatch):
    """An appendix longer than APPENDIX_INLINE rows (a nation's 431,534) is not printed in the report:
    it is a CSV beside each report file, with the report's headers and every row, and each format says
    where it is; `write_report` names the CSV among the files written."""
    import lxml.html
    from docx import Document

    from scoring import workflows
    from scoring.intake.tables import spreadsheet_safe
    from scoring.report import write as writer
    from scoring.store.accounts import Actor

    monkeypatch.setattr(writer, "APPENDIX_INLINE", 5)
    rows = len(built.appendix)
    assert rows > 5
    note = f"附录共 {rows:,} 行，篇幅过大，不在本报告内排印，另存为与本报告同目录的 r-附录.csv（CSV，UTF-8，列同本表）。"

    page = lxml.html.fromstring(writer.write(built, tmp_path / "r.html").read_text(encoding="utf-8"))
    section = page.get_element_by_id("report_appendix").getparent()
    assert note in section.text_content() and section.find(".//table") is None
    apart = pd.read_csv(tmp_path / "r-附录.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    expected = built.headed(built.appendix)
    assert list(apart.columns) == list(expected.columns) and len(apart) == rows
    assert apart.values.tolist() == report.cells(spreadsheet_safe(expected))[0]
    # the fixture's formula attack (a note and a URL) stays text, as in every CSV gongkai writes
    assert "'" + HOSTILE_NOTE in apart[built.header("note")].tolist()
    assert "'" + HOSTILE_URL in apart[built.header("url")].tolist()
    assert not any(c.startswith(("=", "+", "-", "@")) for row in apart.values.tolist() for c in row if c)
    whole = (tmp_path / "r-附录.csv").read_bytes()
    monkeypatch.setattr(writer, "CSV_ROWS_AT_ONCE", 4)   # millions of rows are written in parts: the same file
    writer.write(built, tmp_path / "r.html")
    assert (tmp_path / "r-附录.csv").read_bytes() == whole

    writer.write(built, tmp_path / "r.docx")
    doc = Document(str(tmp_path / "r.docx"))
    assert note in [p.text for p in doc.paragraphs]
    assert len(doc.tables) == len(_model_tables(built)) - 1      # every table but the appendix
    sheets = pd.read_excel(writer.write(built, tmp_path / "r.xlsx"), sheet_name=None, engine="calamine")
    assert list(sheets["缺失与逾期"].columns) == [note] and sheets["缺失与逾期"].empty

    done = workflows.write_report(demo_db, actor=Actor("local", None), outs=[tmp_path / "w" / "r.html"])
    assert done.written == [tmp_path / "w" / "r.html", tmp_path / "w" / "r-附录.csv"]
    # the dashboard's report page offers the CSV beside the formats asked for
    from dashboard import data as dashboard_data

    files = dashboard_data.report_files(demo_db, built.card.scheme.id, None, [".html"], "zh-Hans", Actor("local", None))
    assert sorted(files) == [".html", "gongkai-report-附录.csv"]
    assert files["gongkai-report-附录.csv"][0] == (tmp_path / "w" / "r-附录.csv").read_bytes()
    assert "gongkai-report-附录.csv" in files[".html"][0].decode("utf-8")   # the name the download carries
    # two formats of one name: one CSV, listed once
    done = workflows.write_report(demo_db, actor=Actor("local", None), outs=[tmp_path / "v" / "r.html",
                                                                              tmp_path / "v" / "r.xlsx"])
    assert done.written == [tmp_path / "v" / "r.html", tmp_path / "v" / "r-附录.csv", tmp_path / "v" / "r.xlsx"]
