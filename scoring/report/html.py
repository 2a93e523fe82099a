"""The report as one self-contained HTML file (interactive plotly charts, plotly.js inline, no
network), and as PDF: the same page with chart images, printed by the system's chromium."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from scoring.errors import GongkaiError
from scoring.report.images import INSTALL_HINT, chromium, figures, images
from scoring.report.model import Report, cells, header, numeric_columns
from scoring.report.quality import CHART

SCREEN_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
# In PDFs printed by chromium, Noto/Source Han CJK text extracts (and copies) as radical code points
# for shared glyphs (青島 → ⻘島); WenQuanYi Zen Hei (fonts-wqy-zenhei) has no such glyphs.
PRINT_FONTS = '"WenQuanYi Zen Hei", ' + SCREEN_FONTS

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("scoring.report", "templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True)


# columns of running text, which wrap; every other column (names, dates, outcomes, numbers) keeps
# to one line, so 缺失 or 濟南市 never breaks over two
WRAPPING = ("title", "section", "rules", "quote", "note", "rule", "item", "file")
BREAKING = ("url", "sha")  # may break anywhere


# markupsafe's escaping, as one str.translate a cell (the national appendix has millions of cells)
_ESCAPED = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def _table(frame: pd.DataFrame, lang: str, headed: bool = False, rows_per_table: int | None = None) -> Markup:
    """An escaped HTML table (evidence notes and URLs are text, never markup): one number format
    per column, numbers right-aligned, short columns on one line; columns known by their keys
    (`headed`: a section's table that carries its headers in the report's words already)."""
    rows, numeric = cells(frame)
    return _tables(frame, lang, numeric, headed, rows_per_table)(rows)


# chromium prints no PDF at all (it exits, silently) for a page whose tables run to tens of thousands
# of rows each (21,700 bodies' rankings and robustness); split into tables of this many rows, each
# with its head, the same page prints — and a printed table repeats its head on every page anyway
PRINTED_ROWS_PER_TABLE = 1_000


def _tables(frame: pd.DataFrame, lang: str, numeric: list[bool], headed: bool = False,
            rows_per_table: int | None = None) -> Callable[[list], Markup]:
    """The HTML of tables with `frame`'s columns, from their cells (`cells`): its head worked out once
    for every body's table of that kind; `rows_per_table`: longer tables as several, one after the other."""
    kinds = ["num" if n else "brk" if c in BREAKING else "wrap" if c in WRAPPING else "nw"
             for c, n in zip(frame.columns, numeric, strict=True)]
    head = "".join(f'<th class="{k}">{escape(c if headed else header(c, lang))}</th>'
                   for c, k in zip(frame.columns, kinds, strict=True))
    opened = [f'<td class="{k}">' for k in kinds]

    def table(rows: list[list[str]]) -> Markup:
        step = rows_per_table or max(len(rows), 1)
        return Markup("".join(f"<table><thead><tr>{head}</tr></thead><tbody>{body(rows[i:i + step])}</tbody></table>"
                              for i in range(0, max(len(rows), 1), step)))

    def body(rows: list[list[str]]) -> str:
        return "".join("<tr>" + "".join(o + v.translate(_ESCAPED) + "</td>" for v, o in zip(r, opened, strict=True))
                       + "</tr>" for r in rows)
    return table


def _quality(report: Report, chart: Markup | None, table: Callable[..., Markup]) -> list[dict]:
    """The quality sections with their tables as HTML and the heat map in place."""
    return [{"key": s.key, "title": s.title(report.lang),
             "blocks": [{"kind": b.kind, "text": b.text,
                         "html": table(b.table, report.lang, headed=True) if b.table is not None else chart or ""}
                        for b in s.blocks if b.kind != "chart" or chart]} for s in report.sections]


def render(report: Report, charts: dict[str, Markup], plotly_js: str = "", fonts: str = SCREEN_FONTS,
           rows_per_table: int | None = None) -> str:
    """The report's page (`rows_per_table`: long tables split, for printing)."""
    table = partial(_table, rows_per_table=rows_per_table)
    t = report.t
    lang = report.lang
    quality_chart = charts.pop(CHART, None)
    gaps, findings = (_tables(f, lang, numeric_columns(f), rows_per_table=rows_per_table)
                      for f in (report.gaps, report.findings))
    bodies = [{**b, "gaps_html": gaps(g) if (g := report.section_cells(b, "gaps")) else "",
               "findings_html": findings(f) if (f := report.section_cells(b, "findings")) else ""}
              for b in report.bodies]
    return _ENV.get_template("report.html.j2").render(
        lang=lang, t=t, fonts=Markup(fonts), title=report.title, document=report.document, cover=report.cover,
        synthetic=report.synthetic, plotly_js=Markup(plotly_js) if plotly_js else "",
        tables={"summary": table(report.summary, lang), "method": table(report.method, lang),
                "appendix": "" if report.appendix_note else table(report.appendix, lang), "robustness": table(report.robustness, lang),
                "yoy": table(report.year_over_year, lang) if len(report.year_over_year) else "",
                "rankings": [(t(f"kind_{k}"), table(v, lang)) for k, v in report.rankings.items()]},
        charts=list(charts.values()), bodies=bodies, previous=report.previous, quality=_quality(report, quality_chart, table),
        appendix_note=report.appendix_note, bodies_note=report.bodies_note)


def write_html(report: Report, path: Path) -> None:
    from plotly.offline import get_plotlyjs

    charts = {name: Markup(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))
              for name, fig in figures(report).items()}
    path.write_text(render(report, charts, get_plotlyjs()), encoding="utf-8")


def write_pdf(report: Report, path: Path) -> None:
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="gongkai-pdf-") as tmp:
        pngs = images(report, Path(tmp))
        charts = {name: Markup(f'<img alt="{name}" src="data:image/png;base64,'
                               f'{base64.b64encode(p.read_bytes()).decode()}">') for name, p in pngs.items()}
        page = Path(tmp) / "report.html"
        page.write_text(render(report, charts, fonts=PRINT_FONTS, rows_per_table=PRINTED_ROWS_PER_TABLE),
                        encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--no-pdf-header-footer",
               "--generate-pdf-document-outline",  # bookmarks from the headings
               f"--user-data-dir={tmp}/profile", f"--print-to-pdf={path.resolve()}", page.as_uri()]
        # a national report is thousands of pages (3,237 bodies: 5,751 pages, ≈ 3 min to print)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300 + 0.2 * len(report.bodies))
    if done.returncode != 0 or not path.exists():
        raise GongkaiError(f"chromium could not print the PDF ({done.stderr.strip()[-300:]}); {INSTALL_HINT}")
    from scoring.report.pdf_text import fix_to_unicode

    fix_to_unicode(path)   # a name in a Noto CJK fallback copies as written too
