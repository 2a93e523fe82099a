"""The report as a Word document: docxtpl renders templates/report.docx (real Word tables,
宋体/黑体 set on the styles) with the chart images from kaleido."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from scoring.report import quality
from scoring.report.images import images
from scoring.report.model import Report, cells

TEMPLATE = Path(__file__).with_name("templates") / "report.docx"
# shown where the table of contents goes until Word fills it (it asks to update fields on opening)
TOC_HINT = {"zh-Hans": "（打开文档时更新目录；或右键此处选择“更新域”）",
            "zh-Hant": "（開啟文件時更新目錄；或右鍵此處選擇「更新功能變數」）",
            "en": "(the table of contents is filled when the document is opened; or right-click here: Update Field)"}


def _rows(frame: pd.DataFrame, keys: list[str]) -> list[dict]:
    """Rows by column position (the report's headers are translated; the template's keys are not),
    one number format per column."""
    rows, _ = cells(frame)
    return [dict(zip(keys, row, strict=False)) for row in rows]


def _headers(report: Report) -> dict[str, str]:
    t = report.t
    keys = {"summary": "report_summary", "rankings": "report_rankings", "charts": "report_charts",
            "bodies_section": "report_bodies", "method": "report_method", "appendix": "report_appendix",
            "kind": "report_kind", "bodies": "bodies_assessed", "average": "average", "share": "share_compliance",
            "grades": "report_grade_counts", "rank": "rank", "name": "name", "score": "score", "grade": "grade",
            "share_rule": "share_rule", "veto": "veto", "obligation": "filter_obligation",
            "title": "obligation_title", "lost": "finding_lost", "rule": "finding_rule", "item": "finding_item",
            "due": "finding_due", "published": "finding_published", "outcome": "finding_outcome",
            "late": "finding_late", "points": "points", "rules": "rules", "quote": "report_quote",
            "url": "report_url", "note": "report_note", "toc": "report_toc", "file": "report_attachment",
            "robustness": "report_robustness", "robustness_caption": "robustness_caption", "body_kind": "body_kind",
            "rank_interval": "rank_interval", "p_same_grade": "p_same_grade", "yoy": "report_yoy",
            "yoy_previous": "yoy_previous_score", "yoy_change": "yoy_change", "yoy_rank": "yoy_rank",
            "yoy_comparable": "yoy_comparable"}
    return {k: t(v) for k, v in keys.items()}


def context(report: Report, doc: DocxTemplate, charts: dict[str, Path]) -> dict:
    t = report.t
    h = report.card.scheme.scheme
    grade_names = [report.s(g.name) for g in h.grades]
    summary = [{"kind": r[0], "bodies": r[1], "average": r[2], "share": r[3],
                "grades": " / ".join(f"{g} {n}" for g, n in zip(grade_names, r[4:], strict=True))}
               for r in cells(report.summary)[0]]
    ev = report.evidence
    imports = f"{ev.batches}"
    if ev.first_import and ev.last_import:
        imports += f"（{ev.first_import.date()} – {ev.last_import.date()}）"
    meta = [f"{t('as_of')}：{report.card.as_of}", f"{t('report_run')}：{report.run_id or '—'}",
            f"{t('report_records')}：{ev.records}", f"{t('report_firms')}：{'、'.join(report.firms)}",
            f"{t('report_imports')}：{imports}", f"{t('report_generated')}：{report.generated}"]
    return {
        "title": report.title, "document": f"{t('report_document')}：{report.document}", "meta": meta,
        "cover_note": t("report_cover_synthetic") if report.synthetic else "",
        "footer_note": t("report_footer_synthetic") if report.synthetic else "",
        "toc_hint": TOC_HINT[report.lang], "h": _headers(report), "summary": summary,
        "rankings": [{"kind": t(f"kind_{k}"), "rows": _rows(v, ["rank", "name", "score", "grade", "share", "veto"])}
                     for k, v in report.rankings.items()],
        "charts": [InlineImage(doc, str(p), width=Mm(156)) for name, p in charts.items() if name != quality.CHART],
        "bodies": [{"heading": f"{b['name']}（{b['kind']}） {t('score')} {b['score']:.2f} · {t('rank')} {b['rank']} · "
                               f"{t('grade')} {b['grade']}",
                    "veto": f"{t('veto')}: {b['veto']}" if b["veto"] else "",
                    "gaps": _rows(b["gaps"], ["obligation", "title", "lost"]),
                    "findings": _rows(b["findings"], ["obligation", "rule", "item", "due", "published", "outcome",
                                                      "late", "lost"])} for b in report.bodies],
        "method": _rows(report.method, ["obligation", "section", "title", "points", "rules", "quote"]),
        "appendix": [r | {"file": f"{r['file']} SHA-256 {r['sha']}" if r["sha"] else r["file"]}
                     for r in _rows(report.appendix, ["name", "obligation", "item", "due", "published", "outcome",
                                                      "late", "url", "note", "file", "sha"])],
        "robustness": _rows(report.robustness, ["name", "kind", "rank", "interval", "grade", "same"]),
        "yoy": _rows(report.year_over_year, ["name", "kind", "score", "rank", "previous", "change", "arrow",
                                             "comparable"]) if len(report.year_over_year) else [],
        "yoy_caption": t("report_yoy_caption").format(previous=report.previous),
    }


def write_docx(report: Report, path: Path) -> None:
    doc = DocxTemplate(str(TEMPLATE))
    with tempfile.TemporaryDirectory(prefix="gongkai-docx-") as tmp:
        charts = images(report, Path(tmp))
        doc.render(context(report, doc, charts), autoescape=True)
        _quality(report, doc, charts.get(quality.CHART))
        doc.save(str(path))


def _quality(report: Report, doc: DocxTemplate, chart: Path | None) -> None:
    """The quality sections (report/quality.py), written after rendering with python-docx in the
    template's styles (Heading 1/2, Table Grid) and moved to stand before the method section."""
    body = doc.docx.element.body
    before = set(body)  # the elements themselves (held, so lxml gives the same proxies back)
    for section in report.sections:
        doc.add_heading(section.title(report.lang), level=1)
        for b in section.blocks:
            if b.kind == "h3":
                doc.add_heading(b.text, level=2)
            elif b.kind == "chart" and chart is not None:
                doc.add_picture(str(chart), width=Mm(156))
            elif b.kind == "table" and b.table is not None:
                rows, _ = cells(b.table)
                table = doc.add_table(rows=1 + len(rows), cols=len(b.table.columns), style="Table Grid")
                for i, row in enumerate([[str(c) for c in b.table.columns], *rows]):
                    for cell, value in zip(table.rows[i].cells, row, strict=True):
                        cell.text = value
                        if i == 0:
                            for run in cell.paragraphs[0].runs:
                                run.bold = True
            elif b.text:
                doc.add_paragraph(b.text)
    added = [e for e in body if e not in before]
    method = report.t("report_method")
    anchor = next((p._p for p in doc.docx.paragraphs if p.text == method and p.style.name.startswith("Heading")), None)
    if anchor is None:  # a restyled template without the method heading: the sections stay at the end
        return
    for element in added:
        anchor.addprevious(element)
