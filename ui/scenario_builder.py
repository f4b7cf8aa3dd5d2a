"""The scenario builder: the tabs of widgets that change the draft (ui.scenario_draft), each change validated."""

from __future__ import annotations

import streamlit as st

from errors import InvalidInput
from geo.geojson_io import MAX_BYTES as ZONE_MAX_BYTES
from geo.geojson_io import polygon_from_geojson, polygon_from_text
from geo.scenario import Baseline
from ui.i18n import t, term
from ui.scenario_draft import apply, draft, draft_names, named, picked, show_problems, version
from ui.widgets import file_uploader, fmt_int, fmt_quantity
from vocab import ASSEMBLY_KINDS, BED_TYPE_CODES, CATEGORY_CODES

VERTICES = "scn.vertices"


def _lon_lat(prefix: str) -> tuple[float | None, float | None]:
    """The longitude and latitude fields, filled with the map's pick; None while a field is empty."""
    default = picked() or (None, None)
    left, right = st.columns(2)
    key = f"{prefix}-{default}-{version()}"  # a new pick refills the fields
    lon = left.number_input(t("scn_lon"), value=default[0], format="%.6f", key=f"{key}-lon")
    lat = right.number_input(t("scn_lat"), value=default[1], format="%.6f", key=f"{key}-lat")
    return lon, lat


def _point_names(baseline: Baseline) -> dict[str, str]:
    a = baseline.assembly[baseline.assembly["in_scope"]]
    return dict(zip(a["code"], a["name"] + " (" + a["code"] + ")", strict=True))


def _current_capacities(baseline: Baseline, current: dict) -> dict[str, int]:
    """Each assembly point's capacity as the draft has it (its own change, else the baseline's)."""
    base = dict(zip(baseline.assembly["code"], baseline.assembly["capacity"].astype(int), strict=True))
    return {**base, **current["capacities"]}


def _points_tab(baseline: Baseline) -> None:
    names, current = _point_names(baseline), draft()
    elsewhere = draft_names().assembly_points  # points of a loaded scenario outside the scope

    def label(code: str) -> str:
        return names.get(code) or named(elsewhere, code)

    closed_now = set(baseline.assembly.loc[baseline.assembly["status"] != "open", "code"])
    close = st.multiselect(t("scn_close"), sorted(set(names) | set(current["close"])), default=current["close"],
                           format_func=label, key=f"scn-close-{version()}",
                           placeholder=t("scn_pick_points"))
    if close != current["close"]:
        apply(baseline, close=close)
    reopen_options = sorted((closed_now & set(names)) | set(current["reopen"]))
    reopen = st.multiselect(t("scn_reopen"), reopen_options, default=current["reopen"],
                            format_func=label, key=f"scn-reopen-{version()}",
                            placeholder=t("scn_pick_points"))
    if reopen != current["reopen"]:
        apply(baseline, reopen=reopen)
    with st.form(f"scn-capacity-{version()}", border=True):
        st.caption(t("scn_capacity"))
        capacities = _current_capacities(baseline, current)
        code = st.selectbox(t("assembly_points"), list(names),
                            format_func=lambda c: f"{names[c]} · {t('scn_now')} {fmt_int(capacities[c])}")
        capacity = st.number_input(t("capacity"), value=None, step=100, placeholder=t("scn_new_value"),
                                   key=f"scn-capacity-value-{version()}")
        if st.form_submit_button(t("scn_set")):
            if capacity is None:
                st.warning(t("scn_need_value"))
            else:
                apply(baseline, capacities={**current["capacities"], code: int(capacity)})
    with st.form(f"scn-new-point-{version()}", border=True):
        st.caption(t("scn_new_point"))
        name = st.text_input(t("name"), value="临时避难点")
        kinds = [k.code for k in ASSEMBLY_KINDS]
        kind = st.selectbox(t("kind"), kinds, index=kinds.index("evacuation_base"),
                            format_func=lambda k: term("assembly_kind", k))
        capacity = st.number_input(t("capacity"), value=2000, step=100, key="scn-new-capacity")
        lon, lat = _lon_lat("scn-new-point")
        if st.form_submit_button(t("scn_add")):
            point = {"name": name, "kind": kind, "capacity": int(capacity), "lon": lon, "lat": lat}
            apply(baseline, new_points=[*current["new_points"], point])


def _health_tab(baseline: Baseline) -> None:
    current = draft()
    with st.form(f"scn-field-hospital-{version()}", border=True):
        st.caption(t("scn_field_hospital"))
        name = st.text_input(t("name"), value="方舱医院")
        beds = st.number_input(t("beds"), value=200, step=50)
        lon, lat = _lon_lat("scn-field-hospital")
        if st.form_submit_button(t("scn_add")):
            hospital = {"name": name, "beds": int(beds), "lon": lon, "lat": lat}
            apply(baseline, field_hospitals=[*current["field_hospitals"], hospital])
    h = baseline.hospitals[baseline.hospitals["in_scope"]]
    names = dict(zip(h["code"], h["name"], strict=True))
    with st.form(f"scn-beds-{version()}", border=True):
        st.caption(t("scn_beds"))
        code = st.selectbox(t("scn_hospital"), list(names), format_func=names.__getitem__)
        bed_type = st.selectbox(t("scn_bed_type"), list(BED_TYPE_CODES),
                                format_func=lambda b: term("bed_type", b))
        total = st.number_input(t("total"), value=None, step=10, placeholder=t("scn_new_value"))
        if st.form_submit_button(t("scn_set")):
            if total is None:
                st.warning(t("scn_need_value"))
            else:
                change = {"hospital_code": code, "bed_type": bed_type, "total": int(total)}
                kept = [b for b in current["beds"] if (b["hospital_code"], b["bed_type"]) != (code, bed_type)]
                apply(baseline, beds=[*kept, change])


