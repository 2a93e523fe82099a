"""The frame of an official document (公文) by GB/T 9704-2012 党政机关公文格式, as .docx (python-docx)
and as print HTML (chromium prints it to PDF): A4, 版心 156 × 225 mm, 发文机关标志 in red, 发文字号 over
the red separator line, title in 小标宋 2号, 主送机关, body in 仿宋 3号 on 29 pt lines (22 lines a page),
发文机关署名 and 成文日期, and the 版记 (抄送, 印发机关 and 印发日期) between its lines."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import struct
import subprocess
import tempfile
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from scoring.errors import GongkaiError

# GB/T 9704-2012 5.2.1–5.2.2: A4; 天头 37 mm, 订口 28 mm; 版心 156 × 225 mm
PAGE_MM, TOP_MM, LEFT_MM, AREA_MM = (210, 297), 37, 28, (156, 225)
RIGHT_MM, BOTTOM_MM = PAGE_MM[0] - LEFT_MM - AREA_MM[0], PAGE_MM[1] - TOP_MM - AREA_MM[1]
LINE_PT = 29          # 225 mm / 22 lines ≈ 28.9 pt (7.1: 一般每面排22行)
TITLE_PT, BODY_PT, MARK_PT = 22, 16, 14   # 2号, 3号, 4号 (版记, 页码)
FOLIO_MM = 7          # 页码's 一字线 under the 版心 (7.5)
RED = "FF0000"
# east-Asian font names as the standard's offices have them; in print the installed free CJK fonts
# stand in (chromium embeds what it uses): Noto Serif CJK for 小标宋/仿宋/楷体, a sans for 黑体
FONT = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "h": "黑体", "h2": "楷体_GB2312", "folio": "宋体"}
CSS_FONT = {"title": '"方正小标宋简体", "Noto Serif CJK SC", "WenQuanYi Zen Hei", serif',
            "body": '"仿宋_GB2312", "仿宋", "FangSong", "Noto Serif CJK SC", "WenQuanYi Zen Hei", serif',
            "h": '"黑体", "SimHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif',
            "h2": '"楷体_GB2312", "楷体", "KaiTi", "Noto Serif CJK SC", serif',
            "folio": '"宋体", "SimSun", "Noto Serif CJK SC", serif'}

PLACEHOLDER_OFFICE = "（发文机关）"
PLACEHOLDER_NUMBER = "（发文机关代字）〔{year}〕（序号）号"
PLACEHOLDER_CC = "（抄送机关）"


@dataclass(frozen=True)
class Letterhead:
    """Who issues a document and to whom: the assessment's settings (`gongkai notice settings`), with
    marked placeholders when none are set. `number` may hold {year}, the year of issue."""

    office: str = PLACEHOLDER_OFFICE
    number: str = PLACEHOLDER_NUMBER
    cc: str = PLACEHOLDER_CC
    to: str = ""

    def document_number(self, issued: dt.date) -> str:
        return self.number.replace("{year}", str(issued.year))


@dataclass(frozen=True)
class Table:
    """A table in the body: a header row, then rows (lists or tuples of texts)."""

    rows: list[Sequence[str]] = field(default_factory=list)


Block = tuple[str, str] | Table   # ("p" | "h" | "h2" | "h3" | "url", text): a paragraph, a 一、/（一）/1. heading


def width_em(text: str) -> float:
    """Width of a line in em: a CJK or full-width character 1, a digit or Latin letter ½."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def title_lines(title: str, per_line: float = AREA_MM[0] / 25.4 * 72 / TITLE_PT) -> list[str]:
    """A long title in lines broken where the meaning allows (7.3.2: 回行时要做到词意完整): before its
    last 考核 or 关于…的, when both halves fit the 版心; otherwise as it is, wrapped by the reader."""
    if width_em(title) <= per_line:
        return [title]
    for word in ("考核", "工作", "的"):
        at = title.rfind(word)
        if at > 0 and width_em(title[:at]) <= per_line and width_em(title[at:]) <= per_line:
            return [title[:at], title[at:]]
    return [title]


def sign_size(office: str) -> float:
    """The 发文机关标志's size in pt: as large as 42 pt, never wider than the 版心 (7.2.2)."""
    return float(min(42, int(AREA_MM[0] / 25.4 * 72 / max(width_em(office + "文件"), 1) * 0.95)))


# ---- .docx ----------------------------------------------------------------------------------------

