"""Pure plotly figure builders shared by the pages and the exports (DataFrame in, Figure out).

Written first for the dashboard pages; extend it rather than rewriting (pages depend on
incidents_bar, hourly_trend_figure, closed_loop_figure, beds_figure, stock_figure).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import plotly.graph_objects as go

from formats import text_em

FONT = "Noto Sans CJK SC, Noto Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
BLUE, RED, AMBER, GREY = "#1d4ed8", "#dc2626", "#f59e0b", "#9ca3af"


def _label_width(labels: Iterable[str]) -> int:
    """Pixels the widest label needs at 14 px (CJK about one em, Latin a little over half)."""
    return round(max((14 * text_em(t, latin=8 / 14) for t in labels), default=0))


def _style(figure: go.Figure, title: str, height: int = 360, *, left_labels: Iterable[str] | None = None,
           bottom: int = 30) -> go.Figure:
    """The house style; margins are reserved for the axis labels instead of left to plotly's
    automargin, which measures text once fonts have loaded: a static export taken earlier would
    cut labels off (bottom: 30 px holds one line of tick labels, 60 adds an axis title)."""
    left = _label_width(left_labels) + 16 if left_labels is not None else 56
    figure.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 18}},
        font={"family": FONT, "size": 14}, height=height, margin={"l": left, "r": 10, "t": 50, "b": bottom},
        plot_bgcolor="white", paper_bgcolor="white", showlegend=False,
    )
    figure.update_xaxes(gridcolor="#e5e7eb")
    figure.update_yaxes(gridcolor="#e5e7eb")
    return figure


def incidents_bar(counts: pd.DataFrame, label_column: str, title: str,
                  labels: Mapping[str, str] | None = None) -> go.Figure:
    """Horizontal bars of `incidents` per label, the largest on top."""
    frame = counts.sort_values("incidents")
    names = frame[label_column].map(lambda c: (labels or {}).get(c, c))
    figure = go.Figure(go.Bar(x=frame["incidents"], y=names, orientation="h", marker_color=BLUE,
                              text=frame["incidents"].map("{:,}".format), textposition="outside",
                              cliponaxis=False))
    top = float(frame["incidents"].max()) if len(frame) else 0.0
    figure.update_xaxes(range=[0, (top or 1) * 1.25])
    return _style(figure, title, height=max(260, 28 * len(frame) + 80), left_labels=names)


# Tick steps of the hourly trend, in hours: whole hours, then whole days, then a week.
HOUR_STEPS = (1, 2, 3, 6, 12, 24, 48, 168)
MAX_TICKS = 12
HOUR_MS = 3_600_000


def hour_step(hours: float, max_ticks: int = MAX_TICKS) -> int:
    """The smallest tick step (hours) that puts at most max_ticks ticks on a span of `hours`."""
    return next((step for step in HOUR_STEPS if hours / step <= max_ticks), HOUR_STEPS[-1])


def hourly_trend_figure(hourly: pd.DataFrame, title: str) -> go.Figure:
    """Incidents per hour (hour_start already in local time)."""
    # markers help read a day or two; over a week or a month they only blur the line
    mode = "lines+markers" if len(hourly) <= 72 else "lines"
    figure = go.Figure(go.Scatter(x=hourly["hour_start"], y=hourly["incidents"], mode=mode,
                                  line={"color": BLUE, "width": 3 if mode != "lines" else 2},
                                  marker={"size": 5}, fill="tozeroy",
                                  fillcolor="rgba(29,78,216,0.12)"))
    # ticks on whole hours from a local midnight (plotly's own pick puts 30-minute ticks on hourly data);
    # numeric dates: plotly's default ticks spell months in English ("Nov 22")
    start = pd.Timestamp(hourly["hour_start"].min()) if len(hourly) else pd.Timestamp("2000-01-01")
    step = hour_step(len(hourly))
    figure.update_xaxes(tickmode="linear", tick0=start.normalize().strftime("%Y-%m-%d %H:%M"), dtick=step * HOUR_MS,
                        tickformat="%m-%d" if step >= 24 else "%H:%M<br>%m-%d")
    return _style(figure, title, bottom=50)  # two-line tick labels


def closed_loop_figure(loop: pd.DataFrame, title: str, rate_label: str) -> go.Figure:
    """Disposal rate per child area, lowest first (the areas needing attention)."""
    frame = loop.dropna(subset=["disposal_rate"]).sort_values("disposal_rate", ascending=False)
    colors = [RED if r < 0.95 else AMBER if r < 0.99 else BLUE for r in frame["disposal_rate"]]
    # labels inside the bar where it has room, past its end where it has not (a low rate)
    figure = go.Figure(go.Bar(x=frame["disposal_rate"] * 100, y=frame["name"], orientation="h",
                              marker_color=colors, text=(frame["disposal_rate"] * 100).map("{:.1f}%".format),
                              textposition="auto", insidetextanchor="end", cliponaxis=False))
    # From 0%: a leader reads a bar's length as the rate, and bars cut at 90% made 96% look like half of
    # 99%. Close rates stay apart through the printed values and the colours (below 95% red, 99% amber).
    figure.update_xaxes(title=rate_label, range=[0, 100], ticksuffix="%")
    return _style(figure, title, height=max(260, 26 * len(frame) + 80), left_labels=frame["name"], bottom=60)


def beds_figure(beds: pd.DataFrame, title: str, labels: Mapping[str, str], occupied: str, available: str) -> go.Figure:
    """Stacked bars of occupied and available beds per bed type."""
    names = beds["bed_type"].map(labels)
    figure = go.Figure([
        go.Bar(name=occupied, x=names, y=beds["occupied"], marker_color=RED),
        go.Bar(name=available, x=names, y=beds["available"], marker_color="#16a34a"),
    ])
    figure.update_layout(barmode="stack", showlegend=True)
    figure = _style(figure, title, bottom=40)  # the bed type names under the bars
    figure.update_layout(showlegend=True, legend={"orientation": "h", "y": 1.1, "x": 0.6})
    return figure


def _shortage_colours(items: pd.DataFrame) -> list[str]:
    """Red for an item whose total is below its summed minimum, amber when only some depots are short."""
    return [RED if total else AMBER if depots else BLUE
            for total, depots in zip(items["below_min"], items["depots_below_min"] > 0, strict=True)]


def stock_figure(items: pd.DataFrame, title: str, days_label: str) -> go.Figure:
    """Days of supply per item: red when the total is below its minimum, amber when some depot is."""
    frame = items.sort_values("days_of_supply")
    colors = _shortage_colours(frame)
    figure = go.Figure(go.Bar(x=frame["days_of_supply"], y=frame["item"], orientation="h", marker_color=colors,
                              text=frame["days_of_supply"].map("{:.1f}".format), textposition="outside",
                              cliponaxis=False))
    figure.update_xaxes(title=days_label)
    return _style(figure, title, height=max(300, 26 * len(frame) + 80), left_labels=frame["item"], bottom=60)


def stock_vs_minimum_figure(items: pd.DataFrame, title: str, percent_label: str,
                            note: str | None = None) -> go.Figure:
    """Stock of each item summed over the depots as a percentage of the summed minimum levels
    (100% line drawn): red below 100%, amber when some depot is below its own minimum.
    `items` as geo.resources.stock_by_item; `note` explains the colours under the title."""
    frame = items.assign(percent=items["quantity"] / items["min_level"].where(items["min_level"] > 0) * 100)
    frame = frame.dropna(subset=["percent"]).sort_values("percent", ascending=False)
    colors = _shortage_colours(frame)
    figure = go.Figure(go.Bar(x=frame["percent"], y=frame["item"], orientation="h", marker_color=colors,
                              text=frame["percent"].map("{:.0f}%".format), textposition="outside",
                              cliponaxis=False))
    figure.add_vline(x=100, line={"color": GREY, "dash": "dash", "width": 2})
    top = float(frame["percent"].max()) if len(frame) else 100.0
    figure.update_xaxes(title=percent_label, range=[0, max(top, 100.0) * 1.2])
    figure = _style(figure, title, height=max(300, 26 * len(frame) + 80), left_labels=frame["item"], bottom=60)
    if note:
        figure.update_layout(title={"subtitle": {"text": note, "font": {"size": 12}}}, margin={"t": 70})
    return figure
