"""A hostile review of the kept report tables, the workbook written row by row and the kept CSVs
and charts: what a user would receive wrong, shown failing before each fix."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from scoring import workflows
from scoring.store.accounts import Actor

ACTOR = Actor("t", None)
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture
def published(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    workflows.load_demo(url, actor=ACTOR)
    workflows.publish(url, actor=ACTOR, stage="preliminary", today=dt.date(2018, 1, 5))
    return url


def _formats(path: Path, sheet: int) -> dict[str, tuple[str, str]]:
    """Each cell of a workbook's sheet (1-based, in book order): (its value, its number format as Excel
    shows it: a cell's own style, none being style 0, General)."""
    from lxml import etree

    with zipfile.ZipFile(path) as z:
        styles = etree.fromstring(z.read("xl/styles.xml"))
        codes = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.iter(f"{MAIN}numFmt")}
        xfs = [int(x.get("numFmtId", "0")) for x in styles.find(f"{MAIN}cellXfs")]
        sheet_xml = etree.fromstring(z.read(f"xl/worksheets/sheet{sheet}.xml"))
    out = {}
    for c in sheet_xml.iter(f"{MAIN}c"):
        v = c.find(f"{MAIN}v")
        if v is not None:
            out[c.get("r")] = (v.text, codes.get(xfs[int(c.get("s", "0"))], "General"))
    return out


def test_the_workbooks_numbers_keep_their_columns_format(published, tmp_path):
    """Written row by row (constant_memory), each row is flushed before `set_column` gives the column
    its number format: XlsxWriter gives a cell without a format of its own the column's only when the
    row is written, so every score in the workbook was shown as General (93.9, not 93.90; 90, not
    90.00), unlike the reports before."""
    done = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "r.xlsx"])
    assert done.failed == []
    cells = _formats(tmp_path / "r.xlsx", 2)   # the first ranking: rank, name, score …
    scores = {ref: f for ref, f in cells.items() if re.fullmatch(r"C\d+", ref) and ref != "C1"}
    assert scores and {fmt for _, fmt in scores.values()} == {"0.00"}, sorted(scores.items())[:3]


def test_a_kept_table_is_not_read_by_a_gongkai_whose_words_changed(published, tmp_path, monkeypatch):
    """The kept tables hold the report's words (outcomes, rules, late texts, file sizes) and live with
    the database for years: a gongkai upgraded since (a translation fixed: issue 26 was one) must not
    print the words of the gongkai that kept them; the run's identity names none of the code."""
    from scoring import i18n

    first = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "a" / "r.html"])
    assert first.failed == [] and "缺失" in (tmp_path / "a" / "r.html").read_text(encoding="utf-8")
    monkeypatch.setitem(i18n.STRINGS, "outcome_missing", ("未公开", "missing"))   # the upgrade's word
    i18n.text.cache_clear()
    try:
        workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "b" / "r.html"])
        page = (tmp_path / "b" / "r.html").read_text(encoding="utf-8")
    finally:
        monkeypatch.undo()
        i18n.text.cache_clear()
    assert "未公开" in page and ">缺失<" not in page