def _font(run, role: str, size: float, color: str | None = None, bold: bool = False) -> None:
    name = FONT.get(role, FONT["body"])
    run.font.name, run.font.size, run.font.bold = name, Pt(size), bold
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:ascii"), "Times New Roman" if role == "body" else name)
    fonts.set(qn("w:hAnsi"), "Times New Roman" if role == "body" else name)
    if color:
        run.font.color.rgb = RGBColor.from_string(color)


def _para(doc: DocumentType, text: str = "", *, role: str = "body", size: float = BODY_PT,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: float = 0, color: str | None = None,
          before: float = 0, right: float = 0) -> Paragraph:
    p = doc.add_paragraph()
    f = p.paragraph_format
    f.line_spacing_rule, f.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT if size <= BODY_PT else size * 1.3)
    f.space_before, f.space_after = Pt(before), Pt(0)
    f.first_line_indent, f.right_indent = Pt(indent * BODY_PT), Pt(right * BODY_PT)
    p.alignment = align
    if text:
        _font(p.add_run(_xml_text(text)), role, size, color)
    return p


_UNWRITABLE = dict.fromkeys([*(c for c in range(0x20) if c not in (9, 10, 13)), 0xFFFE, 0xFFFF])


def _xml_text(text: str) -> str:
    """A text without the control characters XML cannot hold (a note or a setting may carry one)."""
    return text.translate(_UNWRITABLE)


def _border(p: Paragraph, side: str, size_eighths: int, color: str = "000000", space: int = 1) -> None:
    """A line along a paragraph (sz in eighths of a point: 8 ≈ 0.35 mm, 6 ≈ 0.25 mm)."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = _insert(ppr, OxmlElement("w:pBdr"))
    line = OxmlElement(f"w:{side}")
    for k, v in (("val", "single"), ("sz", str(size_eighths)), ("space", str(space)), ("color", color)):
        line.set(qn(f"w:{k}"), v)
    borders.append(line)


# the order of a paragraph's properties in the schema (ECMA-376 CT_PPrBase), from framePr on
_PPR_ORDER = ("w:framePr", "w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs",
              "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
              "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
              "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
              "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr",
              "w:pPrChange")


def _insert(ppr, el):
    """`el` (framePr or pBdr) in its place in a paragraph's properties: Word refuses them out of the
    schema's order."""
    tag = "w:" + el.tag.rsplit("}", 1)[1]
    ppr.insert_element_before(el, *_PPR_ORDER[_PPR_ORDER.index(tag) + 1:])
    return el


