"""Chart builders (plotly figures from scorecard tables), shared by the dashboard and the report."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from scoring.method.scheme import natural_key

GRADE_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#d73027", "#7f0000", "#4d4d4d"]
FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"


def grade_colours(grade_names: list[str]) -> dict[str, str]:
    """Best grade green … last grade red, in the scheme's band order."""
    return {g: GRADE_COLOURS[min(i, len(GRADE_COLOURS) - 1)] if i < len(grade_names) - 1 else "#d73027"
            for i, g in enumerate(grade_names)}


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(title=title, font_family=FONT, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      plot_bgcolor="white", legend_title_text="")
    return fig


def ranking_bar(scores: pd.DataFrame, grade_names: list[str], title: str, score_label: str = "score") -> go.Figure:
    """Horizontal bars of score per body, best on top, coloured by grade band."""
    s = scores.dropna(subset=["score"]).sort_values("score")
    colours = grade_colours(grade_names)
    fig = go.Figure()
    for grade in grade_names:
        part = s[s["grade"] == grade]
        if part.empty:
            continue
        fig.add_bar(x=part["score"], y=part["name"], orientation="h", name=grade, marker_color=colours[grade],
                    text=part["score"].round(2), textposition="outside",
                    hovertemplate="%{y}: %{x:.2f}<extra>" + grade + "</extra>")
    fig.update_yaxes(categoryorder="array", categoryarray=s["name"].tolist())
    fig.update_xaxes(range=[0, max(100.0, float(s["score"].max() if len(s) else 100)) * 1.08], title=score_label)
    return _layout(fig, title, height=max(300, 24 * len(s) + 80))


def score_histogram(scores: pd.DataFrame, grade_names: list[str], title: str, score_label: str = "score",
                    count_label: str = "bodies") -> go.Figure:
    """How many bodies scored in each 2-point band, stacked by grade: the ranking of a kind of too
    many bodies for a bar each (a nation's 2,844 counties; every one is in the rankings table)."""
    s = scores.dropna(subset=["score"])
    colours = grade_colours(grade_names)
    top = max(100.0, float(s["score"].max() if len(s) else 100))
    fig = go.Figure()
    for grade in grade_names:
        part = s[s["grade"] == grade]
        if len(part):
            fig.add_histogram(x=part["score"].round(2), name=grade, marker_color=colours[grade],
                              xbins={"start": 0, "end": top + 2, "size": 2},
                              hovertemplate="%{x}: %{y}<extra>" + grade + "</extra>")
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title=score_label, range=[0, top + 2])
    fig.update_yaxes(title=count_label)
    return _layout(fig, title, height=420)


def grade_distribution(scores: pd.DataFrame, grade_names: list[str], title: str) -> go.Figure:
    """Number of bodies per grade band, per kind."""
    counts = scores.groupby(["kind", "grade"]).size().rename("n").reset_index()
    colours = grade_colours(grade_names)
    fig = go.Figure()
    for grade in grade_names:
        part = counts[counts["grade"] == grade]
        fig.add_bar(x=part["kind"], y=part["n"], name=grade, marker_color=colours[grade], text=part["n"])
    fig.update_layout(barmode="stack")
    return _layout(fig, title, height=360)


def heatmap(obligations: pd.DataFrame, bodies: pd.DataFrame, title: str) -> go.Figure:
    """Bodies × obligations, coloured by earned share (earned / points); N/A left blank."""
    o = obligations[~obligations["bonus"]].assign(
        share=lambda d: (d["earned"] / d["points"]).where(d["status"] == "scored"))
    names = bodies.set_index("body")["name"]
    grid = o.pivot(index="body", columns="obligation", values="share").reindex(bodies["body"])
    cols = sorted(grid.columns, key=natural_key)
    grid = grid[cols]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=cols, y=names.reindex(grid.index).tolist(), zmin=0, zmax=1,
        colorscale="RdYlGn", hovertemplate="%{y} · %{x}: %{z:.0%}<extra></extra>", xgap=1, ygap=1))
    fig.update_xaxes(type="category", tickangle=-60)
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, height=max(320, 22 * len(grid) + 140))


def gap_bar(gaps: pd.DataFrame, title: str, label: str = "gap") -> go.Figure:
    """A body's lost points per obligation, largest first."""
    g = gaps.sort_values("gap")
    fig = go.Figure(go.Bar(x=g["gap"], y=g["obligation"] + " " + g["title"].str.slice(0, 18), orientation="h",
                           marker_color="#d73027", text=g["gap"].round(2), textposition="outside"))
    fig.update_xaxes(title=label)
    return _layout(fig, title, height=max(260, 26 * len(g) + 90))


def rank_intervals(robust: pd.DataFrame, names: dict[str, str], title: str, rank_label: str = "rank",
                   uncertain_label: str = "grade uncertain") -> go.Figure:
    """Each body's rank with the 5th–95th percentile of its rank under perturbed assessment choices
    as an error bar; bodies whose grade holds in fewer than 80% of the draws are marked."""
    r = robust.sort_values("rank", ascending=False)
    unsure = r["p_same_grade"] < 0.8
    fig = go.Figure()
    for flag, colour, label in ((False, "#1f77b4", rank_label), (True, "#d73027", uncertain_label)):
        part = r[unsure == flag]
        if part.empty:
            continue
        fig.add_scatter(
            x=part["rank"], y=part["body"].map(names), mode="markers", name=label, marker={"color": colour, "size": 9},
            error_x={"type": "data", "symmetric": False, "array": part["rank_p95"] - part["rank"],
                     "arrayminus": part["rank"] - part["rank_p05"]},
            customdata=part[["rank_p05", "rank_p95", "p_same_grade"]].to_numpy(),
            hovertemplate="%{y}: %{x} (%{customdata[0]}–%{customdata[1]}), %{customdata[2]:.0%}<extra></extra>")
    fig.update_yaxes(categoryorder="array", categoryarray=r["body"].map(names).tolist())
    fig.update_xaxes(title=rank_label, autorange="reversed", dtick=1 if len(r) <= 40 else None)
    return _layout(fig, title, height=max(300, 22 * len(r) + 100))


def trend_line(trend: pd.DataFrame, names: dict[str, str], title: str, score_label: str = "score") -> go.Figure:
    """Each chosen body's score in every stored year (carried through the crosswalks): one line each."""
    fig = go.Figure()
    for body, rows in trend.groupby("body", sort=True):
        fig.add_trace(go.Scatter(x=rows["year"].astype(str), y=rows["score"].round(2), mode="lines+markers",
                                 name=names.get(str(body), str(body))))
    fig.update_yaxes(title=score_label)
    fig.update_xaxes(type="category")
    return _layout(fig, title, height=360)
