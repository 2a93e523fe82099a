"""Chart builders of the quality of the assessment (抽查): plotly figures from a sample's readings."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from scoring.method.agreement import agrees
from scoring.method.scheme import natural_key
from scoring.report.charts import _layout


def agreement_grid(readings: pd.DataFrame) -> pd.DataFrame:
    """Obligation × firm: the share of the items read twice that both readings read alike (NaN: none)."""
    read = readings[readings["read"]]
    if read.empty:
        return pd.DataFrame()
    same = agrees(read.rename(columns={"first_outcome": "first"}))
    grid = read.assign(same=same).pivot_table(index="firm", columns="obligation", values="same", aggfunc="mean")
    return grid[sorted(grid.columns, key=natural_key)]


def agreement_heatmap(readings: pd.DataFrame, title: str) -> go.Figure:
    """Obligations × firms coloured by raw agreement (red 0 … green 1), the item count on hover."""
    grid = agreement_grid(readings)
    read = readings[readings["read"]]
    counts = read.pivot_table(index="firm", columns="obligation", values="id", aggfunc="count").reindex(
        index=grid.index, columns=grid.columns) if len(read) else grid
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), zmin=0, zmax=1, colorscale="RdYlGn",
        customdata=counts.to_numpy(), xgap=1, ygap=1,
        hovertemplate="%{y} · %{x}: %{z:.0%} (n = %{customdata})<extra></extra>"))
    fig.update_xaxes(type="category", tickangle=-60)
    return _layout(fig, title, height=max(280, 40 * len(grid) + 160))