def _page_number(doc: DocumentType) -> None:
    """页码 (7.5): — 1 — in 4号半角宋体 under the 版心, odd pages on the right and even pages on the
    left, each 空一字 from the 版心's edge (different odd and even footers)."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT), (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        p = footer.paragraphs[0]
        p.alignment = align
        f = p.paragraph_format
        f.right_indent, f.left_indent = (Pt(MARK_PT), None) if align == WD_ALIGN_PARAGRAPH.RIGHT else (None, Pt(MARK_PT))
        _font(p.add_run("— "), "folio", MARK_PT)
        run = p.add_run()
        _font(run, "folio", MARK_PT)
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            el = OxmlElement("w:fldChar" if kind else "w:instrText")
            if kind:
                el.set(qn("w:fldCharType"), kind)
            else:
                el.text = text
            run._r.append(el)
        _font(p.add_run(" —"), "folio", MARK_PT)


def _at_the_foot(p: Paragraph) -> None:
    """A paragraph in a frame at the bottom of the 版心 of the page it falls on, the body text kept
    above it (7.4: 版记位于公文最后一面的版心内最下方); consecutive framed paragraphs share the frame."""
    frame = OxmlElement("w:framePr")
    for k, v in (("w", str(round(AREA_MM[0] / 25.4 * 1440))), ("wrap", "around"), ("vAnchor", "margin"),
                 ("hAnchor", "margin"), ("xAlign", "center"), ("yAlign", "bottom")):
        frame.set(qn(f"w:{k}"), v)
    _insert(p._p.get_or_add_pPr(), frame)


def _blank_docx() -> DocumentType:
    doc = Document()
    s = doc.sections[0]
    s.page_width, s.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    s.top_margin, s.bottom_margin, s.left_margin, s.right_margin = Mm(TOP_MM), Mm(BOTTOM_MM), Mm(LEFT_MM), Mm(RIGHT_MM)
    s.footer_distance = Mm(BOTTOM_MM - 7 - 5)   # 页码 7 mm under the 版心
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT["body"], Pt(BODY_PT)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT["body"])
    _page_number(doc)
    return doc


def write_docx(head: Letterhead, *, title: str, to: str, blocks: list[Block], issued: dt.date, path: Path) -> Path:
    """The whole document in the standard's order: 版头, title, 主送, body, 署名 and 成文日期, 版记 —
    python-docx lays it out once per letterhead, title and date (`_mold`); each document is that
    layout with its own 主送 and body."""
    path.parent.mkdir(parents=True, exist_ok=True)
    marked = _MARK.split("{")[0] in "".join((head.office, head.number, head.cc, head.to, title))
    mold = None if marked else _mold(head, title, issued)   # a sentinel in the letterhead: no mold of it
    if mold is not None and all(len(b.rows[0]) in mold.tables for b in blocks if isinstance(b, Table)):
        path.write_bytes(mold.render(to, blocks))
    else:   # a table wider than the mold's (or a marked letterhead): laid out by python-docx itself
        _compose(head, title=title, to=to, blocks=blocks, issued=issued).save(str(path))
    return path


def _compose(head: Letterhead, *, title: str, to: str, blocks: list[Block], issued: dt.date) -> DocumentType:
    """The document laid out by python-docx (what `_mold` takes apart)."""
    doc = _blank_docx()
    _para(doc, f"{head.office}文件", role="title", size=sign_size(head.office), color=RED,
          align=WD_ALIGN_PARAGRAPH.CENTER, before=35 / 25.4 * 72 - LINE_PT)
    _para(doc)
    number = _para(doc, head.document_number(issued), align=WD_ALIGN_PARAGRAPH.CENTER, before=LINE_PT)
    _border(number, "bottom", 8, RED, space=11)   # the red separator 4 mm under the 发文字号
    _para(doc)
    heading = _para(doc, role="title", size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    lines = title_lines(title)
    for i, line in enumerate(lines):
        run = heading.add_run(_xml_text(line))
        _font(run, "title", TITLE_PT)
        if i < len(lines) - 1:
            run.add_break()
    _para(doc)
    _para(doc, to)
    for b in blocks:
        if isinstance(b, Table):
            _docx_table(doc, b)
        else:
            kind, text = b
            _para(doc, text, role=kind if kind in ("h", "h2") else "body", indent=2)
    date = f"{issued:%Y年%-m月%-d日}"
    # the last paragraph, the room for the 印章 and the 署名 stay on one page with the date (7.3.5.4)
    kept = [doc.paragraphs[-1], _para(doc), _para(doc)]
    shift = max(0.0, 4 + (width_em(date) - width_em(head.office)) / 2)
    kept.append(_para(doc, head.office, align=WD_ALIGN_PARAGRAPH.RIGHT, right=shift))   # 署名 centred over the date
    for para in kept:
        para.paragraph_format.keep_with_next = True
    _para(doc, date, align=WD_ALIGN_PARAGRAPH.RIGHT, right=4)             # 成文日期 右空四字; 印章 above
    # 版记: 抄送 and 印发机关和印发日期 between a thick, a thin and a thick line, at the last page's foot
    cc = _para(doc, f"抄送：{head.cc}。", size=MARK_PT, indent=1)
    _border(cc, "top", 8)
    _border(cc, "bottom", 6)
    printed = _para(doc, f"{head.office}\t{date}印发", size=MARK_PT, indent=1)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(AREA_MM[0]) - Pt(MARK_PT), WD_TAB_ALIGNMENT.RIGHT)
    _border(printed, "bottom", 8)
    for p in (cc, printed):
        _at_the_foot(p)
    return doc


# ---- the mold: one python-docx layout, thousands of documents ----------------------------------

_MARK = "\u27e6gongkai-mold:{}\u27e7"   # ⟦gongkai-mold:…⟧: a sentinel text in the mold, where a document's text goes
_ROLES = ("body", "h", "h2")
_WIDEST = 8                          # tables of 1 … 8 columns are laid out in the mold
_OPEN_T = re.compile(r"<w:t(?: [^>]*)?$")   # a w:t's start tag, at the end of a piece
# a text inside a w:t (opened with xml:space="preserve"): escaped, control characters dropped (XML
# cannot hold them), a tab or a line break as Word's own elements — one str.translate a text
_BREAK, _TAB = '</w:t><w:br/><w:t xml:space="preserve">', '</w:t><w:tab/><w:t xml:space="preserve">'
_IN_WT = str.maketrans({**_UNWRITABLE, ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;",
                        ord("\t"): _TAB, ord("\n"): _BREAK, ord("\r"): _BREAK})


def _around(xml: str, at: int, tag: str) -> tuple[int, int]:
    """Where the element `tag` (w:p, w:tr, w:tbl) holding position `at` starts and ends."""
    start = max(xml.rfind(f"<{tag}>", 0, at), xml.rfind(f"<{tag} ", 0, at))
    return start, xml.index(f"</{tag}>", at) + len(f"</{tag}>")


def _filled(piece: str, mark: str) -> list[bytes]:
    """A piece split at its sentinel texts (each w:t's text opened to preserve spaces): the parts
    between which a document's texts go, as UTF-8."""
    parts = piece.split(f">{mark}<")
    parts = [p if i == 0 else "<" + p for i, p in enumerate(parts)]
    return [(p if i == len(parts) - 1 else _OPEN_T.sub('<w:t xml:space="preserve">', p)).encode()
            for i, p in enumerate(parts)]


# a central directory entry and the end record of a zip archive (PKWARE APPNOTE 4.3.12, 4.3.16), as zipfile packs them
_CENTRAL_DIR, _END_ARCHIVE = "<4s4B4HL2L5H2L", "<4s4H2LH"


@dataclass
class _Mold:
    """A document's .docx taken apart: the package's other parts, zipped once (their records and
    central directory kept apart, a document's own put between and after them); document.xml (UTF-8)
    as the text before the 主送, a paragraph frame per role (and an empty one), a table frame per
    width, and the text after the body. Rendering joins escaped texts into it — no python-docx per
    document."""

    records: bytes     # the package's other parts: their local records, deflated once,
    directory: bytes   # … their central directory entries
    entries: int       # … and how many they are
    before: bytes
    after: bytes
    para: dict[str, list[bytes]]
    empty: bytes
    to: list[bytes]
    tables: dict[int, tuple[bytes, list[bytes], list[bytes], bytes]]

    def render(self, to: str, blocks: list[Block]) -> bytes:
        xml = _Filling(self.before)
        xml.put(self.to, [[to]], paragraph=True)   # the last body-level paragraph keeps with the closing (7.3.5.4)
        for b in blocks:
            if isinstance(b, Table):
                head, *rows = b.rows
                opening, th, td, closing = self.tables[len(head)]
                xml.literal(opening)
                xml.put(th, [head])
                xml.put(td, rows)
                xml.literal(closing)
            elif b[1]:
                xml.put(self.para[b[0] if b[0] in ("h", "h2") else "body"], [[b[1]]], paragraph=True)
            else:
                xml.literal(self.empty, paragraph=True)
        xml.keep_last_with_next()
        xml.literal(self.after)
        return self.zipped(xml.joined())

    def zipped(self, document: bytes) -> bytes:
        """The package with `document` as its word/document.xml, deflated at level 1 (3× faster than 6,
        ≈ 10% larger): the bytes zipfile writes appending it to the package (`ZipFile(…, "a")`, stamped
        now), put together here — the package's records and central directory are the mold's, so
        zipfile's reading them back and rewriting its directory (≈ 0.3 ms a document, profiled) is not done."""
        info = zipfile.ZipInfo("word/document.xml", time.localtime(time.time())[:6])
        info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16   # as ZipFile.writestr sets them
        deflate = zlib.compressobj(1, zlib.DEFLATED, -15)
        data = deflate.compress(document) + deflate.flush()
        info.file_size, info.compress_size, info.CRC = len(document), len(data), zlib.crc32(document)
        info.header_offset = len(self.records)
        local = info.FileHeader(False)
        name, flags = info.filename.encode("ascii"), info.flag_bits   # an ASCII name: no UTF-8 flag
        day, when = info.date_time[:3], info.date_time[3:]
        entry = struct.pack(_CENTRAL_DIR, b"PK\x01\x02", info.create_version, info.create_system,
                            info.extract_version, info.reserved, flags, info.compress_type,
                            when[0] << 11 | when[1] << 5 | when[2] // 2, (day[0] - 1980) << 9 | day[1] << 5 | day[2],
                            info.CRC, info.compress_size, info.file_size, len(name), 0, 0, 0, info.internal_attr,
                            info.external_attr, info.header_offset) + name
        start = len(self.records) + len(local) + len(data)
        size = len(self.directory) + len(entry)
        end = struct.pack(_END_ARCHIVE, b"PK\x05\x06", 0, 0, self.entries + 1, self.entries + 1,
                          size, start, 0)
        return b"".join((self.records, local, data, self.directory, entry, end))


class _Filling:
    """A document.xml being filled from a mold: the XML between its texts and the texts, joined
    once at the end (a national 整改通知書 has thousands of texts; each is escaped and encoded with
    all the others, not one by one)."""

    def __init__(self, start: bytes) -> None:
        self.literals: list[bytes] = [start]   # always one literal more than texts
        self.texts: list[str] = []
        self.last = (0, 0)   # where the last body-level paragraph starts: (literal, offset)

    def literal(self, xml: bytes, *, paragraph: bool = False) -> None:
        if paragraph:
            self.last = (len(self.literals) - 1, len(self.literals[-1]))
        self.literals[-1] += xml

    def put(self, parts: list[bytes], rows: Sequence[Sequence[str]], *, paragraph: bool = False) -> None:
        """A frame (`parts`: the XML around its n texts) once per row of n texts."""
        n = len(parts) - 1
        if widths := set(map(len, rows)) - {n}:
            raise ValueError(f"a frame of {n} texts given rows of {sorted(widths)}")
        if not rows:
            return
        self.literal(parts[0], paragraph=paragraph)
        self.literals += [*parts[1:n], parts[n] + parts[0]] * len(rows)
        self.literals[-1] = parts[n]
        self.texts += chain.from_iterable(rows)

    def keep_last_with_next(self) -> None:
        at, offset = self.last
        text = self.literals[at]
        self.literals[at] = text[:offset] + text[offset:].replace(b"<w:pPr>", b"<w:pPr><w:keepNext/>", 1)

    def joined(self) -> bytes:
        texts = _escaped(self.texts)
        return b"".join(chain.from_iterable(zip(self.literals, texts, strict=False))) + self.literals[-1]


_APART = "\x00"   # between texts escaped together: XML cannot hold it, so no escaped text keeps one
_IN_WT_APART = {k: v for k, v in _IN_WT.items() if k != ord(_APART)}
_NOT_PLAIN = bytes(range(1, 0x20))   # control characters: dropped, or a tab or a line break as Word's elements


def _escaped(texts: list[str]) -> list[bytes]:
    """Each text as it goes inside a w:t, in UTF-8 — escaped and encoded together (a national
    document has thousands): the three XML escapes by `bytes.replace` when no text holds a control
    character or U+FFFE/U+FFFF, else one `str.translate`; one by one when a text holds the separator."""
    joined = _APART.join(texts)
    raw = joined.encode()
    if len(raw.translate(None, _NOT_PLAIN)) == len(raw) and b"\xef\xbf\xbe" not in raw and b"\xef\xbf\xbf" not in raw:
        raw = raw.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
    else:
        raw = joined.translate(_IN_WT_APART).encode()
    escaped = raw.split(_APART.encode())
    return escaped if len(escaped) == len(texts) else [t.translate(_IN_WT).encode() for t in texts]


@lru_cache(maxsize=16)
def _mold(head: Letterhead, title: str, issued: dt.date) -> _Mold:
    widths = range(1, _WIDEST + 1)
    blocks: list[Block] = [("p" if r == "body" else r, _MARK.format(r)) for r in _ROLES]
    blocks += [Table([[_MARK.format("th")] * n, [_MARK.format("td")] * n]) for n in widths]
    blocks.append(("p", _MARK.format("end")))   # takes the closing's keep-with-next, then dropped
    doc = _compose(head, title=title, to=_MARK.format("to"), blocks=blocks, issued=issued)
    raw = io.BytesIO()
    doc.save(raw)
    with zipfile.ZipFile(raw) as z:
        xml = z.read("word/document.xml").decode("utf-8")
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as kept:
            for info in z.infolist():
                if info.filename != "word/document.xml":
                    kept.writestr(info, z.read(info.filename))

    def para(mark: str) -> tuple[int, int, str]:
        start, end = _around(xml, xml.index(_MARK.format(mark)), "w:p")
        return start, end, xml[start:end]

    to_start, _, to_xml = para("to")
    paras = {r: para(r)[2] for r in _ROLES}
    body = paras["body"]
    empty = body[:body.index("<w:r>") if "<w:r>" in body else body.index("<w:r ")] + body[body.rindex("</w:r>") + 6:]
    tables = {}
    for n, mark_at in zip(widths, _positions(xml, f">{_MARK.format('th')}</w:t>"), strict=False):
        start, end = _around(xml, mark_at, "w:tbl")
        tbl = xml[start:end]
        th_start, th_end = _around(tbl, tbl.index(_MARK.format("th")), "w:tr")
        td_start, td_end = _around(tbl, tbl.index(_MARK.format("td")), "w:tr")
        tables[n] = (tbl[:th_start].encode(), _filled(tbl[th_start:th_end], _MARK.format("th")),
                     _filled(tbl[td_start:td_end], _MARK.format("td")), tbl[td_end:].encode())
        assert len(tables[n][1]) == len(tables[n][2]) == n + 1, f"a {n}-column table's frame"
    _, end_end, _ = para("end")
    zipped = package.getvalue()
    with zipfile.ZipFile(io.BytesIO(zipped)) as kept:   # no comment: the end record is the last 22 bytes
        start, entries = kept.start_dir, len(kept.infolist())
    return _Mold(zipped[:start], zipped[start:-22], entries, xml[:to_start].encode(), xml[end_end:].encode(),
                 {r: _filled(paras[r], _MARK.format(r)) for r in _ROLES}, empty.encode(),
                 _filled(to_xml, _MARK.format("to")), tables)


def _positions(text: str, needle: str) -> list[int]:
    """Where each table's first header cell is (one per table: a table's header cells follow)."""
    found, at = [], text.find(needle)
    while at >= 0:
        found.append(at)
        at = text.find("</w:tbl>", at)
        at = text.find(needle, at)
    return found


def _docx_table(doc: DocumentType, t: Table) -> None:
    head, *rows = t.rows
    table = doc.add_table(rows=0, cols=len(head))
    table.style = "Table Grid"
    _docx_row(table.add_row(), head, header=True)
    for row in rows:
        _docx_row(table.add_row(), row, header=False)


def _docx_row(row, texts: Sequence[str], *, header: bool) -> None:
    for cell, text in zip(row.cells, texts, strict=True):
        cell.text = ""
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER if header else WD_ALIGN_PARAGRAPH.LEFT
        _font(p.add_run(_xml_text(text)), "h" if header else "body", MARK_PT)


# ---- print HTML -----------------------------------------------------------------------------------

# 页码 (7.5): 4号半角宋体 digits between 一字线, the line 7 mm under the 版心; odd pages right, even left,
# each 空一字 (chromium: the first page is a right page)
_FOLIO = (f'content: "— " counter(page) " —"; font: {MARK_PT}pt {CSS_FONT["folio"]}; '
          f"vertical-align: top; padding-top: {FOLIO_MM}mm;")
_CSS = f"""
@page {{ size: A4; margin: {TOP_MM}mm {RIGHT_MM}mm {BOTTOM_MM}mm {LEFT_MM}mm; }}
@page :right {{ @bottom-right {{ {_FOLIO} padding-right: 1em; text-align: right; }} }}
@page :left {{ @bottom-left {{ {_FOLIO} padding-left: 1em; text-align: left; }} }}
body {{ margin: 0; font: {BODY_PT}pt/{LINE_PT}pt {CSS_FONT['body']}; text-align: justify; }}
p {{ margin: 0; text-indent: 2em; }}
.sign {{ margin-top: 33mm; text-align: center; text-indent: 0; color: #f00; font-family: {CSS_FONT['title']};
  font-weight: bold; white-space: nowrap; line-height: 1.2; }}
.number {{ margin-top: {2 * LINE_PT}pt; text-align: center; text-indent: 0; padding-bottom: 4mm;
  border-bottom: 0.5mm solid #f00; }}
h1 {{ margin: {2 * LINE_PT}pt 0 {LINE_PT}pt; text-align: center; font: bold {TITLE_PT}pt/1.4 {CSS_FONT['title']}; }}
.to {{ text-indent: 0; }}
.h {{ font-family: {CSS_FONT['h']}; }}
.h2 {{ font-family: {CSS_FONT['h2']}; }}
table {{ border-collapse: collapse; width: 100%; margin: 4pt 0; font-size: {MARK_PT}pt; line-height: 1.5; }}
th, td {{ border: 0.5pt solid #000; padding: 1mm 2mm; }}
th {{ font-family: {CSS_FONT['h']}; font-weight: normal; }}
.close {{ break-inside: avoid; }}
.seal {{ margin-top: {2 * LINE_PT}pt; text-align: right; }}
.seal p {{ text-indent: 0; }}
.mark {{ margin-top: {2 * LINE_PT}pt; break-inside: avoid; font-size: {MARK_PT}pt;
  border-top: 0.35mm solid #000; border-bottom: 0.35mm solid #000; }}
.paged {{ position: relative; display: flow-root; }}
.paged .mark {{ position: absolute; left: 0; right: 0; bottom: 0; margin: 0; }}
.mark p {{ text-indent: 0; padding: 0 1em; }}
.mark .cc {{ border-bottom: 0.25mm solid #000; }}
.mark .printed {{ display: flex; justify-content: space-between; }}
"""


def to_html(head: Letterhead, *, title: str, to: str, blocks: list[Block], issued: dt.date,
            pages: int | None = None) -> str:
    """The same document as print HTML, A4 with the standard's margins (@page). The 版记 follows the
    signature; given the `pages` the document fills (a first print tells), it sits at the foot of the
    last page instead (7.4: 版记位于公文最后一面的版心内最下方): the page is a box `pages` 版心 tall
    and the 版记 at its bottom."""
    e = html.escape
    date = f"{issued:%Y年%-m月%-d日}"
    body = []
    for b in blocks:
        if isinstance(b, Table):
            head_row, *rows = b.rows
            body.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in head_row) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")
        else:
            body.append(f'<p class="{b[0]}">{e(b[1])}</p>')
    shift = max(0.0, 4 + (width_em(date) - width_em(head.office)) / 2)
    # 2 px short of the pages' height: rounding never spills the box onto one more page
    box = f'<div class="paged" style="min-height: calc({pages} * {AREA_MM[1]}mm - 2px)">' if pages else "<div>"
    return (f"<!doctype html><html lang=zh><meta charset=utf-8><title>{e(title)}</title><style>{_CSS}</style><body>{box}"
            f'<p class="sign" style="font-size:{sign_size(head.office)}pt">{e(head.office)}文件</p>'
            f'<p class="number">{e(head.document_number(issued))}</p><h1>{"<br>".join(e(x) for x in title_lines(title))}</h1><p class="to">{e(to)}</p>'
            + "\n".join(body[:-1])
            # the last paragraph, the room for the 印章, the 署名 and the date on one page (7.3.5.4)
            + f'<div class="close">{body[-1] if body else ""}<div class="seal"><p style="margin-right:{shift}em">{e(head.office)}</p>'
              f'<p style="margin-right:4em">{date}</p></div></div>'
            + f'<div class="mark"><p class="cc">抄送：{e(head.cc)}。</p>'
              f'<p class="printed"><span>{e(head.office)}</span><span>{date}印发</span></p></div></div></body></html>')


