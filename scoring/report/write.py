"""Writing a report in the format a file's suffix names: .xlsx .docx .html .pdf."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from scoring.errors import GongkaiError
from scoring.intake.tables import csv_bytes, spreadsheet_safe
from scoring.report.docx import write_docx
from scoring.report.html import write_html, write_pdf
from scoring.report.model import Report
from scoring.report.xlsx import write_xlsx

WRITERS: dict[str, Callable[[Report, Path], None]] = {
    ".xlsx": write_xlsx, ".docx": write_docx, ".html": write_html, ".pdf": write_pdf}
FORMATS = tuple(WRITERS)


# an appendix of more rows than this (a nation's 431,534 missing and late items) is not printed in
# the report (thousands of pages nobody pages through): it is written beside it as a CSV, which a
# reader filters in a spreadsheet, and the report says where it is
APPENDIX_INLINE = 10_000


def appendix_apart(report: Report, path: Path) -> Path | None:
    """The CSV beside the report at `path` that holds its appendix, when the appendix is longer than
    APPENDIX_INLINE rows (None: the appendix is in the report)."""
    return path.with_name(f"{path.stem}-{report.t('appendix_file')}.csv") if len(report.appendix) > APPENDIX_INLINE \
        else None


def write(report: Report, path: Path) -> Path:
    """Write the report in the format its suffix names (and its appendix apart: `appendix_apart`)."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GongkaiError(f"--out {path.name}: unknown report format {suffix!r}; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if (apart := appendix_apart(report, path)) is not None:
        # the BOM: Excel reads it as UTF-8; a firm's note or URL never becomes a formula (as in every CSV written)
        apart.write_bytes(codecs.BOM_UTF8 + csv_bytes(spreadsheet_safe(report.headed(report.appendix))))
        report = replace(report, appendix=report.appendix.iloc[:0], appendix_file=apart.name,
                         appendix_rows=len(report.appendix))
    WRITERS[suffix](report, path)
    return path
