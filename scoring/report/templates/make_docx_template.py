"""Builds report.docx, the docxtpl template of the Word report (run: python -m
scoring.report.templates.make_docx_template). Edit the result in Word to restyle the report; keep
the {{ }} / {%tr %} / {%p %} tags."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

OUT = Path(__file__).with_name("report.docx")
# A4 with the margins of official documents (GB/T 9704-2012 党政机关公文格式: 天头 37 mm, 订口 28 mm);
# the text block is 156 mm wide, and every table's column widths below add up to it
TEXT_WIDTH = 156


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


def _field(paragraph: Paragraph, instruction: str, shown: str = "") -> None:
    """A Word field (PAGE, TOC …): Word computes it; `shown` is its text until then."""
    def char(kind: str) -> None:
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            el.set(qn("w:dirty"), "true")  # Word recomputes it on opening
        run._r.append(el)

    char("begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    char("separate")
    paragraph.add_run(shown)
    char("end")


def _page_setup(doc: DocumentType) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(20)
    footer = section.footer
    note = footer.paragraphs[0]
    note.text = "{{ footer_note }}"
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number = footer.add_paragraph()
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.add_run("— ")
    _field(number, "PAGE", "1")
    number.add_run(" —")
    # Word fills the table of contents and page numbers when the file is opened
    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _table(doc: DocumentType, headers: list[str], cells: list[str], loop: str, widths: list[float],
           one_line: tuple[int, ...] = ()) -> None:
    """A Word table: a header row, then one row per item of `loop` (docxtpl {%tr %}); columns
    `widths` mm wide, the `one_line` columns never wrapped (a name, an outcome, a number)."""
    assert abs(sum(widths) - TEXT_WIDTH) < 0.01, (headers, sum(widths))
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.autofit = False
    for i, h in enumerate(headers):
        table.rows[0].cells[i].text = h
        table.rows[2].cells[i].text = cells[i]
    table.rows[1].cells[0].text = "{%tr for r in " + loop + " %}"
    table.rows[3].cells[0].text = "{%tr endfor %}"
    for row in table.rows:
        for i, cell in enumerate(row.cells):
            cell.width = Mm(widths[i])
    for i in one_line:
        no_wrap = OxmlElement("w:noWrap")
        table.rows[2].cells[i]._tc.get_or_add_tcPr().append(no_wrap)
    header = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    header.append(repeat)


def build() -> None:
    doc = Document()
    _page_setup(doc)
    _fonts(doc)
    doc.styles["Table Grid"].font.size = Pt(9)
    title = doc.add_paragraph("{{ title }}", style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("{{ document }}").alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("{%p if cover_note %}")
    note = doc.add_paragraph()
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER
    warning = note.add_run("{{ cover_note }}")
    warning.bold = True
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for line in meta %}")
    doc.add_paragraph("{{ line }}").alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    toc_title = doc.add_paragraph("{{ h.toc }}", style="Title")
    toc_title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(doc.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u', "{{ toc_hint }}")
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("{{ h.summary }}", level=1)
    _table(doc, ["{{ h.kind }}", "{{ h.bodies }}", "{{ h.average }}", "{{ h.share }}", "{{ h.grades }}"],
           ["{{ r.kind }}", "{{ r.bodies }}", "{{ r.average }}", "{{ r.share }}", "{{ r.grades }}"], "summary",
           [28, 22, 22, 26, 58], (0, 1, 2, 3))
    doc.add_heading("{{ h.rankings }}", level=1)
    doc.add_paragraph("{%p for k in rankings %}")
    doc.add_heading("{{ k.kind }}", level=2)
    _table(doc, ["{{ h.rank }}", "{{ h.name }}", "{{ h.score }}", "{{ h.grade }}", "{{ h.share_rule }}", "{{ h.veto }}"],
           ["{{ r.rank }}", "{{ r.name }}", "{{ r.score }}", "{{ r.grade }}", "{{ r.share }}", "{{ r.veto }}"], "k.rows",
           [14, 52, 20, 20, 22, 28], (0, 1, 2, 3, 4))
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p if yoy %}")
    doc.add_heading("{{ h.yoy }}", level=1)
    doc.add_paragraph("{{ yoy_caption }}")
    _table(doc, ["{{ h.name }}", "{{ h.body_kind }}", "{{ h.score }}", "{{ h.rank }}", "{{ h.yoy_previous }}",
                 "{{ h.yoy_change }}", "{{ h.yoy_rank }}", "{{ h.yoy_comparable }}"],
           ["{{ r.name }}", "{{ r.kind }}", "{{ r.score }}", "{{ r.rank }}", "{{ r.previous }}", "{{ r.change }}",
            "{{ r.arrow }}", "{{ r.comparable }}"], "yoy", [34, 18, 16, 14, 18, 18, 16, 22], (0, 1, 2, 3, 4, 5, 6, 7))
    doc.add_paragraph("{%p endif %}")
    doc.add_heading("{{ h.robustness }}", level=1)
    doc.add_paragraph("{{ h.robustness_caption }}")
    _table(doc, ["{{ h.name }}", "{{ h.body_kind }}", "{{ h.rank }}", "{{ h.rank_interval }}", "{{ h.grade }}",
                 "{{ h.p_same_grade }}"],
           ["{{ r.name }}", "{{ r.kind }}", "{{ r.rank }}", "{{ r.interval }}", "{{ r.grade }}", "{{ r.same }}"],
           "robustness", [40, 20, 16, 24, 20, 36], (0, 1, 2, 3, 4))
    doc.add_heading("{{ h.charts }}", level=1)
    doc.add_paragraph("{%p for c in charts %}")
    doc.add_paragraph("{{ c }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_heading("{{ h.bodies_section }}", level=1)
    doc.add_paragraph("{%p if bodies_note %}")   # at national scale the body sections are CSVs beside the report
    doc.add_paragraph("{{ bodies_note }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for b in bodies %}")
    doc.add_heading("{{ b.heading }}", level=2)
    doc.add_paragraph("{{ b.veto }}")
    _table(doc, ["{{ h.obligation }}", "{{ h.title }}", "{{ h.lost }}"],
           ["{{ r.obligation }}", "{{ r.title }}", "{{ r.lost }}"], "b.gaps", [18, 122, 16], (0, 2))
    _table(doc, ["{{ h.obligation }}", "{{ h.rule }}", "{{ h.item }}", "{{ h.due }}", "{{ h.published }}",
                 "{{ h.outcome }}", "{{ h.late }}", "{{ h.lost }}"],
           ["{{ r.obligation }}", "{{ r.rule }}", "{{ r.item }}", "{{ r.due }}", "{{ r.published }}",
            "{{ r.outcome }}", "{{ r.late }}", "{{ r.lost }}"], "b.findings",
           [13, 42, 22, 20, 20, 11, 16, 12], (0, 5, 7))
    doc.add_paragraph("{%p endfor %}")
    doc.add_heading("{{ h.method }}", level=1)
    _table(doc, ["{{ h.obligation }}", "{{ h.section }}", "{{ h.title }}", "{{ h.points }}", "{{ h.rules }}",
                 "{{ h.quote }}"],
           ["{{ r.obligation }}", "{{ r.section }}", "{{ r.title }}", "{{ r.points }}", "{{ r.rules }}", "{{ r.quote }}"],
           "method", [13, 26, 26, 10, 37, 44], (0, 3))
    doc.add_heading("{{ h.appendix }}", level=1)
    doc.add_paragraph("{%p if appendix_note %}")   # at national scale the appendix is a CSV beside the report
    doc.add_paragraph("{{ appendix_note }}")
    doc.add_paragraph("{%p else %}")
    _table(doc, ["{{ h.name }}", "{{ h.obligation }}", "{{ h.item }}", "{{ h.due }}", "{{ h.published }}",
                 "{{ h.outcome }}", "{{ h.late }}", "{{ h.url }}", "{{ h.note }}", "{{ h.file }}"],
           ["{{ r.name }}", "{{ r.obligation }}", "{{ r.item }}", "{{ r.due }}", "{{ r.published }}",
            "{{ r.outcome }}", "{{ r.late }}", "{{ r.url }}", "{{ r.note }}", "{{ r.file }}"], "appendix",
           [20, 10, 16, 15, 15, 10, 12, 16, 12, 30], (0, 1, 5))
    doc.add_paragraph("{%p endif %}")
    doc.save(str(OUT))


if __name__ == "__main__":
    build()
