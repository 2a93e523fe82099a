"""The annual report from the demo run in every format, read back: the engine's numbers, Chinese text,
no network, and evidence text that cannot become a spreadsheet formula."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session

from scoring.intake.evidence import validate
from scoring.intake.tables import read_table
from scoring.report import model as report
from scoring.report.write import write
from scoring.store import repository as store
from scoring.store.db import dispose, engine_for
from scoring.synthetic import demo
from tests.e2e.test_browser import ARGS, CHROMIUM

HOSTILE_NOTE = "=HYPERLINK(\"http://evil.example\",\"<b onmouseover=alert(1)>click</b>\")"
HOSTILE_URL = "@SUM(1+1)*cmd|' /C calc'!A0"
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


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
    assert cities["单位"].tolist() == engine["name"].tolist()
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
def test_word_tables_hold_the_engine_numbers(built, tmp_path):
    from docx import Document

    path = write(built, tmp_path / "r.docx")
    doc = Document(str(path))
    engine = built.card.scores[built.card.scores["kind"] == "city"]
    ranking = next(t for t in doc.tables if t.rows[0].cells[0].text == "名次" and t.rows[1].cells[1].text == engine.iloc[0]["name"])
    rows = [[c.text for c in r.cells] for r in ranking.rows[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(x.rank), x.name, f"{x.score:.2f}") for x in engine.itertuples()]
    assert len(doc.inline_shapes) >= 3  # the charts, as images
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "宋体"


@needs_chromium
def test_pdf_text_has_the_city_names(built, tmp_path):
    from pypdf import PdfReader

    path = write(built, tmp_path / "r.pdf")
    text = unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(str(path)).pages))
    cities = built.card.scores[built.card.scores["kind"] == "city"]["name"]
    assert [c for c in cities if c not in text] == []
    assert "年度政务公开考核报告" in text


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
    r = subprocess.run([sys.executable, "-m", "scoring.cli", "report", "--db", demo_db,
                        "--out", str(tmp_path / "r.pdf"), "--out", str(tmp_path / "r.xlsx")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 1
    assert "apt-get install chromium fonts-noto-cjk" in r.stderr
    assert (tmp_path / "r.xlsx").exists() and not (tmp_path / "r.pdf").exists()
