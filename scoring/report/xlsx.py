"""The report as an Excel workbook (XlsxWriter): one sheet per table, numbers as numbers.

Text from evidence (notes, URLs) is written as text: `strings_to_formulas` is off, so a cell that
begins with =, +, - or @ can never become a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xlsxwriter

from scoring.report.model import Report, decimals

SAFE = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
# rows are written in order and each is flushed to a temporary file once the next begins (XlsxWriter's
# constant_memory, strings inline): a 21,700-body workbook's cells are never all held as cell objects.
# Not faster (0.9 s for a nation's 147,310 cells either way): XlsxWriter's own time per cell
WRITING = SAFE | {"constant_memory": True}


HEADER = {"bold": True, "border": 1, "align": "center", "valign": "top"}   # as pandas' to_excel heads a table


def _sheet(book: xlsxwriter.Workbook, name: str, *frames: pd.DataFrame) -> None:
    """A sheet of one or more tables (a blank row between): numbers as numbers, one number format
    per column, columns as wide as their text. Written cell by cell with XlsxWriter (pandas'
    to_excel styles every cell: 4M cells of a national appendix took minutes)."""
    ws = book.add_worksheet(name[:31])
    head_format = book.add_format(HEADER)
    widths: dict[int, float] = {}
    formats: dict[int, str] = {}
    tables = []
    for frame in frames:
        columns = []
        for i, (head, col) in enumerate(frame.items()):   # by position: two headers may read alike
            text_width = max([len(str(head)), *(len(str(v)) for v in col.head(200))], default=8)
            widths[i] = max(widths.get(i, 0), min(60, max(8, text_width * 1.6)))
            numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            if pd.api.types.is_float_dtype(col):
                d = decimals(col)
                formats[i] = "0" if d == 0 else "0." + "0" * d
            values = col.to_numpy(dtype=object, na_value=None) if numeric else col.to_numpy(dtype=object)
            columns.append((i, ws.write_number if numeric else ws.write_string,
                            [None if v is None or (not isinstance(v, str) and pd.isna(v))   # an empty cell, as
                             else v if numeric else str(v) for v in values]))             # pandas leaves it
        tables.append((frame, columns))
    # a column's number format given to each of its cells as it is written: a row is flushed once the
    # next begins (constant_memory), before a format set on the column could reach its cells
    number = {i: book.add_format({"num_format": f}) for i, f in formats.items()}
    for i, width in widths.items():
        ws.set_column(i, i, width, number.get(i))
    row = 0
    for frame, columns in tables:
        ws.write_row(row, 0, [str(c) for c in frame.columns], head_format)
        for r in range(len(frame)):   # row by row: the workbook keeps a row only until the next is begun
            for i, put, values in columns:
                if (v := values[r]) is not None:
                    put(row + 1 + r, i, v, number.get(i))
        row += len(frame) + 2
    if len(frames) == 1:
        ws.freeze_panes(1, 0)


def write_xlsx(report: Report, path: Path) -> None:
    t = report.t
    h = report.headed
    with xlsxwriter.Workbook(str(path), WRITING) as book:
        rows = [(t("report_title"), report.title), (t("report_document"), report.document), *report.cover]
        if report.synthetic:
            rows.insert(1, ("⚠", t("report_cover_synthetic")))
        info = pd.DataFrame(rows, columns=["", " "])
        _sheet(book, t("sheet_summary"), info, h(report.summary))
        for kind, table in report.rankings.items():
            _sheet(book, f"{t('page_rankings')}-{t('kind_' + kind)}", h(table))
        _sheet(book, t("page_gaps"), h(report.every_body("gaps")))
        _sheet(book, t("sheet_appendix"), pd.DataFrame(columns=[report.appendix_note]) if report.appendix_note
               else h(report.appendix))
        _sheet(book, t("page_scheme"), h(report.method))
        _sheet(book, t("sheet_robustness"), h(report.robustness))
        if len(report.year_over_year):
            _sheet(book, t("sheet_yoy"), h(report.year_over_year))
        for section in report.sections:  # a line of text as a table of one header and no rows
            _sheet(book, section.title(report.lang), *(b.table if b.table is not None else pd.DataFrame(columns=[b.text])
                                                      for b in section.blocks if b.kind != "chart"))
