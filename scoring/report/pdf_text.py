"""Text that copies as the characters printed: chromium's PDFs name some Noto CJK glyphs by the
radical sharing them (⼭ U+2F2D for 山, ⻘ U+2ED8 for 青) in their ToUnicode CMaps, so a reader copying
山东省 gets ⼭东省 and a search for 山 misses it. `fix_to_unicode` rewrites every CMap of a PDF,
mapping each Kangxi radical (U+2F00–U+2FDF) and CJK radicals supplement (U+2E80–U+2EFF) code point
to the ideograph with the same glyph."""

from __future__ import annotations

import re
from pathlib import Path

# radical → the unified ideograph drawn by the same glyph in Noto Serif/Sans CJK (the SC faces first,
# then the others), read from the fonts' cmaps with fontTools (2026-12, fonts-noto-cjk 2.004)
_PAIRS = "⺂乛⺃乚⺅亻⺇𠘨⺉刂⺋㔾⺍𭕄⺎兀⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺟母⺠民⺡氵⺣灬⺤爫⺦丬⺨犭⺩𤣩⺫罒⺭礻⺮𥫗⺯糹⺰纟⺱罓⺲罒⺳㓁⺹耂⺺肀⺽𦥑⺾艹⺿艹⻁虎⻂衤⻃覀⻄西⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻍辶⻎辶⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻘青⻙韦⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻭歯⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟⼀一⼁丨⼂丶⼃丿⼄乙⼅亅⼆二⼇亠⼈人⼉儿⼊入⼋八⼌冂⼍冖⼎冫⼏几⼐凵⼑刀⼒力⼓勹⼔匕⼕匚⼖匸⼗十⼘卜⼙卩⼚厂⼛厶⼜又⼝口⼞囗⼟土⼠士⼡夂⼢夊⼣夕⼤大⼥女⼦子⼧宀⼨寸⼩小⼪尢⼫尸⼬屮⼭山⼮巛⼯工⼰己⼱巾⼲干⼳幺⼴广⼵廴⼶廾⼷弋⼸弓⼹彐⼺彡⼻彳⼼心⼽戈⼾户⼿手⽀支⽁攴⽂文⽃斗⽄斤⽅方⽆无⽇日⽈曰⽉月⽊木⽋欠⽌止⽍歹⽎殳⽏毋⽐比⽑毛⽒氏⽓气⽔水⽕火⽖爪⽗父⽘爻⽙爿⽚片⽛牙⽜牛⽝犬⽞玄⽟玉⽠瓜⽡瓦⽢甘⽣生⽤用⽥田⽦疋⽧疒⽨癶⽩白⽪皮⽫皿⽬目⽭矛⽮矢⽯石⽰示⽱禸⽲禾⽳穴⽴立⽵竹⽶米⽷糸⽸缶⽹网⽺羊⽻羽⽼老⽽而⽾耒⽿耳⾀聿⾁肉⾂臣⾃自⾄至⾅臼⾆舌⾇舛⾈舟⾉艮⾊色⾋艸⾌虍⾍虫⾎血⾏行⾐衣⾑襾⾒見⾓角⾔言⾕谷⾖豆⾗豕⾘豸⾙貝⾚赤⾛走⾜足⾝身⾞車⾟辛⾠辰⾡辵⾢邑⾣酉⾤釆⾥里⾦金⾧長⾨門⾩阜⾪隶⾫隹⾬雨⾭靑⾮非⾯面⾰革⾱韋⾲韭⾳音⾴頁⾵風⾶飛⾷食⾸首⾹香⾺馬⾻骨⾼高⾽髟⾾鬥⾿鬯⿀鬲⿁鬼⿂魚⿃鳥⿄鹵⿅鹿⿆麥⿇麻⿈黃⿉黍⿊黑⿋黹⿌黽⿍鼎⿎鼓⿏鼠⿐鼻⿑齊⿒齒⿓龍⿔龜⿕龠"
RADICALS = {ord(a): b for a, b in zip(_PAIRS[::2], _PAIRS[1::2], strict=True)}

