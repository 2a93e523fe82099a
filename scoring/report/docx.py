"""The report as a Word document: docxtpl renders templates/report.docx (real Word tables,
宋体/黑体 set on the styles) with the chart images from kaleido."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pandas as pd
from docx.oxml.ns import nsmap
from docx.oxml.parser import element_class_lookup
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from lxml import etree

from scoring.report import quality
from scoring.report.images import images
from scoring.report.model import GRADE, HEADERS, Report, cells

TEMPLATE = Path(__file__).with_name("templates") / "report.docx"
# shown where the table of contents goes until Word fills it (it asks to update fields on opening)
TOC_HINT = {"zh-Hans": "（打开文档时更新目录；或右键此处选择“更新域”）",
            "zh-Hant": "（開啟文件時更新目錄；或右鍵此處選擇「更新功能變數」）",
            "en": "(the table of contents is filled when the document is opened; or right-click here: Update Field)"}


def _rows(frame: pd.DataFrame, keys: dict[str, str] | list[str]) -> list[dict]:
    """Rows under the template's names, each picked by the model's column key (`keys`: template
    name → column key, or the same names), one number format per column."""
    pick = keys if isinstance(keys, dict) else {k: k for k in keys}
    rows, _ = cells(frame[list(pick.values())])
    return [dict(zip(pick, row, strict=True)) for row in rows]


SECTIONS = {"summary": "report_summary", "rankings": "report_rankings", "charts": "report_charts",
            "bodies_section": "report_bodies", "method": "report_method", "appendix": "report_appendix",
            "grades": "report_grade_counts", "toc": "report_toc", "robustness": "report_robustness",
            "robustness_caption": "robustness_caption", "yoy": "report_yoy"}


def _headers(report: Report) -> dict[str, str]:
    """The template's headings and column headers: section titles, and every column key's header."""
    return {k: report.t(v) for k, v in SECTIONS.items()} | {k: report.header(k) for k in HEADERS}


def context(report: Report, doc: DocxTemplate, charts: dict[str, Path]) -> dict:
    t = report.t
    grade_keys = [c for c in report.summary.columns if c.startswith(GRADE)]
    summary = [r | {"grades": " / ".join(f"{report.header(g)} {r[g]}" for g in grade_keys)}
               for r in _rows(report.summary, ["kind", "bodies", "average", "share", *grade_keys])]
    meta = [f"{label}：{value}" for label, value in report.cover]
    return {
        "title": report.title, "document": f"{t('report_document')}：{report.document}", "meta": meta,
        "cover_note": t("report_cover_synthetic") if report.synthetic else "",
        "footer_note": t("report_footer_synthetic") if report.synthetic else "",
        "toc_hint": TOC_HINT[report.lang], "h": _headers(report), "summary": summary,
        "rankings": [{"kind": t(f"kind_{k}"), "rows": _rows(v, {"rank": "rank", "name": "name", "score": "score",
                                                                 "grade": "grade", "share": "share_rule", "veto": "veto"})}
                     for k, v in report.rankings.items()],
        "charts": [InlineImage(doc, str(p), width=Mm(156)) for name, p in charts.items() if name != quality.CHART],
        "bodies": [{"heading": f"{b['name']}（{b['kind']}） {t('score')} {b['score']:.2f} · {t('rank')} {b['rank']} · "
                               f"{t('grade')} {b['grade']}",
                    "veto": f"{t('veto')}: {b['veto']}" if b["veto"] else "",
                    "gaps": [dict(zip(report.gaps.columns, r, strict=True)) for r in report.section_cells(b, "gaps")],
                    "findings": [dict(zip(report.findings.columns, r, strict=True))
                                 for r in report.section_cells(b, "findings")]}
                   for b in report.bodies],
        "method": _rows(report.method, ["obligation", "section", "title", "points", "rules", "quote"]),
        "appendix": [r | {"file": f"{r['file']} SHA-256 {r['sha']}" if r["sha"] else r["file"]}
                     for r in _rows(report.appendix, ["name", "obligation", "item", "due", "published", "outcome",
                                                      "late", "url", "note", "file", "sha"])],
        "robustness": _rows(report.robustness, {"name": "name", "kind": "body_kind", "rank": "rank",
                                                "interval": "rank_interval", "grade": "grade", "same": "p_same_grade"}),
        "yoy": _rows(report.year_over_year, {"name": "name", "kind": "body_kind", "score": "score", "rank": "rank",
                                             "previous": "yoy_previous", "change": "yoy_change", "arrow": "yoy_rank",
                                             "comparable": "yoy_comparable"}) if len(report.year_over_year) else [],
        "yoy_caption": t("report_yoy_caption").format(previous=report.previous),
        "appendix_note": report.appendix_note, "bodies_note": report.bodies_note,
    }


_LISTED = re.compile(r"<w:t(?: [^>]*)?>[^<]*[\t\a\n\f]")   # a text holding what docxtpl's listing turns


class _Template(DocxTemplate):
    """docxtpl, its rendered body parsed once, as part of the document. docxtpl parses the body to
    widen tables whose columns a `{%tc %}` loop made (the report's template has none) and then moves
    it into the document with `map_tree`, where lxml fixes the namespaces of every moved node one by
    one: 137 s of 278 s for a national report (3,237 bodies' sections); parsing the document with its
    new body, leniently as docxtpl does and into python-docx's element classes, takes a fraction."""

    def resolve_listing(self, xml: str) -> str:
        """docxtpl turns tabs, line breaks, \\a and \\f inside texts into Word's elements with three
        nested regular-expression passes over every paragraph (0.5 s for a national report's 39,000
        cells); a rendered part with none of those characters in a text (one scan) has nothing to turn."""
        return super().resolve_listing(xml) if _LISTED.search(xml) else xml

    def fix_tables(self, xml: str):
        opening = etree.tostring(self.docx.element, encoding="unicode").split("<w:body", 1)[0]
        return etree.fromstring(opening + xml + "</w:document>", _PARSER)

    def fix_docpr_ids(self, tree) -> None:
        for elt in _DOCPR(tree):   # as docxtpl numbers them (python-docx's elements have their own xpath)
            self.docx_ids_index += 1
            elt.attrib["id"] = str(self.docx_ids_index)

    def map_tree(self, tree) -> None:
        document = self.docx
        document.part._element = document._element = tree
        document._Document__body = None   # python-docx's body proxy, made again from the new element


# as docxtpl's fix_tables parses a rendered body (recover) and python-docx a part (its element classes)
_PARSER = etree.XMLParser(recover=True, remove_blank_text=True, resolve_entities=False)
_PARSER.set_element_class_lookup(element_class_lookup)
_DOCPR = etree.XPath("//wp:docPr", namespaces=nsmap)


def write_docx(report: Report, path: Path) -> None:
    doc = _Template(str(TEMPLATE))
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
