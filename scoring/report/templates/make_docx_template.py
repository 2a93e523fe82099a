"""Builds report.docx, the docxtpl template of the Word report (run: python -m
scoring.report.templates.make_docx_template). Edit the result in Word to restyle the report; keep
the {{ }} / {%tr %} / {%p %} tags."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

OUT = Path(__file__).with_name("report.docx")


def _fonts(doc: DocumentType) -> None:
    """宋体 for text, 黑体 for headings (what every Chinese Word installation has)."""
    for name, east in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体"), ("Heading 2", "黑体"),
                       ("Heading 3", "黑体"), ("Table Grid", "宋体")):
        style = doc.styles[name]
        style.font.name = "Times New Roman"
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), east)
    doc.styles["Normal"].font.size = Pt(10.5)


def _table(doc: DocumentType, headers: list[str], cells: list[str], loop: str) -> None:
    """A Word table: a header row, then one row per item of `loop` (docxtpl {%tr %})."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    for i, h in enumerate(headers):
        table.rows[0].cells[i].text = h
        table.rows[2].cells[i].text = cells[i]
    table.rows[1].cells[0].text = "{%tr for r in " + loop + " %}"
    table.rows[3].cells[0].text = "{%tr endfor %}"


def build() -> None:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = Cm(2)
    _fonts(doc)
    doc.add_paragraph("{{ title }}", style="Title")
    doc.add_paragraph("{{ meta }}")
    doc.add_heading("{{ h.summary }}", level=1)
    _table(doc, ["{{ h.kind }}", "{{ h.bodies }}", "{{ h.average }}", "{{ h.share }}", "{{ h.grades }}"],
           ["{{ r.kind }}", "{{ r.bodies }}", "{{ r.average }}", "{{ r.share }}", "{{ r.grades }}"], "summary")
    doc.add_heading("{{ h.rankings }}", level=1)
    doc.add_paragraph("{%p for k in rankings %}")
    doc.add_heading("{{ k.kind }}", level=2)
    _table(doc, ["{{ h.rank }}", "{{ h.name }}", "{{ h.score }}", "{{ h.grade }}", "{{ h.share_rule }}", "{{ h.veto }}"],
           ["{{ r.rank }}", "{{ r.name }}", "{{ r.score }}", "{{ r.grade }}", "{{ r.share }}", "{{ r.veto }}"], "k.rows")
    doc.add_paragraph("{%p endfor %}")
    doc.add_heading("{{ h.charts }}", level=1)
    doc.add_paragraph("{%p for c in charts %}")
    doc.add_paragraph("{{ c }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_heading("{{ h.bodies_section }}", level=1)
    doc.add_paragraph("{%p for b in bodies %}")
    doc.add_heading("{{ b.heading }}", level=2)
    doc.add_paragraph("{{ b.veto }}")
    _table(doc, ["{{ h.obligation }}", "{{ h.title }}", "{{ h.lost }}"],
           ["{{ r.obligation }}", "{{ r.title }}", "{{ r.lost }}"], "b.gaps")
    _table(doc, ["{{ h.obligation }}", "{{ h.rule }}", "{{ h.item }}", "{{ h.due }}", "{{ h.published }}",
                 "{{ h.outcome }}", "{{ h.late }}", "{{ h.lost }}"],
           ["{{ r.obligation }}", "{{ r.rule }}", "{{ r.item }}", "{{ r.due }}", "{{ r.published }}",
            "{{ r.outcome }}", "{{ r.late }}", "{{ r.lost }}"], "b.findings")
    doc.add_paragraph("{%p endfor %}")
    doc.add_heading("{{ h.method }}", level=1)
    _table(doc, ["{{ h.obligation }}", "{{ h.title }}", "{{ h.points }}", "{{ h.rules }}", "{{ h.quote }}"],
           ["{{ r.obligation }}", "{{ r.title }}", "{{ r.points }}", "{{ r.rules }}", "{{ r.quote }}"], "method")
    doc.add_heading("{{ h.appendix }}", level=1)
    _table(doc, ["{{ h.name }}", "{{ h.obligation }}", "{{ h.item }}", "{{ h.due }}", "{{ h.published }}",
                 "{{ h.outcome }}", "{{ h.late }}", "{{ h.url }}", "{{ h.note }}"],
           ["{{ r.name }}", "{{ r.obligation }}", "{{ r.item }}", "{{ r.due }}", "{{ r.published }}",
            "{{ r.outcome }}", "{{ r.late }}", "{{ r.url }}", "{{ r.note }}"], "appendix")
    doc.save(str(OUT))


if __name__ == "__main__":
    build()
