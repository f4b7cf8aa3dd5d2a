"""The scope's child-area choropleth as a tile-free static image with title, legend, north arrow and scale."""

from __future__ import annotations

import geopandas as gpd
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from exports.figures import wrap_parts
from exports.provenance import Provenance
from formats import text_em
from geo.charts import FONT
from geo.layers import class_breaks, class_index, class_labels, legend_entries
from geo.print_map import label_points, ring_paths, scale_bar, true_scale_extent
from queries.areas import children_of
from queries.incidents import NO_FILTERS, Filters, Window, incident_counts_by_child
from texts import text

MAP_WIDTH, MAP_HEIGHT = 1200, 860
MARGIN = {"l": 20, "r": 20, "t": 100, "b": 80}
LABEL_SIZE = 14  # px of an area name on the map


def scope_map_areas(
    engine: Engine, scope_code: str, *, window: Window, filters: Filters = NO_FILTERS
) -> gpd.GeoDataFrame:
    """Child areas (display outlines, EPSG:4326) with their incidents in the window.

    Columns: as queries.areas.children_of, plus incidents and per_10k.
    """
    areas = children_of(engine, scope_code)
    counts = incident_counts_by_child(engine, scope_code, window=window, filters=filters)
    merged = areas.merge(counts[["code", "incidents", "per_10k"]], on="code", how="left")
    merged[["incidents", "per_10k"]] = merged[["incidents", "per_10k"]].fillna(0)
    return merged


def _class_traces(areas: gpd.GeoDataFrame) -> list[go.Scatter]:
    breaks = class_breaks(areas["incidents"])
    index = class_index(areas["incidents"], breaks)
    colors = [color for _, color in legend_entries(breaks)]
    traces = []
    for i, (name, color) in enumerate(zip(class_labels(breaks), colors, strict=True)):
        rgba = f"rgba({color[0]},{color[1]},{color[2]},0.9)"
        members = areas[index == i]
        if len(members):
            xs, ys = ring_paths(members.geometry)
            traces.append(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines",
                    fill="toself",
                    fillcolor=rgba,
                    showlegend=False,
                    line={"color": "#374151", "width": 1},
                    hoverinfo="skip",
                )
            )
        # the legend shows a filled square per class (a filled path's own legend entry is a line)
        traces.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                showlegend=True,
                marker={"symbol": "square", "size": 16, "color": rgba, "line": {"color": "#374151", "width": 1}},
            )
        )
    return traces


def _label_trace(areas: gpd.GeoDataFrame, bounds: tuple[float, float, float, float]) -> go.Scatter:
    """Names of the areas big enough on the map to hold them (small ones would overlap their
    neighbours' names; the hotspots table names every area)."""
    text_px = areas["name"].map(lambda n: LABEL_SIZE * text_em(n, latin=0.6))
    named, points = label_points(areas, bounds, _plot_px(), text_px, LABEL_SIZE)
    return go.Scatter(
        x=points.x,
        y=points.y,
        mode="text",
        text=named["name"],
        showlegend=False,
        hoverinfo="skip",
        textfont={"size": LABEL_SIZE, "color": "#111827"},
    )


def _north_arrow(figure: go.Figure, lang: str) -> None:
    figure.add_annotation(
        xref="paper",
        yref="paper",
        x=0.985,
        y=0.93,
        ax=0,
        ay=55,
        text="",
        showarrow=True,
        arrowhead=2,
        arrowsize=1.6,
        arrowwidth=3,
        arrowcolor="#111827",
    )
    figure.add_annotation(
        xref="paper",
        yref="paper",
        x=0.985,
        y=0.935,
        text=f"<b>{text('north', lang)}</b>",
        showarrow=False,
        yanchor="bottom",
        font={"size": 18, "color": "#111827"},
    )


def _scale_bar(figure: go.Figure, bounds: tuple[float, float, float, float], lang: str) -> None:
    x0, x1, y0, length_km = scale_bar(bounds)
    tick = 0.01 * (bounds[3] - bounds[1])
    style = {"color": "#111827", "width": 3}
    figure.add_shape(type="line", x0=x0, x1=x1, y0=y0, y1=y0, line=style)
    for x in (x0, x1):
        figure.add_shape(type="line", x0=x, x1=x, y0=y0, y1=y0 + tick, line=style)
    figure.add_annotation(
        x=(x0 + x1) / 2,
        y=y0 + tick,
        text=f"{length_km:g} {text('km', lang)}",
        showarrow=False,
        yanchor="bottom",
        font={"size": 14, "color": "#111827"},
    )


def _plot_px() -> tuple[int, int]:
    return MAP_WIDTH - MARGIN["l"] - MARGIN["r"], MAP_HEIGHT - MARGIN["t"] - MARGIN["b"]


def map_title(provenance: Provenance, level: str) -> str:
    return text(f"map_title.{level}", provenance.lang, scope=provenance.scope_title)


def map_figure(areas: gpd.GeoDataFrame, provenance: Provenance) -> go.Figure:
    """A static choropleth of the areas' incidents with everything a printed map needs: title, time
    window, legend, north arrow, scale bar, export time, data source and provenance. Polygons are
    filled plotly traces on a lon/lat plane kept true to scale, so no map tiles are fetched."""
    lang = provenance.lang
    level = str(areas["level"].iloc[0]) if len(areas) else provenance.level
    minx, miny, maxx, maxy = (float(v) for v in areas.total_bounds) if len(areas) else (0.0, 0.0, 1.0, 1.0)
    bounds = true_scale_extent((minx, miny, maxx, maxy), *_plot_px())
    figure = go.Figure([*_class_traces(areas), _label_trace(areas, bounds)])
    figure.update_xaxes(visible=False, range=[bounds[0], bounds[2]])
    figure.update_yaxes(visible=False, range=[bounds[1], bounds[3]])
    _north_arrow(figure, lang)
    _scale_bar(figure, bounds, lang)
    footer = "<br>".join(
        wrap_parts(
            [
                *provenance.stamp_parts(),
                f"{text('exported_at', lang)}: {provenance.exported_text()}",
                f"{text('data_source', lang)}: {provenance.source_text()}",
            ],
            MAP_WIDTH - MARGIN["l"] - MARGIN["r"],
            12,
        )
    )
    figure.add_annotation(
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        yshift=-12,
        yanchor="top",
        xanchor="left",
        text=footer,
        showarrow=False,
        align="left",
        font={"size": 12, "color": "#4b5563"},
    )
    figure.update_layout(
        title={
            "text": map_title(provenance, level),
            "x": 0.01,
            "font": {"size": 24},
            "subtitle": {"text": f"{text('window', lang)}: {provenance.window_text()}", "font": {"size": 16}},
        },
        font={"family": FONT, "size": 14},
        width=MAP_WIDTH,
        height=MAP_HEIGHT,
        margin=MARGIN,
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend={
            "title": {"text": text("legend_incidents", lang)},
            "x": 0.01,
            "y": 0.99,
            "bgcolor": "rgba(255,255,255,0.85)",
            "bordercolor": "#9ca3af",
            "borderwidth": 1,
        },
    )
    return figure
