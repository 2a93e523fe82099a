"""The report's charts: plotly figures from the scorecard, and their PNG images via kaleido using the
system's chromium (set GONGKAI_CHROMIUM, or have `chromium` on PATH)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import plotly.graph_objects as go

from scoring.errors import GongkaiError
from scoring.in_script import figure
from scoring.report import charts, quality
from scoring.report.model import Report

INSTALL_HINT = "install Debian's chromium and CJK fonts: apt-get install chromium fonts-noto-cjk fonts-wqy-zenhei"


def chromium() -> str:
    """The system chromium, or a clear message of what to install."""
    for candidate in (os.environ.get("GONGKAI_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    raise GongkaiError(f"PDF and chart images need a chromium browser, none found: {INSTALL_HINT} "
                       "(or set GONGKAI_CHROMIUM); the .xlsx and .html reports work without it")


def figures(report: Report) -> dict[str, go.Figure]:
    """The report's charts, keyed by a file-safe name."""
    card, t = report.card, report.t
    grades = [g.name for g in card.scheme.scheme.grades]
    s = card.scores.dropna(subset=["score"])
    figs = {}
    for kind in ("city", "department", "county"):
        part = s[s["kind"] == kind]
        if len(part):
            figs[f"ranking_{kind}"] = charts.ranking_bar(part, grades, f"{t('ranking_chart')} · {t('kind_' + kind)}",
                                                         t("score"))
    figs["grades"] = charts.grade_distribution(s.assign(kind=s["kind"].map(lambda k: t(f"kind_{k}"))), grades,
                                               t("grade_chart"))
    cities = card.scores[card.scores["kind"] == "city"][["body", "name"]]
    if len(cities):
        figs["heatmap"] = charts.heatmap(card.obligations[card.obligations["body"].isin(cities["body"])], cities,
                                         t("heatmap"))
    if (agreement := quality.figure(report.quality_inputs, report.lang)) is not None:
        figs[quality.CHART] = agreement  # shown in the quality section, not among the charts
    # one script with the tables: names and grades as the report's language writes them (莱芜市, 优秀)
    return {name: figure(fig, report.lang) for name, fig in figs.items()}


def images(report: Report, folder: Path | None = None) -> dict[str, Path]:
    """PNG files of the report's charts, rendered in one kaleido session on the system chromium."""
    os.environ.setdefault("BROWSER_PATH", chromium())
    import plotly.io as pio

    figs = figures(report)
    folder = folder or Path(tempfile.mkdtemp(prefix="gongkai-charts-"))
    paths = {name: folder / f"{name}.png" for name in figs}
    missing = list(paths)
    for _ in range(2):  # a busy machine's chromium may drop an image without a word: once more for those
        try:
            pio.write_images([figs[n] for n in missing], [paths[n] for n in missing], format="png", width=1000, scale=2)
        except Exception as e:  # kaleido reports a missing or broken browser in several ways
            raise GongkaiError(f"could not render chart images with chromium ({e}); {INSTALL_HINT}") from None
        missing = [n for n, p in paths.items() if not p.exists()]
        if not missing:
            return paths
    raise GongkaiError(f"chromium rendered no image for {', '.join(missing)}; {INSTALL_HINT}")
