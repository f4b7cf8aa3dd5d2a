"""The figures of a briefing pack, read once from the query layer, and its charts with their data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.engine import Engine

from clock import to_local
from exports.figures import render, render_many, with_provenance
from exports.provenance import ExportView, Provenance, provenance_for
from exports.static_map import map_figure, scope_map_areas
from formats import fmt_int, fmt_num, fmt_pct
from geo import charts
from geo.resources import (
    assembly_by_kind,
    assembly_summary,
    bed_summary,
    beds_by_type,
    items_below_minimum,
    stock_by_item,
)
from queries.areas import scope_of
from queries.facilities import assembly_points_in_scope, hospitals_in_scope, stock_in_scope
from queries.incidents import (
    closed_loop_by_child,
    hourly_counts,
    incident_counts_by,
    incident_totals,
)
from texts import term, text

HOTSPOTS = 10
LOOP_BARS = 20  # a printed bar chart stays readable up to about this many bars
# Pixel size of each chart image: "half" fills half a landscape page, "full" its width.
SLOT_SIZES = {"half": (640, 660), "full": (1300, 620), "map": (1200, 860)}
SINGLE_WIDTH = 1000  # pixels of a single chart export (a readable WeChat / slide image)
# A table column is labelled by the catalogue key of its name, but for the count of incidents:
# "incidents" is the name of the Incidents page.
COLUMN_KEYS = {"incidents": "incidents_total"}


@dataclass
class BriefingData:
    """Everything one pack shows, read from the query layer once."""

    provenance: Provenance
    population: int
    totals: dict
    counts: dict[str, pd.DataFrame]  # category / source / status -> counts
    hourly: pd.DataFrame  # hour_start in local time, incidents
    loop: pd.DataFrame  # closed_loop_by_child
    areas: gpd.GeoDataFrame  # children with incidents (map)
    beds: dict
    beds_by_type: pd.DataFrame
    assembly: dict
    assembly_kinds: pd.DataFrame
    stock: pd.DataFrame  # stock lines
    stock_items: pd.DataFrame  # stock_by_item


@dataclass(frozen=True)
class Chart:
    """One chart of the pack (and of the Briefing page): figure, data table, slot size."""

    key: str
    title: str
    figure: go.Figure
    table: pd.DataFrame
    slot: str = "half"


def collect(engine: Engine, view: ExportView) -> BriefingData:
    """Read every figure of the pack for the view's scope, window and filters."""
    provenance = provenance_for(engine, view)
    scope_code, window, filters = view.scope_code, view.window, view.filters
    population = scope_of(engine, scope_code).population
    hourly = hourly_counts(engine, scope_code, window=window, filters=filters)
    hourly["hour_start"] = hourly["hour_start"].map(lambda h: to_local(h).replace(tzinfo=None))
    hospitals = hospitals_in_scope(engine, scope_code)
    points = assembly_points_in_scope(engine, scope_code)
    stock = stock_in_scope(engine, scope_code)
    return BriefingData(
        provenance=provenance,
        population=population,
        totals=incident_totals(engine, scope_code, window=window, filters=filters),
        counts={
            d: incident_counts_by(engine, scope_code, d, window=window, filters=filters)
            for d in ("category", "source", "status")
        },
        hourly=hourly,
        loop=closed_loop_by_child(engine, scope_code, window=window, filters=filters),
        areas=scope_map_areas(engine, scope_code, window=window, filters=filters),
        beds=bed_summary(hospitals),
        beds_by_type=beds_by_type(hospitals),
        assembly=assembly_summary(points, population),
        assembly_kinds=assembly_by_kind(points),
        stock=stock,
        stock_items=stock_by_item(stock, population),
    )


