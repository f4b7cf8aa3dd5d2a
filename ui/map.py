"""The scope map: choropleth of the scope's children, facility layers, click to drill down."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo import layers as build
from settings import get_settings
from ui import data
from ui.facility_panel import FacilityPick
from ui.i18n import t, term
from ui.state import ViewState, set_view, url_widget_key
from ui.widgets import fmt_int, fmt_pct, legend, local_time_text

MAP_HEIGHT = 620
FACILITY_LAYERS = (build.ASSEMBLY_LAYER, build.DEPOTS_LAYER, build.HOSPITALS_LAYER)


def _area_tips(frame: pd.DataFrame) -> pd.Series:
    return frame["name"] + "\n" + t("incidents_total") + ": " + frame["incidents"].map(fmt_int) + \
        "\n" + t("per_10k") + ": " + frame["per_10k"].round(1).astype(str)


def _facility_layers(state: ViewState) -> list:
    result = []
    if "assembly" in state.layers:
        points = data.assembly_points(state.scope)
        tips = points["name"] + "\n" + points["kind"].map(lambda k: term("assembly_kind", k)) + " · " + \
            t("capacity") + " " + points["capacity"].map(fmt_int) + "\n" + \
            points["status"].map(lambda s: term("facility_status", s))
        result.append(build.assembly_layer(points, tips, build.scoped_id(build.ASSEMBLY_LAYER, state.scope)))
    if "depots" in state.layers:
        depots = data.depots(state.scope)
        result.append(build.depot_layer(depots, depots["name"] + "\n" + t("last_updated") + " " +
                                        depots["last_updated"].map(local_time_text),
                                        build.scoped_id(build.DEPOTS_LAYER, state.scope)))
    if "hospitals" in state.layers:
        hospitals = data.hospitals(state.scope)
        tips = hospitals["name"] + " (" + hospitals["grade"] + ")\n" + t("beds_available") + " " + \
            hospitals["beds_available"].map(fmt_int) + " · " + t("occupancy") + " " + \
            hospitals["occupancy"].map(fmt_pct)
        result.append(build.hospital_layer(hospitals, tips, build.scoped_id(build.HOSPITALS_LAYER, state.scope)))
    return result


LAYER_LABELS = {"grids": "layer_grids", "assembly": "layer_assembly", "depots": "layer_depots",
                "hospitals": "layer_hospitals", "recent": "layer_recent"}


def layer_picker(state: ViewState) -> ViewState:
    """Toggle buttons for the map layers; the choice is kept in the URL."""
    chosen = st.pills(t("layers"), list(LAYER_LABELS), selection_mode="multi", default=list(state.layers),
                      format_func=lambda k: t(LAYER_LABELS[k]), key=url_widget_key("layer-picker", state.layers))
    picked = tuple(k for k in LAYER_LABELS if k in (chosen or []))  # in the table's order, not the clicks'
    if picked != state.layers:
        state = set_view(state, layers=picked)
    return state


def scope_map(state: ViewState, counts: pd.DataFrame, *, key: str = "scope-map", recent=None) -> FacilityPick | None:
    """Draw the map for the scope, drill into the child area the user clicks; return the facility clicked."""
    # One map element for every scope (a stable key): the browser keeps its WebGL context and
    # compiled shaders, and moves the view when the scope's initial view changes. A new element
    # per scope cost a ~1 s main-thread stall on each drill-down in software WebGL. Layer ids name
    # the scope, so the browser drops the parent map's selection instead of re-applying its index
    # to a child area or another facility.
    areas_id = build.scoped_id(build.AREAS_LAYER, state.scope)
    # A click reruns with the map's selection already in the session: drill down before this
    # scope's map is rebuilt and re-sent only to be replaced.
    picked = _picked(st.session_state.get(key))
    if picked is not None and picked[0] == areas_id:
        drill(state, picked[1], set(data.children(state.scope)["code"]))
    state = layer_picker(state)
    children = data.children(state.scope).merge(counts[["code", "incidents", "per_10k"]], on="code", how="left")
    children[["incidents", "per_10k"]] = children[["incidents", "per_10k"]].fillna(0)
    breaks = build.class_breaks(children["incidents"])
    map_layers = [build.choropleth_layer(children, "incidents", _area_tips(children), breaks, areas_id)]
    if "grids" in state.layers and len(state.scope) >= 6 and state.scope != get_settings().city_code:
        map_layers.append(build.outline_layer(data.areas_in(state.scope, "grid")))
    map_layers += _facility_layers(state)
    map_layers.append(build.label_layer(children))  # on top, and not pickable: a click on a name drills
    if recent is not None and len(recent):
        tips = recent["category"].map(lambda c: term("category", c)) + "\n" + \
            recent["reported_at"].map(local_time_text)
        map_layers.append(build.recent_layer(recent, tips))
    # The view depends on the scope only: same initial view -> the browser keeps the user's pan/zoom.
    view = build.view_for_bounds(tuple(children.total_bounds), height_px=MAP_HEIGHT)
    deck = build.deck(map_layers, view, get_settings().basemap_tile_url)
    st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key=key, height=MAP_HEIGHT)
    legend(build.legend_entries(breaks), "legend_incidents")
    st.caption(t("click_to_drill"))
    return _facility_pick(state, picked)


def _picked(event) -> tuple[str, dict] | None:
    """(layer id, object) of the map's single-object selection, or None."""
    objects = (event or {}).get("selection", {}).get("objects") or {}
    return next(((layer_id, found[0]) for layer_id, found in objects.items() if found), None)


def _facility_pick(state: ViewState, picked: tuple[str, dict] | None) -> FacilityPick | None:
    if picked is None or not picked[0].endswith(f"-{state.scope}"):
        return None
    layer, code = build.layer_of(picked[0]), picked[1].get("code")
    return FacilityPick(state.scope, layer, code) if layer in FACILITY_LAYERS and code else None


def drill(state: ViewState, feature: dict, child_codes: set[str]) -> None:
    """Open the child area the feature names (a map pick or a table row), if it is one of this scope's."""
    code = (feature.get("properties") or feature).get("code")
    # Only a child drawn on this map is a target: districts have 6 digits, as the city has.
    if code in child_codes and code != state.scope:
        set_view(state, scope=code)
        st.rerun()
