"""The report as an Excel workbook (XlsxWriter): one sheet per table, numbers as numbers.

Text from evidence (notes, URLs) is written as text: `strings_to_formulas` is off, so a cell that
begins with =, +, - or @ can never become a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scoring.report.model import Report, decimals

SAFE = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def _sheet(writer: pd.ExcelWriter, name: str, *frames: pd.DataFrame) -> None:
    """A sheet of one or more tables (a blank row between): numbers as numbers, one number format
    per column, columns as wide as their text."""
    name, row = name[:31], 0
    widths: dict[int, float] = {}
    formats: dict[int, str] = {}
    for frame in frames:
        frame.to_excel(writer, sheet_name=name, index=False, startrow=row)
        row += len(frame) + 2
        for i, (head, col) in enumerate(frame.items()):   # by position: two headers may read alike
            text_width = max([len(str(head)), *(len(str(v)) for v in col.head(200))], default=8)
            widths[i] = max(widths.get(i, 0), min(60, max(8, text_width * 1.6)))
            if pd.api.types.is_float_dtype(col):
                d = decimals(col)
                formats[i] = "0" if d == 0 else "0." + "0" * d
    ws = writer.sheets[name]
    for i, width in widths.items():
        ws.set_column(i, i, width, writer.book.add_format({"num_format": formats[i]}) if i in formats else None)
    if len(frames) == 1:
        ws.freeze_panes(1, 0)


def write_xlsx(report: Report, path: Path) -> None:
    t = report.t
    h = report.headed
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": SAFE}) as writer:
        rows = [(t("report_title"), report.title), (t("report_document"), report.document), *report.cover]
        if report.synthetic:
            rows.insert(1, ("⚠", t("report_cover_synthetic")))
        info = pd.DataFrame(rows, columns=["", " "])
        _sheet(writer, t("sheet_summary"), info, h(report.summary))
        for kind, table in report.rankings.items():
            _sheet(writer, f"{t('page_rankings')}-{t('kind_' + kind)}", h(table))
        gaps = pd.concat([b["gaps"].assign(name=b["name"]) for b in report.bodies], ignore_index=True)
        _sheet(writer, t("page_gaps"), h(gaps[["name", *[c for c in gaps.columns if c != "name"]]]))
        _sheet(writer, t("sheet_appendix"), h(report.appendix))
        _sheet(writer, t("page_scheme"), h(report.method))
        _sheet(writer, t("sheet_robustness"), h(report.robustness))
        if len(report.year_over_year):
            _sheet(writer, t("sheet_yoy"), h(report.year_over_year))
