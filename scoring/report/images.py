"""The report's charts: plotly figures from the scorecard, and their PNG images via kaleido using the
system's chromium (set GONGKAI_CHROMIUM, or have `chromium` on PATH)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import plotly
import plotly.graph_objects as go

from scoring.errors import GongkaiError
from scoring.in_script import figure
from scoring.report import charts, quality
from scoring.report.model import Report
from scoring.store import kept

INSTALL_HINT = "install Debian's chromium and CJK fonts: apt-get install chromium fonts-noto-cjk fonts-wqy-zenhei"


def chromium() -> str:
    """The system chromium, or a clear message of what to install."""
    for candidate in (os.environ.get("GONGKAI_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    raise GongkaiError(f"PDF and chart images need a chromium browser, none found: {INSTALL_HINT} "
                       "(or set GONGKAI_CHROMIUM); the .xlsx and .html reports work without it")


# a kind of more bodies than this is charted as a histogram of its scores, not a bar per body (2,844
# counties' bars: an image 68,000 px tall, metres long in the Word report); its table ranks every body
BARS_SHOWN = 100


def figures(report: Report) -> dict[str, go.Figure]:
    """The report's charts, keyed by a file-safe name."""
    card, t = report.card, report.t
    grades = [g.name for g in card.scheme.scheme.grades]
    s = card.scores.dropna(subset=["score"])
    figs = {}
    for kind in ("city", "department", "county"):
        part = s[s["kind"] == kind]
        if len(part) > BARS_SHOWN:   # a bar each would be a chart metres long: how the scores spread
            figs[f"ranking_{kind}"] = charts.score_histogram(part, grades, f"{t('score_histogram')} · {t('kind_' + kind)}",
                                                             t("score"), t("body_count"))
        elif len(part):
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
    """PNG files of the report's charts, rendered in one kaleido session on the system chromium. A
    chart rendered before is copied from where its images are kept (`Report.kept_charts`), named by
    what it draws: only charts never rendered start chromium."""
    figs = figures(report)
    folder = folder or Path(tempfile.mkdtemp(prefix="gongkai-charts-"))
    paths = {name: folder / f"{name}.png" for name in figs}
    drawn = {name: report.kept_charts / f"{_drawn(fig)}.png" for name, fig in figs.items()} if report.kept_charts else {}
    for name, at in drawn.items():
        with contextlib.suppress(OSError):   # not rendered yet: rendered below
            shutil.copyfile(at, paths[name])
            kept.used(at)
    if missing := [n for n, p in paths.items() if not p.exists()]:
        _render({n: figs[n] for n in missing}, paths)
        for name in missing:
            if name in drawn:
                _keep(paths[name], drawn[name])
    return paths


WIDTH, SCALE = 1000, 2   # a chart image: 1,000 px wide, at twice that for print


def _drawn(fig: go.Figure) -> str:
    """What a chart's image shows, as a name: its figure (data, layout, the report's words), the
    image's size and the plotly and kaleido that render it."""
    seen = f"{fig.to_json()}|{WIDTH}|{SCALE}|plotly {plotly.__version__}|kaleido {_kaleido()}"
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


@cache
def _kaleido() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kaleido")
    except PackageNotFoundError:
        return "none"


def _keep(image: Path, at: Path) -> None:
    """Keep a rendered image (a read-only or full disk only means it is rendered again)."""
    kept.put(at, lambda tmp: shutil.copyfile(image, tmp))


def _render(figs: dict[str, go.Figure], paths: dict[str, Path]) -> None:
    os.environ.setdefault("BROWSER_PATH", chromium())
    import plotly.io as pio

    missing = list(figs)
    for _ in range(2):  # a busy machine's chromium may drop an image without a word: once more for those
        try:
            pio.write_images([figs[n] for n in missing], [paths[n] for n in missing], format="png", width=WIDTH,
                             scale=SCALE)
        except Exception as e:  # kaleido reports a missing or broken browser in several ways
            raise GongkaiError(f"could not render chart images with chromium ({e}); {INSTALL_HINT}") from None
        missing = [n for n in figs if not paths[n].exists()]
        if not missing:
            return
    raise GongkaiError(f"chromium rendered no image for {', '.join(missing)}; {INSTALL_HINT}")