def write_pdf(head: Letterhead, *, title: str, to: str, blocks: list[Block], issued: dt.date, path: Path) -> Path:
    """The document printed by chromium, twice: the first print tells how many pages the text and the
    版记 fill, the second puts the 版记 at the foot of the last of them. Text copies as printed
    (`fix_to_unicode`)."""
    from pypdf import PdfReader

    from scoring.report.pdf_text import fix_to_unicode

    def page(pages: int | None = None) -> str:
        return to_html(head, title=title, to=to, blocks=blocks, issued=issued, pages=pages)

    print_pdf(page(), path)
    pages = len(PdfReader(path).pages)
    print_pdf(page(pages), path)
    if len(PdfReader(path).pages) != pages:   # never seen; the 版记 after the signature is still a 公文
        print_pdf(page(), path)
    fix_to_unicode(path)
    return path


def print_pdf(page: str, path: Path) -> None:
    """Print an HTML page to `path` with the system's chromium."""
    from scoring.report.images import INSTALL_HINT, chromium

    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="gongkai-notice-") as tmp:
        file = Path(tmp) / "notice.html"
        file.write_text(page, encoding="utf-8")
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--no-pdf-header-footer",
                               f"--user-data-dir={tmp}/profile", f"--print-to-pdf={path.resolve()}", file.as_uri()],
                              capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not path.exists():
        raise GongkaiError(f"chromium could not print the notice ({done.stderr.strip()[-300:]}); {INSTALL_HINT}")
