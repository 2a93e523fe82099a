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
        for i, col in enumerate(frame.columns):
            text_width = max([len(str(col)), *(len(str(v)) for v in frame[col].head(200))], default=8)
            widths[i] = max(widths.get(i, 0), min(60, max(8, text_width * 1.6)))
            if pd.api.types.is_float_dtype(frame[col]):
                d = decimals(frame[col])
                formats[i] = "0" if d == 0 else "0." + "0" * d
    ws = writer.sheets[name]
    for i, width in widths.items():
        ws.set_column(i, i, width, writer.book.add_format({"num_format": formats[i]}) if i in formats else None)
    if len(frames) == 1:
        ws.freeze_panes(1, 0)


def write_xlsx(report: Report, path: Path) -> None:
    t = report.t
    ev = report.evidence
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": SAFE}) as writer:
        rows = [(t("report_title"), report.title), (t("report_document"), report.document),
                (t("as_of"), str(report.card.as_of)), (t("report_run"), report.run_id or ""),
                (t("report_generated"), str(report.generated)), (t("report_records"), ev.records),
                (t("report_firms"), "、".join(report.firms)), (t("report_imports"), ev.batches)]
        if report.synthetic:
            rows.insert(1, ("⚠", t("report_cover_synthetic")))
        info = pd.DataFrame(rows, columns=["", " "])
        _sheet(writer, t("sheet_summary"), info, report.summary)
        for kind, table in report.rankings.items():
            _sheet(writer, f"{t('page_rankings')}-{t('kind_' + kind)}", table)
        gaps = pd.concat([b["gaps"].assign(**{t("name"): b["name"]}) for b in report.bodies], ignore_index=True)
        _sheet(writer, t("page_gaps"), gaps[[t("name"), *[c for c in gaps.columns if c != t("name")]]])
        _sheet(writer, t("sheet_appendix"), report.appendix)
        _sheet(writer, t("page_scheme"), report.method)
        _sheet(writer, t("sheet_robustness"), report.robustness)
        if len(report.year_over_year):
            _sheet(writer, t("sheet_yoy"), report.year_over_year)
        for section in report.sections:  # a line of text as a table of one header and no rows
            _sheet(writer, section.title(report.lang), *(b.table if b.table is not None else pd.DataFrame(columns=[b.text])
                                                        for b in section.blocks if b.kind != "chart"))
