"""Resources (应急资源): assembly points, hospital beds and supply depots of the scope."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import charts
from geo.resources import (
    assembly_by_kind,
    assembly_summary,
    bed_summary,
    beds_by_type,
    stock_by_item,
)
from ui import data
from ui.frame import current_view
from ui.i18n import t, term
from ui.state import ViewState
from ui.widgets import ONE_DECIMAL, PERCENT, fmt_int, fmt_num, fmt_pct, freshness, kpi_row, local_time_text, table

SHORT, SOME_DEPOTS_SHORT = "#fee2e2", "#fef3c7"  # the chart's red and amber, as row backgrounds


def _assembly(state: ViewState, population: int) -> None:
    st.subheader(t("assembly_points"))
    points = data.assembly_points(state.scope)
    summary = assembly_summary(points, population)
    kpi_row([
        ("assembly_points", fmt_int(summary["points"]), None),
        ("capacity", fmt_int(summary["capacity_open"]), None),
        ("residents", fmt_int(population), None),
        ("places_per_100", fmt_num(summary["places_per_100"]), None),
    ])
    kinds = assembly_by_kind(points)
    left, right = st.columns([1, 2])
    table(left, pd.DataFrame({t("kind"): kinds["kind"].map(lambda k: term("assembly_kind", k)),
                              t("points"): kinds["points"], t("capacity"): kinds["capacity"]}))
    table(right, pd.DataFrame({
        t("name"): points["name"], t("kind"): points["kind"].map(lambda k: term("assembly_kind", k)),
        t("capacity"): points["capacity"], t("status"): points["status"].map(lambda s: term("facility_status", s)),
        t("last_updated"): points["last_updated"].map(local_time_text), t("stale"): freshness(points),
    }), height=300)


def _hospitals(state: ViewState) -> None:
    st.subheader(t("hospitals"))
    hospitals = data.hospitals(state.scope)
    summary = bed_summary(hospitals)
    kpi_row([
        ("beds_available", fmt_int(summary["beds_available"]), None),
        ("bed_occupancy", fmt_pct(summary["occupancy"]), None),
        ("convertible", fmt_int(summary["convertible"]), None),
        ("icu", fmt_int(summary["icu_available"]), t("available")),
    ])
    beds = beds_by_type(hospitals)
    labels = {b: term("bed_type", b) for b in beds["bed_type"]}
    left, right = st.columns([1, 2])
    left.plotly_chart(charts.beds_figure(beds, t("beds"), labels, t("occupied"), t("available")),
                      width="stretch", key="chart-beds")
    table(right, pd.DataFrame({
        t("name"): hospitals["name"], t("grade"): hospitals["grade"], t("total"): hospitals["beds_total"],
        t("available"): hospitals["beds_available"], t("occupancy"): hospitals["occupancy"] * 100,
        t("icu"): hospitals["icu_total"] - hospitals["icu_occupied"],
        t("convertible"): hospitals["convertible_beds"],
        t("last_updated"): hospitals["last_updated"].map(local_time_text), t("stale"): freshness(hospitals),
    }), height=340, formats={t("occupancy"): PERCENT})


def _stock_table(items: pd.DataFrame) -> pd.DataFrame:
    """Per item: the scope's totals as numbers (sorted as numbers), its own shortfall, the depots short."""
    return pd.DataFrame({
        t("item"): items["item"], t("category"): items["category"], t("quantity"): items["quantity"],
        t("min_level"): items["min_level"], t("unit"): items["unit"], t("days_of_supply"): items["days_of_supply"],
        t("below_min"): items["below_min"].map(lambda short: "⚠" if short else ""),
        t("depots_below_min"): items["depots_below"].map(t("list_separator").join),
    })


def _supplies(state: ViewState, population: int) -> None:
    st.subheader(t("depots"))
    stock = data.stock(state.scope)
    if stock.empty:
        st.info(t("no_data"))
        return
    items = stock_by_item(stock, population)
    left, right = st.columns([1, 1])
    left.plotly_chart(charts.stock_figure(items, t("days_of_supply"), t("days_of_supply")),
                      width="stretch", key="chart-stock")
    right.caption(t("stock_colours"))
    table(right, _stock_table(items), height=440, formats={t("days_of_supply"): ONE_DECIMAL},
          row_colours=[SHORT if total else SOME_DEPOTS_SHORT if depots else ""
                       for total, depots in zip(items["below_min"], items["depots_below_min"] > 0, strict=True)])
    depots = data.depots(state.scope)
    st.dataframe(pd.DataFrame({t("depots"): depots["name"], t("last_updated"): depots["last_updated"].map(
        local_time_text), t("stale"): freshness(depots)}), hide_index=True, width="stretch")


state = current_view()
population = data.scope(state.scope).population
_assembly(state, population)
_hospitals(state)
_supplies(state, population)
