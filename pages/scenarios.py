"""Scenarios (推演): build what-if overrides, compare them with the baseline, save and reload them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from errors import InvalidInput
from geo import layers as build
from geo import scenario as sc
from geo import scenario_map as smap
from scenario_model import Overrides
from settings import get_settings
from ui import data
from ui import scenario_builder as builder
from ui import scenario_draft as drafts
from ui import scenario_results as results
from ui.frame import current_view
from ui.i18n import t, term
from ui.scenario_overrides import overrides_list
from ui.state import ViewState, quoted, set_view
from ui.widgets import ONE_DECIMAL, fmt_int, fmt_num, fmt_pct, legend, plain, table

LOADED, FLASH, MAP_HEIGHT, MAP_WIDTH = "scn.loaded", "scn.flash", 560, 700


def fmt_2(value) -> str:
    return fmt_num(value, 2)


def fmt_change(key: str, fmt, value) -> str:
    """A change as text: coverage in percentage points, the rest in the metric's own format."""
    if key == "coverage" and not pd.isna(value):
        return f"{value * 100:+.1f}{t('scn_pp')}"
    return fmt(value)


ROWS = (("coverage", "scn_coverage", fmt_pct), ("places_per_resident", "scn_places_per_resident", fmt_2),
        ("shortfall", "scn_shortfall", fmt_int), ("mean_walk_m", "scn_mean_walk", fmt_int),
        ("evacuees", "scn_evacuees", fmt_int), ("free_places_outside", "scn_free_outside", fmt_int),
        ("evacuation_shortfall", "scn_evac_shortfall", fmt_int), ("beds_per_1000", "scn_beds_per_1000", fmt_2),
        ("incidents", "scn_incidents", fmt_int))


def _sync_with_url(state: ViewState) -> None:
    """A scenario named in the URL (?scenario=) is loaded once, so a link or a reload shows it."""
    wanted = state.scenario
    if not wanted or st.session_state.get(LOADED) == wanted:
        return
    try:
        drafts.replace_draft(results.saved_overrides(wanted))
    except InvalidInput:
        st.warning(t("scn_missing") + plain(quoted(wanted)))
        set_view(state, scenario=None)
    st.session_state[LOADED] = wanted


def _saved_bar(state: ViewState) -> tuple[str, str]:
    """Saved scenarios (load, delete) and the reference to compare with; returns its overrides JSON and name."""
    names = results.saved_names()
    current = st.session_state.get(LOADED)
    left, load, delete, right = st.columns([3, 1, 1, 3], vertical_alignment="bottom")
    chosen = left.selectbox(t("scn_saved"), names, index=names.index(current) if current in names else None,
                            key="scn-saved", placeholder=t("scn_pick_saved") if names else t("scn_no_saved"))
    if load.button(t("scn_load"), disabled=chosen is None, key="scn-load", width="stretch") and chosen:
        st.session_state[LOADED] = None
        st.session_state[FLASH] = t("scn_loaded") + plain(chosen)
        set_view(state, scenario=chosen)
        st.rerun()
    if delete.button(t("scn_delete"), disabled=chosen is None, key="scn-delete", width="stretch") and chosen:
        results.delete_saved(chosen)
        st.session_state[FLASH] = t("scn_deleted") + plain(chosen)
        if chosen == current:
            st.session_state[LOADED] = None
            set_view(state, scenario=None)
        st.rerun()
    other = right.selectbox(t("scn_compare_with"), [None, *names], key="scn-reference",
                            format_func=lambda n: t("scn_baseline") if n is None else n)
    if other is None:
        return "{}", t("scn_baseline")
    return results.saved_overrides(other).model_dump_json(), other


def _tiles(res: dict) -> None:
    """Headline figures of the scenario with their change from the reference."""
    ref, scn = res["ref"], res["scn"]
    tiles = ROWS[0], ROWS[2], ROWS[4], ROWS[7]
    for column, (key, label, fmt) in zip(st.columns(len(tiles)), tiles, strict=True):
        # the long coverage label does not fit a quarter-width tile: a short one, the full one as help
        label, help_text = (("scn_coverage_tile", t(label)) if key == "coverage" else (label, None))
        delta = scn[key] - ref[key]
        shown = None if pd.isna(delta) or delta == 0 else fmt_change(key, fmt, delta)
        worse_when_up = not sc.HIGHER_IS_BETTER.get(key, False)
        column.metric(t(label), fmt(scn[key]), delta=shown, help=help_text,
                      delta_color="inverse" if worse_when_up else "normal", border=True)


def _side_by_side(res: dict, reference_name: str) -> None:
    st.subheader(t("scn_side_by_side"))
    ref, scn = res["ref"], res["scn"]
    st.dataframe(pd.DataFrame({
        t("scn_metric"): [t(label) for _, label, _ in ROWS],
        reference_name: [fmt(ref[key]) for key, _, fmt in ROWS],
        t("scn_current"): [fmt(scn[key]) for key, _, fmt in ROWS],
        t("scn_change"): [fmt_change(key, fmt, scn[key] - ref[key]) for key, _, fmt in ROWS],
    }), hide_index=True, width="stretch", key="scn-side-by-side")


