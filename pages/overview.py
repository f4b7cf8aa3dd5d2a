"""Overview (总览): KPI tiles, the drill-down map and the busiest child areas of the scope."""

from __future__ import annotations

import streamlit as st

from clock import recent_since
from geo.resources import assembly_summary, bed_summary, items_below_minimum
from settings import get_settings
from ui import data
from ui.child_table import busiest_children
from ui.facility_panel import facility_details
from ui.frame import current_view, link_to
from ui.i18n import in_view_language, t
from ui.live import freshness_badge, last_good
from ui.map import scope_map
from ui.session import recheck
from ui.state import ViewState, replace_window
from ui.widgets import fmt_int, fmt_num, fmt_pct, kpi_row


def _kpi_figures(state: ViewState) -> dict:
    """Everything the KPI tiles show, fetched together so a failure keeps all of it."""
    window, filters = state.time_window(), state.filters()
    return {
        "totals": data.totals(state.scope, window, filters),
        "today": data.totals(state.scope, replace_window(state, "today").time_window(), filters),
        "beds": bed_summary(data.hospitals(state.scope)),
        "places": assembly_summary(data.assembly_points(state.scope), data.scope(state.scope).population),
        "below_min": items_below_minimum(data.stock(state.scope)),
    }


def _map_figures(state: ViewState) -> dict:
    return {
        "counts": data.counts_by_child(state.scope, state.time_window(), state.filters()),
        "recent": data.recent_points(state.scope, recent_since()) if "recent" in state.layers else None,
    }


def _kpis(state: ViewState, figures: dict) -> None:
    totals, today, beds, places = figures["totals"], figures["today"], figures["beds"], figures["places"]
    kpi_row([
        ("incidents_today", fmt_int(today["incidents"]), None),
        ("incidents_window", fmt_int(totals["incidents"]), t(state.window)),
        ("open", fmt_int(totals["open"]), None),
        ("overdue_now", fmt_int(totals["overdue"]), t("overdue_help")),
        ("held", fmt_int(totals["held"]), t("held_help")),
        ("disposal_rate", fmt_pct(totals["disposal_rate"]), None),
    ])
    if totals["overdue"]:  # the items behind the figure are listed on the Incidents page
        link_to("incidents", t("view_overdue", count=fmt_int(totals["overdue"])), state, icon=":material/schedule:")
    kpi_row([
        ("beds_available", fmt_int(beds["beds_available"]), None),
        ("bed_occupancy", fmt_pct(beds["occupancy"]), None),
        ("assembly_per_100", fmt_num(places["places_per_100"]), None),
        ("items_below_min", fmt_int(figures["below_min"]), None),
        ("median_hours", fmt_num(totals["median_hours"]), None),
    ])


@st.fragment(run_every=get_settings().live_refresh_seconds)
@in_view_language
def live_figures(state: ViewState, /) -> None:
    """The KPI tiles, refreshed in place every few seconds without rerunning the page."""
    recheck(state.scope)  # a disabled viewer's page loses its figures at this refresh
    figures, stale_since = last_good(f"overview-kpis-{state}", lambda: _kpi_figures(state))
    freshness_badge(stale_since)
    _kpis(state, figures)


# The map and ranking refresh less often: each refresh re-sends the map, and a click that lands
# while the map is being redrawn can be lost.
@st.fragment(run_every=get_settings().map_refresh_seconds)
@in_view_language
def live_map(state: ViewState, /) -> None:
    """The choropleth with recent incidents and the busiest child areas, refreshed in place."""
    recheck(state.scope)
    figures, stale_since = last_good(f"overview-map-{state}", lambda: _map_figures(state))
    if stale_since is not None:
        freshness_badge(stale_since)
    left, right = st.columns([3, 1])
    with left:
        picked = scope_map(state, figures["counts"], recent=figures["recent"])
    with right:
        if picked is None or not facility_details(picked):
            st.caption(t("facility_pick_hint"))
        busiest_children(state, figures["counts"])


state = current_view()
live_figures(state)
live_map(state)