_HEX = r"<([0-9A-Fa-f]+)>"
_CHAR = re.compile(rf"{_HEX}\s*{_HEX}")
_RANGE = re.compile(rf"{_HEX}\s*{_HEX}\s*(?:{_HEX}|\[((?:\s*<[0-9A-Fa-f]+>)*)\s*\])")
_SECTION = re.compile(r"\d+\s+begin(bfchar|bfrange)(.*?)endbf(?:char|range)", re.S)


def _text(code: str) -> str:
    return bytes.fromhex(code).decode("utf-16-be", errors="surrogatepass")


def _code(text: str) -> str:
    return text.encode("utf-16-be", errors="surrogatepass").hex().upper()


def read_cmap(cmap: str) -> tuple[dict[int, str], int]:
    """A ToUnicode CMap's mappings (code → text, bfchar and both forms of bfrange) and its code width
    in bytes."""
    out: dict[int, str] = {}
    width = 1
    for kind, body in _SECTION.findall(cmap):
        if kind == "bfchar":
            for src, dst in _CHAR.findall(body):
                width = max(width, len(src) // 2)
                out[int(src, 16)] = _text(dst)
            continue
        for lo, hi, start, listed in _RANGE.findall(body):
            width = max(width, len(lo) // 2)
            first, last = int(lo, 16), int(hi, 16)
            if start:   # consecutive destinations: the last UTF-16 unit counts up
                units = bytes.fromhex(start)
                for i in range(last - first + 1):
                    tail = int.from_bytes(units[-2:], "big") + i
                    out[first + i] = (units[:-2] + tail.to_bytes(2, "big")).decode("utf-16-be", errors="surrogatepass")
            else:
                for i, dst in enumerate(re.findall(_HEX, listed)):
                    out[first + i] = _text(dst)
    return out, width


def write_cmap(mapping: dict[int, str], width: int) -> str:
    """A ToUnicode CMap of single mappings (bfchar, at most 100 a section, as PDF 9.10.3 asks)."""
    items = sorted(mapping.items())
    sections = []
    for i in range(0, len(items), 100):
        chunk = items[i:i + 100]
        sections.append(f"{len(chunk)} beginbfchar\n"
                        + "".join(f"<{src:0{2 * width}X}> <{_code(dst)}>\n" for src, dst in chunk) + "endbfchar")
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            f"1 begincodespacerange\n<{'00' * width}> <{'FF' * width}>\nendcodespacerange\n"
            + "\n".join(sections) + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")


def fix_to_unicode(path: Path) -> int:
    """Rewrite, in place, the ToUnicode CMaps of `path` that map a code to a radical; the number of
    CMaps rewritten. pikepdf (qpdf) reads the objects as they are visited and writes in C++: a
    national report (thousands of pages, 830,000 objects) is fixed in seconds, where pypdf's clone of
    the document took minutes and gigabytes."""
    import pikepdf

    done: set[tuple[int, int]] = set()
    fixed = 0

    def visit(resources) -> None:
        nonlocal fixed
        if resources is None:
            return
        fonts = resources.get("/Font")
        for name in list(fonts.keys()) if fonts is not None else []:
            font = fonts[name]
            stream = font.get("/ToUnicode")
            if stream is None or stream.objgen in done:
                continue
            done.add(stream.objgen)
            mapping, width = read_cmap(stream.read_bytes().decode("latin-1"))
            if any(ord(c) in RADICALS for text in mapping.values() for c in text):
                stream.write(write_cmap({k: v.translate(RADICALS) for k, v in mapping.items()}, width).encode())
                fixed += 1
            if "/Resources" in font:   # a Type3 font's glyph procedures may use fonts too
                visit(font["/Resources"])
        xobjects = resources.get("/XObject")
        for name in list(xobjects.keys()) if xobjects is not None else []:
            xobject = xobjects[name]
            if xobject.get("/Subtype") == pikepdf.Name.Form and "/Resources" in xobject:
                visit(xobject["/Resources"])

    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            visit(page.obj.get("/Resources"))
        if fixed:
            pdf.save(path)
    return fixed
