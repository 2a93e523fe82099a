"""The report as an Excel workbook (XlsxWriter): one sheet per table, numbers as numbers.

Text from evidence (notes, URLs) is written as text: `strings_to_formulas` is off, so a cell that
begins with =, +, - or @ can never become a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scoring.report.model import Report

SAFE = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def _sheet(writer: pd.ExcelWriter, name: str, frame: pd.DataFrame) -> None:
    frame.to_excel(writer, sheet_name=name[:31], index=False)
    ws = writer.sheets[name[:31]]
    for i, col in enumerate(frame.columns):
        width = max([len(str(col)), *(len(str(v)) for v in frame[col].head(200))], default=8)
        ws.set_column(i, i, min(60, max(8, width * 1.6)))
    ws.freeze_panes(1, 0)


def write_xlsx(report: Report, path: Path) -> None:
    t = report.t
    h = report.card.scheme.scheme
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": SAFE}) as writer:
        info = pd.DataFrame({"": [t("report_title"), t("as_of"), t("report_run"), t("report_generated"),
                                  t("report_records"), t("report_firms"), t("report_imports")],
                             " ": [f"《{h.title}》{h.document}", str(report.card.as_of), report.run_id or "",
                                   str(report.generated), report.evidence.records,
                                   "、".join(report.evidence.firms), report.evidence.batches]})
        _sheet(writer, t("sheet_summary"), info)
        report.summary.to_excel(writer, sheet_name=t("sheet_summary"), index=False, startrow=len(info) + 2)
        for kind, table in report.rankings.items():
            _sheet(writer, f"{t('page_rankings')}-{t('kind_' + kind)}", table)
        gaps = pd.concat([b["gaps"].assign(**{t("name"): b["name"]}) for b in report.bodies], ignore_index=True)
        _sheet(writer, t("page_gaps"), gaps[[t("name"), *[c for c in gaps.columns if c != t("name")]]])
        _sheet(writer, t("sheet_appendix"), report.appendix)
        _sheet(writer, t("page_scheme"), report.method)