def _difference_map(state: ViewState, baseline: sc.Baseline, res: dict, level: str) -> None:
    st.subheader(t("scn_diff_map"))
    st.caption(f"{t('scn_level')}: {term('level', level)}")
    areas = data.areas_in(state.scope, level)
    diff = res["diff"].set_index("code").reindex(areas["code"])
    tips = (areas["name"].to_numpy() + "<br/>" + t("scn_coverage") + ": "
            + diff["coverage_base"].map(fmt_pct).to_numpy() + " → " + diff["coverage_scen"].map(fmt_pct).to_numpy())
    layers = [smap.difference_layer(areas, res["diff"], pd.Series(tips))]
    if res["hazard"] is not None:
        layers.append(smap.hazard_layer(res["hazard"], t("scn_tab_hazard")))
    if state.scope != get_settings().city_code:
        layers.append(smap.pick_layer(baseline.grids, t("scn_picked") + ": "))
    changes = res["changes"]
    if len(changes):
        tips = changes["name"] + "<br/>" + changes["change"].map(lambda c: t(f"scn_change_{c}"))
        layers.append(smap.changes_layer(changes, tips))
    view = build.view_for_bounds(tuple(areas.total_bounds), width_px=MAP_WIDTH, height_px=MAP_HEIGHT)
    event = st.pydeck_chart(build.deck(layers, view, get_settings().basemap_tile_url), on_select="rerun",
                            selection_mode="single-object", key=f"scn-map-{state.scope}-{level}", height=MAP_HEIGHT)
    legend(smap.legend_entries(), "scn_change")
    location = smap.picked_location(event.selection.objects if event else None)
    if location and location != drafts.picked():
        drafts.set_picked(location)
        st.rerun()


def _difference_table(res: dict) -> None:
    st.subheader(t("scn_diff_table"))
    d = res["diff"]
    base, scen, delta = f" ({t('scn_baseline')})", f" ({t('scn_scenario')})", "Δ "
    table = pd.DataFrame({
        t("scn_worse"): d["worse"].map({True: "▼", False: ""}), t("name"): d["name"], t("code"): d["code"],
        t("population"): d["population"], t("scn_cov_short") + base: d["coverage_base"] * 100,
        t("scn_cov_short") + scen: d["coverage_scen"] * 100, delta + t("scn_cov_short"): d["coverage_delta"] * 100,
        delta + t("scn_shortfall_short"): d["shortfall_delta"], delta + t("scn_walk_short"): d["mean_walk_m_delta"],
        t("scn_evacuees"): d["evacuees_scen"], delta + t("scn_beds_short"): d["beds_per_1000_delta"],
        delta + t("scn_incidents"): d["incidents_delta"]})
    if "nearest_name" in d:
        table[t("scn_nearest")], table[t("scn_nearest_m")] = d["nearest_name"], d["nearest_m"]
    st.dataframe(table, hide_index=True, width="stretch", height=420, key="scn-diff-table",
                 column_config={c: st.column_config.NumberColumn(format="%.1f") for c in table.columns[4:]
                                if table[c].dtype.kind == "f"})


def _supply(res: dict) -> None:
    s = res["supply"]
    st.subheader(t("scn_supply"))
    days = {t("scn_baseline"): s["days_of_supply_base"], t("scn_current"): s["days_of_supply_scen"],
            t("scn_change"): s["days_of_supply_scen"] - s["days_of_supply_base"]}
    table(st, pd.DataFrame({t("item"): s["item"], t("category"): s["category"], **days}),
          formats=dict.fromkeys(days, ONE_DECIMAL), key="scn-supply")


def _save_form(state: ViewState, baseline: sc.Baseline) -> None:
    with st.form("scn-save", border=True):
        st.markdown(f"**{t('scn_save')}**")
        left, right = st.columns(2)
        name = left.text_input(t("scn_name"), value=st.session_state.get(LOADED) or "", key="scn-name")
        author = right.text_input(t("scn_author"), key="scn-author")
        replace = st.checkbox(t("scn_replace"), key="scn-replace")
        if not st.form_submit_button(t("scn_save"), type="primary"):
            return
    try:
        results.save(name, author, drafts.draft(), facts=baseline.facts, replace=replace)
    except InvalidInput as exc:
        drafts.show_problems(exc)
        return
    st.session_state[LOADED], st.session_state[FLASH] = name.strip(), t("scn_saved_ok") + plain(name.strip())
    set_view(state, scenario=name.strip())
    st.rerun()


state = current_view()
_sync_with_url(state)
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))
reference, reference_name = _saved_bar(state)
window = state.time_window()
baseline = results.baseline_for(state.scope, window)
build_column, result_column = st.columns([2, 3], gap="large")
with result_column:
    level = st.selectbox(t("scn_level"), results.levels(baseline.scope_level), format_func=lambda v: term("level", v),
                         key="scn-level")
    current = Overrides.model_validate(drafts.draft()).model_dump_json()
    res = results.compared(state.scope, window, level, reference, current)
    _tiles(res)
    map_level = results.map_level(baseline.scope_level, level)
    map_res = res if map_level == level else results.compared(state.scope, window, map_level, reference, current)
    _difference_map(state, baseline, map_res, map_level)
with build_column:
    st.subheader(t("scn_build"))
    builder.builder(baseline)
    overrides_list(baseline)
    st.caption(f"{t('scn_walking')}: {fmt_num(get_settings().walking_distance_m, 0)}")
left, right = st.columns([3, 2], gap="large")
with left:
    _side_by_side(res, reference_name)
with right:
    _supply(res)
_difference_table(res)
_save_form(state, baseline)