def key_figures(data: BriefingData) -> list[tuple[str, str]]:
    """(label, value) of the headline figures, formatted as printed."""
    totals, lang = data.totals, data.provenance.lang
    below = items_below_minimum(data.stock)
    return [
        (text("incidents_total", lang), fmt_int(totals["incidents"])),
        (text("open", lang), fmt_int(totals["open"])),
        (text("overdue_now", lang), fmt_int(totals["overdue"])),  # the live backlog past due, any date
        (text("held", lang), fmt_int(totals["held"])),  # parked or escalated: counted apart, as on the wall
        (text("disposal_rate", lang), fmt_pct(totals["disposal_rate"])),
        (text("on_time_rate", lang), fmt_pct(totals["on_time_rate"])),
        (text("median_hours", lang), fmt_num(totals["median_hours"])),
        (text("beds_available", lang), fmt_int(data.beds["beds_available"])),
        (text("bed_occupancy", lang), fmt_pct(data.beds["occupancy"])),
        (text("assembly_capacity", lang), fmt_int(data.assembly["capacity_open"])),
        (text("items_below_min", lang), fmt_int(below)),
    ]



def resource_summary(data: BriefingData) -> list[str]:
    """One line each for beds, assembly places and stock: the text of the resources page."""
    lang, beds, places = data.provenance.lang, data.beds, data.assembly
    below = items_below_minimum(data.stock)
    return [
        text(
            "summary_beds",
            lang,
            hospitals=beds["hospitals"],
            total=fmt_int(beds["beds_total"]),
            available=fmt_int(beds["beds_available"]),
            occupancy=fmt_pct(beds["occupancy"]),
            icu=fmt_int(beds["icu_available"]),
            convertible=fmt_int(beds["convertible"]),
        ),
        text(
            "summary_assembly",
            lang,
            points=places["points"],
            open=places["open_points"],
            capacity=fmt_int(places["capacity_open"]),
            per100=fmt_num(places["places_per_100"]),
        ),
        text("summary_stock", lang, lines=len(data.stock), below=below),
    ]

def column_label(column: str, lang: str) -> str:
    """The printed label of a table column named by its catalogue key."""
    return text(COLUMN_KEYS.get(column, column), lang)


def _labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    return frame.rename(columns=lambda c: column_label(c, lang))


def _vocab_labels(vocabulary: str, codes, lang: str) -> dict:
    return {c: term(vocabulary, c, lang) for c in codes}


def _count_table(data: BriefingData, dimension: str) -> pd.DataFrame:
    lang, counts = data.provenance.lang, data.counts[dimension]
    return pd.DataFrame(
        {
            text(dimension, lang): counts[dimension].map(lambda c: term(dimension, c, lang)),
            text("incidents_total", lang): counts["incidents"],
        }
    )


def incident_charts(data: BriefingData) -> list[Chart]:
    """Incidents by category, source and status, hourly trend and closed loop by child area."""
    lang, charts_ = data.provenance.lang, []
    for dimension in ("category", "source", "status"):
        counts, title = data.counts[dimension], text(f"by_{dimension}", lang)
        figure = charts.incidents_bar(counts, dimension, title, _vocab_labels(dimension, counts[dimension], lang))
        charts_.append(Chart(f"by_{dimension}", title, figure, _count_table(data, dimension)))
    title = text("hourly_trend", lang)
    charts_.append(
        Chart(
            "hourly_trend",
            title,
            charts.hourly_trend_figure(data.hourly, title),
            _labelled(data.hourly, lang),
            "full",
        )
    )
    if len(data.loop):
        rated = data.loop.dropna(subset=["disposal_rate"])
        shown = rated.nsmallest(LOOP_BARS, "disposal_rate") if len(rated) > LOOP_BARS else rated
        title = text("closed_loop", lang) if len(shown) == len(rated) else text("closed_loop_worst", lang, n=len(shown))
        figure = charts.closed_loop_figure(shown, title, text("disposal_rate", lang))
        charts_.append(Chart("closed_loop", title, figure, loop_table(data)))
    return charts_


def loop_table(data: BriefingData) -> pd.DataFrame:
    lang, loop = data.provenance.lang, data.loop
    columns = ["code", "name", "incidents", "open", "closed", "voided", "disposal_rate", "on_time_rate", "median_hours"]
    return _labelled(loop[columns], lang)


