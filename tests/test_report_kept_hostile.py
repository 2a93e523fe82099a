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


def test_two_reports_of_a_dashboards_threads_keep_the_same_part_whole(published, tmp_path, monkeypatch):
    """The dashboard (Streamlit) writes each session's report in a thread of one process: two reports
    of a run whose part's CSV is not kept yet (English, never kept at publish) both write it. Their
    temporary file was named by the process alone, so the second opened (emptied) the first's while
    it was being written; the first then renamed it into place and copied it to its reader: a CSV of
    NUL bytes where its rows were."""
    import shutil
    import threading

    from scoring.report import write as writer

    monkeypatch.setattr(writer, "APPENDIX_INLINE", 5)
    monkeypatch.setattr(writer, "CSV_ROWS_AT_ONCE", 5)
    b_opened, a_waiting, a_copied = threading.Event(), threading.Event(), threading.Event()
    made, copied, calls = writer.csv_bytes, shutil.copyfile, {"A": 0, "B": 0}

    def csv_bytes(frame):
        who = threading.current_thread().name
        if who in calls:
            calls[who] += 1
            if who == "A" and calls[who] == 15:   # A most of the way through its part (flushed) …
                a_waiting.set()
                b_opened.wait(10)                # … when B begins the same part
            if who == "B" and calls[who] == 1:
                b_opened.set()
                a_copied.wait(10)
        return made(frame)

    def copyfile(src, dst, **kwargs):
        out = copied(src, dst, **kwargs)
        if threading.current_thread().name == "A" and str(dst).endswith(".csv"):
            a_copied.set()
        return out
    monkeypatch.setattr(writer, "csv_bytes", csv_bytes)
    monkeypatch.setattr(shutil, "copyfile", copyfile)
    errors = []

    def report(who: str) -> None:
        try:
            done = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / who / "r.html"], lang="en")
            assert done.failed == []
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)
    a = threading.Thread(target=report, args=("A",), name="A")
    a.start()
    assert a_waiting.wait(60)
    b = threading.Thread(target=report, args=("B",), name="B")
    b.start()
    a.join(60)
    b.join(60)
    assert errors == []
    (csv,) = (tmp_path / "B").glob("*.csv")
    got = (tmp_path / "A" / csv.name).read_bytes()
    assert b"\x00" not in got and got == csv.read_bytes()


def test_a_kept_folder_this_user_may_not_search_only_means_the_parts_are_written_here(published, tmp_path,
                                                                                      monkeypatch):
    """Another account (a umask of 077 on a shared server) made the run's kept folder: this user's
    stat of a file in it fails with EACCES, which `Path.exists` raises (it hides only ENOENT and the
    like). Every other read of the kept folder takes an OSError as "not kept"; the check for a kept
    part's CSV did not, and the report failed where it was written before. (Emulated: the suite
    runs as root, whom no folder refuses.)"""
    import errno
    import os

    from scoring.report import write as writer

    monkeypatch.setattr(writer, "APPENDIX_INLINE", 5)
    real = Path.stat

    def stat(self, *args, **kwargs):
        if "derived" in self.parts:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self, *args, **kwargs)
    monkeypatch.setattr(Path, "stat", stat)
    done = workflows.write_report(published, actor=ACTOR, outs=[tmp_path / "out" / "r.html"], lang="en")
    assert done.failed == [] and len(list((tmp_path / "out").glob("*.csv"))) == 1


def test_the_records_state_does_not_hang_on_the_order_the_database_lists_files_in():
    """The preserved files are read without an ORDER BY (PostgreSQL lists an IN query's rows as its plan
    finds them): the same files in another order are the same state, not a new national appendix
    worked out and kept again beside the last."""
    from scoring.store import repository as repo

    files = pd.DataFrame({"attachment": ["b" * 64, "a" * 64], "file": ["二.pdf", "一.pdf"], "size": [2, 1]})
    def summary(f: pd.DataFrame) -> repo.EvidenceSummary:
        return repo.EvidenceSummary(records=2, firms=[], batches=1, state="s", files=f)
    one = repo.records_state(summary(files))
    assert one == repo.records_state(summary(files.iloc[::-1].reset_index(drop=True)))
    assert one != repo.records_state(summary(files.iloc[:1]))
