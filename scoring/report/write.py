"""Writing a report in the format a file's suffix names: .xlsx .docx .html .pdf."""

from __future__ import annotations

import codecs
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from scoring.errors import GongkaiError
from scoring.intake.tables import csv_bytes, spreadsheet_safe
from scoring.report.docx import write_docx
from scoring.report.html import write_html, write_pdf
from scoring.report.model import Report
from scoring.report.xlsx import write_xlsx
from scoring.store import kept

WRITERS: dict[str, Callable[[Report, Path], None]] = {
    ".xlsx": write_xlsx, ".docx": write_docx, ".html": write_html, ".pdf": write_pdf}
FORMATS = tuple(WRITERS)


# an appendix of more rows than this (a nation's 431,534 missing and late items) is not printed in
# the report (thousands of pages nobody pages through): it is written beside it as a CSV, which a
# reader filters in a spreadsheet, and the report says where it is
APPENDIX_INLINE = 10_000
# so are the body sections of more bodies than this (a nation's 3,237: 5,751 printed pages) in the
# documents that print them (html, docx, pdf); the workbook keeps its one sheet of every body's gaps
BODIES_INLINE = 1_000
PRINTS_BODIES = (".html", ".docx", ".pdf")


def apart(report: Report, path: Path) -> dict[str, Path]:
    """The CSVs beside the report at `path` that hold its parts too long to print, by part: the
    appendix (over APPENDIX_INLINE rows), every body's gaps and findings (over BODIES_INLINE bodies)."""
    def beside(key: str) -> Path:
        return path.with_name(f"{path.stem}-{report.t(key)}.csv")
    files = {"appendix": beside("appendix_file")} if len(report.appendix) > APPENDIX_INLINE else {}
    if len(report.bodies) > BODIES_INLINE and path.suffix.lower() in PRINTS_BODIES:
        files |= {"gaps": beside("bodies_gaps_file"), "findings": beside("bodies_findings_file")}
    return files


CSV_ROWS_AT_ONCE = 200_000   # a part's rows made safe and encoded at a time (21,700 bodies' appendix: 2.9M rows)


def _part(report: Report, part: str) -> pd.DataFrame:
    """A part written apart (`apart`) as its CSV holds it: headed, every row naming its body."""
    return report.headed(report.appendix if part == "appendix" else report.every_body(part))


def _kept(report: Report, part: str) -> Path | None:
    """The part's CSV where it is kept with the run (`Report.kept_csv`), written there first if it is
    not yet (`kept.put`); None if it is not kept (or cannot be: a read-only or full disk)."""
    at = report.kept_csv.get(part)
    try:
        if at is None or at.exists():
            if at is not None:
                kept.used(at)
            return at
    except OSError:   # a folder this user may not search (another account's): not kept, for this user
        return None
    return at if kept.put(at, lambda tmp: _write_csv(_part(report, part), tmp)) else None


def keep_apart(report: Report) -> None:
    """Keep the CSVs of every part a report of this size writes apart in any format (`apart`), so
    that its reports copy them (`write`): at publish, once a run."""
    for part in apart(report, Path("report.pdf")):   # a PDF writes apart every part any format does
        _kept(report, part)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The BOM (Excel reads it as UTF-8), then the rows; a firm's note or URL never becomes a formula
    (as in every CSV written). Written in parts: the whole text of millions of rows is never held."""
    with path.open("wb") as out:
        out.write(codecs.BOM_UTF8)
        for start in range(0, max(len(frame), 1), CSV_ROWS_AT_ONCE):
            text = csv_bytes(spreadsheet_safe(frame.iloc[start:start + CSV_ROWS_AT_ONCE]))
            out.write(text if start == 0 else text.split(b"\n", 1)[1])   # the header once


def write(report: Report, path: Path) -> Path:
    """Write the report in the format its suffix names (and its parts too long to print apart: `apart`)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GongkaiError(f"--out {path.name}: unknown report format {suffix!r}; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    files = apart(report, path)
    for part, at in files.items():   # a copy of the part's CSV kept with the run, else written here
        source = _kept(report, part)
        try:
            if source is not None:
                shutil.copyfile(source, at)
                continue
        except OSError:
            pass   # pruned or unreadable since: written here
        _write_csv(_part(report, part), at)
    if "appendix" in files:
        report = replace(report, appendix=report.appendix.iloc[:0], appendix_file=files["appendix"].name,
                         appendix_rows=len(report.appendix))
    if "gaps" in files:
        report = replace(report, bodies=[], bodies_files=(files["gaps"].name, files["findings"].name),
                         bodies_apart=len(report.bodies))
    WRITERS[suffix](report, path)
    return path
