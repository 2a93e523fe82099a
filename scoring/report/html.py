"""The report as one self-contained HTML file (interactive plotly charts, plotly.js inline, no
network), and as PDF: the same page with chart images, printed by the system's chromium."""

from __future__ import annotations

import base64
import subprocess
import tempfile
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from scoring.errors import GongkaiError
from scoring.report.images import INSTALL_HINT, chromium, figures, images
from scoring.report.model import Report

SCREEN_FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'
# In PDFs printed by chromium, Noto/Source Han CJK text extracts (and copies) as radical code points
# for shared glyphs (青島 → ⻘島); WenQuanYi Zen Hei (fonts-wqy-zenhei) has no such glyphs.
PRINT_FONTS = '"WenQuanYi Zen Hei", ' + SCREEN_FONTS

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("scoring.report", "templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True)


def _table(frame: pd.DataFrame) -> Markup:
    """An escaped HTML table (evidence notes and URLs are text, never markup)."""
    return Markup(frame.to_html(index=False, escape=True, na_rep="", border=0, float_format=lambda v: f"{v:g}"))


def render(report: Report, charts: list[Markup], plotly_js: str = "", fonts: str = SCREEN_FONTS) -> str:
    t = report.t
    bodies = [{**b, "gaps_html": _table(b["gaps"]) if len(b["gaps"]) else "",
               "findings_html": _table(b["findings"]) if len(b["findings"]) else ""} for b in report.bodies]
    return _ENV.get_template("report.html.j2").render(
        lang=report.lang, t=t, fonts=Markup(fonts), title=report.title, as_of=report.card.as_of, run_id=report.run_id,
        generated=report.generated, evidence=report.evidence, plotly_js=Markup(plotly_js) if plotly_js else "",
        tables={"summary": _table(report.summary), "method": _table(report.method),
                "appendix": _table(report.appendix),
                "rankings": [(t(f"kind_{k}"), _table(v)) for k, v in report.rankings.items()]},
        charts=charts, bodies=bodies)


def write_html(report: Report, path: Path) -> None:
    from plotly.offline import get_plotlyjs

    charts = [Markup(fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))
              for fig in figures(report).values()]
    path.write_text(render(report, charts, get_plotlyjs()), encoding="utf-8")


def write_pdf(report: Report, path: Path) -> None:
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="gongkai-pdf-") as tmp:
        pngs = images(report, Path(tmp))
        charts = [Markup(f'<img alt="{name}" src="data:image/png;base64,'
                         f'{base64.b64encode(p.read_bytes()).decode()}">') for name, p in pngs.items()]
        page = Path(tmp) / "report.html"
        page.write_text(render(report, charts, fonts=PRINT_FONTS), encoding="utf-8")
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--no-pdf-header-footer",
               f"--user-data-dir={tmp}/profile", f"--print-to-pdf={path.resolve()}", page.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not path.exists():
        raise GongkaiError(f"chromium could not print the PDF ({done.stderr.strip()[-300:]}); {INSTALL_HINT}")