def _supply_tab(baseline: Baseline) -> None:
    current, stock = draft(), baseline.stock
    labels = {f"{d}|{i}": f"{n} · {i} ({fmt_quantity(q, u)})" for d, n, i, q, u in
              stock[["depot_code", "depot_name", "item", "quantity", "unit"]].itertuples(index=False)}
    if not labels:
        st.info(t("no_data"))
        return
    with st.form(f"scn-stock-{version()}", border=True):
        st.caption(t("scn_stock"))
        line: str = st.selectbox(t("item"), list(labels), format_func=labels.__getitem__)
        quantity = st.number_input(t("quantity"), value=None, step=10.0, placeholder=t("scn_new_value"))
        if st.form_submit_button(t("scn_set")):
            if quantity is None:
                st.warning(t("scn_need_value"))
            else:
                depot, item = line.split("|", 1)
                kept = [s for s in current["stock"] if (s["depot_code"], s["item"]) != (depot, item)]
                apply(baseline, stock=[*kept, {"depot_code": depot, "item": item, "quantity": float(quantity)}])


def _zone_from(baseline: Baseline, read) -> None:
    try:
        zone = read()
    except InvalidInput as exc:
        show_problems(exc)
        return
    apply(baseline, hazard_zone=zone)


def _hazard_tab(baseline: Baseline) -> None:
    city = baseline.facts.city
    upload = file_uploader(st, t("scn_upload"), types=["geojson", "json"], key=f"scn-upload-{version()}",
                           max_mb=ZONE_MAX_BYTES // 1_000_000)
    if upload is not None and st.button(t("scn_use_zone"), key="scn-use-upload"):
        _zone_from(baseline, lambda: polygon_from_geojson(upload.getvalue(), city))
    typed = st.text_area(t("scn_typed"), key=f"scn-typed-{version()}", height=110,
                         placeholder="121.55, 29.87\n121.60, 29.87\n121.60, 29.90")
    if st.button(t("scn_use_zone"), key="scn-use-typed", disabled=not typed.strip()):
        _zone_from(baseline, lambda: polygon_from_text(typed, city))
    corners = st.session_state.setdefault(VERTICES, [])
    st.caption(f"{t('scn_vertices')}: " + ("; ".join(f"{x:.5f}, {y:.5f}" for x, y in corners) or "—"))
    left, middle, right = st.columns(3)
    if left.button(t("scn_add_vertex"), disabled=picked() is None, key="scn-add-vertex"):
        corners.append(picked())
        st.rerun()
    if middle.button(t("scn_use_zone"), disabled=len(corners) < 3, key="scn-use-vertices"):
        _zone_from(baseline, lambda: polygon_from_text("\n".join(f"{x}, {y}" for x, y in corners), city))
    if right.button(t("scn_clear_vertices"), disabled=not corners, key="scn-clear-vertices"):
        st.session_state[VERTICES] = []
        st.rerun()
    if draft()["hazard_zone"] and st.button(t("scn_remove_zone"), key="scn-remove-zone"):
        apply(baseline, hazard_zone=None)


def _incidents_tab(baseline: Baseline) -> None:
    areas = baseline.areas[baseline.areas["level"] != "grid"]
    names = dict(zip(areas["code"], areas["name"], strict=True))
    with st.form(f"scn-multiplier-{version()}", border=True):
        st.caption(t("scn_multiplier"))
        category = st.selectbox(t("category"), [None, *CATEGORY_CODES],
                                format_func=lambda c: t("scn_all") if c is None else term("category", c))
        area = st.selectbox(t("scn_area"), list(names), format_func=lambda c: f"{names[c]} ({c})")
        factor = st.number_input(t("scn_factor"), value=2.0, step=0.5)
        if st.form_submit_button(t("scn_add")):
            multiplier = {"category": category, "area_code": area, "factor": float(factor)}
            apply(baseline, multipliers=[*draft()["multipliers"], multiplier])


def builder(baseline: Baseline) -> None:
    """The tabs that change the draft; every change is validated against the city first."""
    pick = picked()
    st.caption(t("scn_pick_hint") + (f" · {t('scn_picked')}: {pick[0]:.5f}, {pick[1]:.5f}" if pick else ""))
    tabs = st.tabs([t("scn_tab_points"), t("scn_tab_health"), t("scn_tab_supply"), t("scn_tab_hazard"),
                    t("scn_tab_incidents")])
    for tab, body in zip(tabs, (_points_tab, _health_tab, _supply_tab, _hazard_tab, _incidents_tab), strict=True):
        with tab:
            body(baseline)
