"""Writing a report in the format a file's suffix names: .xlsx .docx .html .pdf."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scoring.errors import GongkaiError
from scoring.report.docx import write_docx
from scoring.report.html import write_html, write_pdf
from scoring.report.model import Report
from scoring.report.xlsx import write_xlsx

WRITERS: dict[str, Callable[[Report, Path], None]] = {
    ".xlsx": write_xlsx, ".docx": write_docx, ".html": write_html, ".pdf": write_pdf}
FORMATS = tuple(WRITERS)


def write(report: Report, path: Path) -> Path:
    """Write the report in the format its suffix names."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise GongkaiError(f"--out {path.name}: unknown report format {suffix!r}; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    WRITERS[suffix](report, path)
    return path