def resource_charts(data: BriefingData) -> list[Chart]:
    """Beds by type and stock against its minimum level."""
    lang, result = data.provenance.lang, []
    beds = data.beds_by_type
    if data.beds["hospitals"]:  # no hospital in the scope: the summary line says so, no empty chart
        title = text("beds_by_type", lang)
        figure = charts.beds_figure(
            beds,
            title,
            _vocab_labels("bed_type", beds["bed_type"], lang),
            text("occupied", lang),
            text("available", lang),
        )
        table = beds.assign(bed_type=beds["bed_type"].map(lambda b: term("bed_type", b, lang)))
        result.append(
            Chart("beds_by_type", title, figure, _labelled(table, lang))
        )
    if len(data.stock_items):
        title = text("stock_vs_min", lang)
        figure = charts.stock_vs_minimum_figure(
            data.stock_items, title, text("pct_of_min", lang), text("stock_colours", lang)
        )
        items = data.stock_items[["item", "category", "unit", "quantity", "min_level", "below_min"]]
        # a yes/no in words: CSV would print True/False, in English whatever the pack's language
        items = items.assign(below_min=items["below_min"].map({True: text("yes", lang), False: text("no", lang)}))
        result.append(
            Chart("stock_vs_min", title, figure, _labelled(items, lang))
        )
    return result


def map_chart(data: BriefingData) -> Chart:
    lang = data.provenance.lang
    table = pd.DataFrame(data.areas[["code", "name", "population", "incidents", "per_10k"]])
    figure = map_figure(data.areas, data.provenance)
    return Chart(
        "map", figure.layout.title.text, figure, _labelled(table, lang), "map"
    )


def hotspots(data: BriefingData, n: int = HOTSPOTS) -> pd.DataFrame:
    """The n child areas with most incidents. Columns: rank, name, incidents, per_10k, open,
    disposal_rate, population (codes as column names)."""
    areas = pd.DataFrame(data.areas[["code", "name", "population", "incidents", "per_10k"]])
    loop = (
        data.loop[["code", "open", "disposal_rate"]]
        if len(data.loop)
        else pd.DataFrame(columns=["code", "open", "disposal_rate"])
    )
    top = areas.merge(loop, on="code", how="left").sort_values(["incidents", "code"], ascending=[False, True])
    top = top.head(n).reset_index(drop=True)
    top.insert(0, "rank", range(1, len(top) + 1))
    return top[["rank", "name", "incidents", "per_10k", "open", "disposal_rate", "population"]]


def hotspot_rows(top: pd.DataFrame, lang: str) -> list[list[str]]:
    """The hotspots table as text: a header row, then one row per area (PDF and PPTX alike)."""
    columns = ["rank", "name", "incidents", "per_10k", "open", "disposal_rate", "population"]
    rows = [[column_label(c, lang) for c in columns]]
    rows += [[str(r.rank), str(r.name), fmt_int(r.incidents), fmt_num(r.per_10k), fmt_int(r.open),
              fmt_pct(r.disposal_rate), fmt_int(r.population)] for r in top.itertuples()]
    return rows


def below_minimum(data: BriefingData) -> pd.DataFrame:
    """Stock lines below their depot's minimum. Columns: depot_name, item, quantity, min_level, unit."""
    lines = data.stock[data.stock["below_min"]] if len(data.stock) else data.stock
    return lines[["depot_name", "item", "quantity", "min_level", "unit"]].sort_values(["item", "depot_name"])


def render_charts(charts_: list[Chart], on_each: Callable[[int], object] | None = None) -> dict[str, bytes]:
    """PNG of every chart at its slot size (the charts' own figures are left as they are)."""
    figures = [
        go.Figure(chart.figure).update_layout(width=SLOT_SIZES[chart.slot][0], height=SLOT_SIZES[chart.slot][1])
        for chart in charts_
    ]
    pngs = render_many(figures, "png", scale=1.5, on_each=on_each)
    return {chart.key: png for chart, png in zip(charts_, pngs, strict=True)}


def chart_file(chart: Chart, provenance: Provenance, fmt: str) -> bytes:
    """One chart alone as a PNG/SVG/PDF file, stamped with its provenance (the map carries its own)."""
    if chart.slot == "map":
        return render(chart.figure, fmt, scale=2 if fmt == "png" else 1)
    figure = with_provenance(chart.figure, provenance, width=SINGLE_WIDTH)
    return render(figure, fmt, width=SINGLE_WIDTH, height=figure.layout.height, scale=2 if fmt == "png" else 1)
