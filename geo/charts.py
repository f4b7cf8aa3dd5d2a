"""Pure plotly figure builders shared by the pages and the exports (DataFrame in, Figure out).

Written first for the dashboard pages; extend it rather than rewriting (pages depend on
incidents_bar, hourly_trend_figure, closed_loop_figure, beds_figure, stock_figure).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
BLUE, RED, AMBER, GREY = "#1d4ed8", "#dc2626", "#f59e0b", "#9ca3af"


def _style(figure: go.Figure, title: str, height: int = 360) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 18}},
        font={"family": FONT, "size": 14}, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        plot_bgcolor="white", paper_bgcolor="white", showlegend=False,
    )
    figure.update_xaxes(gridcolor="#e5e7eb")
    figure.update_yaxes(gridcolor="#e5e7eb")
    return figure


def incidents_bar(counts: pd.DataFrame, label_column: str, title: str, labels: dict | None = None) -> go.Figure:
    """Horizontal bars of `incidents` per label, the largest on top."""
    frame = counts.sort_values("incidents")
    names = frame[label_column].map(lambda c: (labels or {}).get(c, c))
    figure = go.Figure(go.Bar(x=frame["incidents"], y=names, orientation="h", marker_color=BLUE,
                              text=frame["incidents"].map("{:,}".format), textposition="outside",
                              cliponaxis=False))
    figure.update_xaxes(range=[0, float(frame["incidents"].max() or 1) * 1.25])
    return _style(figure, title, height=max(260, 28 * len(frame) + 80))


def hourly_trend_figure(hourly: pd.DataFrame, title: str) -> go.Figure:
    """Incidents per hour (hour_start already in local time)."""
    figure = go.Figure(go.Scatter(x=hourly["hour_start"], y=hourly["incidents"], mode="lines+markers",
                                  line={"color": BLUE, "width": 3}, marker={"size": 5}, fill="tozeroy",
                                  fillcolor="rgba(29,78,216,0.12)"))
    return _style(figure, title)


def closed_loop_figure(loop: pd.DataFrame, title: str, rate_label: str) -> go.Figure:
    """Disposal rate per child area, lowest first (the areas needing attention)."""
    frame = loop.dropna(subset=["disposal_rate"]).sort_values("disposal_rate", ascending=False)
    colors = [RED if r < 0.95 else AMBER if r < 0.99 else BLUE for r in frame["disposal_rate"]]
    figure = go.Figure(go.Bar(x=frame["disposal_rate"] * 100, y=frame["name"], orientation="h",
                              marker_color=colors, text=(frame["disposal_rate"] * 100).map("{:.1f}%".format),
                              textposition="outside", cliponaxis=False))
    figure.update_xaxes(title=rate_label, range=[min(90, float((frame["disposal_rate"] * 100).min() or 90)), 100.5])
    return _style(figure, title, height=max(260, 26 * len(frame) + 80))


def beds_figure(beds: pd.DataFrame, title: str, labels: dict, occupied: str, available: str) -> go.Figure:
    """Stacked bars of occupied and available beds per bed type."""
    names = beds["bed_type"].map(labels)
    figure = go.Figure([
        go.Bar(name=occupied, x=names, y=beds["occupied"], marker_color=RED),
        go.Bar(name=available, x=names, y=beds["available"], marker_color="#16a34a"),
    ])
    figure.update_layout(barmode="stack", showlegend=True)
    figure = _style(figure, title)
    figure.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.1, "x": 0.6})
    return figure


def stock_figure(items: pd.DataFrame, title: str, days_label: str) -> go.Figure:
    """Days of supply per item; items below their minimum in red."""
    frame = items.sort_values("days_of_supply")
    colors = [RED if b else BLUE for b in frame["below_min"]]
    figure = go.Figure(go.Bar(x=frame["days_of_supply"], y=frame["item"], orientation="h", marker_color=colors,
                              text=frame["days_of_supply"].map("{:.1f}".format), textposition="outside",
                              cliponaxis=False))
    figure.update_xaxes(title=days_label)
    return _style(figure, title, height=max(300, 26 * len(frame) + 80))
