"""The scenario builder: the draft overrides in the session and the widgets that change them."""

from __future__ import annotations

import streamlit as st

from errors import InvalidInput
from geo.geojson_io import MAX_BYTES as ZONE_MAX_BYTES
from geo.geojson_io import polygon_from_geojson, polygon_from_text
from geo.scenario import Baseline
from queries.scenarios import OverrideNames
from scenario_model import Overrides, parse_overrides
from ui import scenario_results as results
from ui.i18n import say, t, term
from ui.widgets import file_uploader, fmt_int, fmt_num, fmt_quantity
from vocab import ASSEMBLY_KINDS, BED_TYPE_CODES, CATEGORY_CODES

DRAFT, VERSION, PICK, VERTICES = "scn.draft", "scn.version", "scn.pick", "scn.vertices"


def draft() -> dict:
    """The overrides being built (JSON form), empty at first."""
    return st.session_state.setdefault(DRAFT, Overrides().model_dump(mode="json"))


def version() -> int:
    """Bumped on every change so keyed widgets start again from the draft."""
    return st.session_state.setdefault(VERSION, 0)


def replace_draft(overrides: Overrides) -> None:
    st.session_state[DRAFT] = overrides.model_dump(mode="json")
    st.session_state[VERSION] = version() + 1


def show_problems(exc: InvalidInput) -> None:
    # st.text, not markdown: a problem quotes what was typed (names, codes), shown as it is
    st.error(t("scn_problems"))
    st.text("\n".join(f"• {say(p)}" for p in exc.messages))


def _apply(baseline: Baseline, **changes) -> None:
    """Validate the draft with the changes against the city; apply and rerun, or show why not."""
    try:
        replace_draft(parse_overrides({**draft(), **changes}, baseline.facts))
    except InvalidInput as exc:
        show_problems(exc)
        return
    st.rerun()


def picked() -> tuple[float, float] | None:
    return st.session_state.get(PICK)


def set_picked(location: tuple[float, float]) -> None:
    st.session_state[PICK] = location


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


def _draft_names() -> OverrideNames:
    """The database's names of the places the draft names (a loaded scenario may name some outside the scope)."""
    return results.override_names(Overrides.model_validate(draft()).model_dump_json())


def _current_capacities(baseline: Baseline, current: dict) -> dict[str, int]:
    """Each assembly point's capacity as the draft has it (its own change, else the baseline's)."""
    base = dict(zip(baseline.assembly["code"], baseline.assembly["capacity"].astype(int), strict=True))
    return {**base, **current["capacities"]}


def _points_tab(baseline: Baseline) -> None:
    names, current = _point_names(baseline), draft()
    elsewhere = _draft_names().assembly_points  # points of a loaded scenario outside the scope

    def label(code: str) -> str:
        return names.get(code) or _named(elsewhere, code)

    closed_now = set(baseline.assembly.loc[baseline.assembly["status"] != "open", "code"])
    close = st.multiselect(t("scn_close"), sorted(set(names) | set(current["close"])), default=current["close"],
                           format_func=label, key=f"scn-close-{version()}",
                           placeholder=t("scn_pick_points"))
    if close != current["close"]:
        _apply(baseline, close=close)
    reopen_options = sorted((closed_now & set(names)) | set(current["reopen"]))
    reopen = st.multiselect(t("scn_reopen"), reopen_options, default=current["reopen"],
                            format_func=label, key=f"scn-reopen-{version()}",
                            placeholder=t("scn_pick_points"))
    if reopen != current["reopen"]:
        _apply(baseline, reopen=reopen)
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
                _apply(baseline, capacities={**current["capacities"], code: int(capacity)})
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
            _apply(baseline, new_points=[*current["new_points"], point])


def _health_tab(baseline: Baseline) -> None:
    current = draft()
    with st.form(f"scn-field-hospital-{version()}", border=True):
        st.caption(t("scn_field_hospital"))
        name = st.text_input(t("name"), value="方舱医院")
        beds = st.number_input(t("beds"), value=200, step=50)
        lon, lat = _lon_lat("scn-field-hospital")
        if st.form_submit_button(t("scn_add")):
            hospital = {"name": name, "beds": int(beds), "lon": lon, "lat": lat}
            _apply(baseline, field_hospitals=[*current["field_hospitals"], hospital])
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
                _apply(baseline, beds=[*kept, change])


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
                _apply(baseline, stock=[*kept, {"depot_code": depot, "item": item, "quantity": float(quantity)}])


def _zone_from(baseline: Baseline, read) -> None:
    try:
        zone = read()
    except InvalidInput as exc:
        show_problems(exc)
        return
    _apply(baseline, hazard_zone=zone)


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
        _apply(baseline, hazard_zone=None)


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
            _apply(baseline, multipliers=[*draft()["multipliers"], multiplier])


def builder(baseline: Baseline) -> None:
    """The tabs that change the draft; every change is validated against the city first."""
    pick = picked()
    st.caption(t("scn_pick_hint") + (f" · {t('scn_picked')}: {pick[0]:.5f}, {pick[1]:.5f}" if pick else ""))
    tabs = st.tabs([t("scn_tab_points"), t("scn_tab_health"), t("scn_tab_supply"), t("scn_tab_hazard"),
                    t("scn_tab_incidents")])
    for tab, body in zip(tabs, (_points_tab, _health_tab, _supply_tab, _hazard_tab, _incidents_tab), strict=True):
        with tab:
            body(baseline)


def _named(names: dict[str, str], code: str) -> str:
    """A place by its name, the code beside it (the code alone if the database does not know it)."""
    return f"{names[code]} ({code})" if code in names else code


def _facility_items(current: dict, names: OverrideNames) -> list[tuple[str, int | str, str]]:
    points = names.assembly_points
    items: list[tuple[str, int | str, str]] = [("close", c, f"{t('scn_close')}: {_named(points, c)}")
                                               for c in current["close"]]
    items += [("reopen", c, f"{t('scn_reopen')}: {_named(points, c)}") for c in current["reopen"]]
    items += [("capacities", c, f"{t('scn_capacity')}: {_named(points, c)} → {fmt_int(n)}")
              for c, n in current["capacities"].items()]
    items += [("beds", i, f"{t('scn_beds')}: {_named(names.hospitals, b['hospital_code'])} "
               f"{term('bed_type', b['bed_type'])} → {fmt_int(b['total'])}") for i, b in enumerate(current["beds"])]
    items += [("stock", i, f"{t('scn_stock')}: {_named(names.depots, s['depot_code'])} · {s['item']} → "
               f"{fmt_num(s['quantity'])}") for i, s in enumerate(current["stock"])]
    return items


def _items(current: dict, names: OverrideNames) -> list[tuple[str, int | str, str]]:
    """(field, index or key, text) for every override in the draft, each place by its name."""
    items = _facility_items(current, names)
    items += [("new_points", i, f"{t('scn_new_point')}: {p['name']} {fmt_int(p['capacity'])} @ {p['lon']:.5f}, "
               f"{p['lat']:.5f}") for i, p in enumerate(current["new_points"])]
    items += [("field_hospitals", i, f"{t('scn_field_hospital')}: {h['name']} {fmt_int(h['beds'])} @ {h['lon']:.5f}, "
               f"{h['lat']:.5f}") for i, h in enumerate(current["field_hospitals"])]
    items += [("multipliers", i, f"{t('scn_multiplier')}: "
               f"{term('category', m['category']) if m['category'] else t('scn_all')} · "
               f"{_named(names.areas, m['area_code']) if m['area_code'] else t('scn_all')} × {m['factor']}")
              for i, m in enumerate(current["multipliers"])]
    if current["hazard_zone"]:
        items.append(("hazard_zone", 0, t("scn_tab_hazard") + f" ({current['hazard_zone']['type']})"))
    return items


def _without(current: dict, field: str, key) -> dict:
    value = current[field]
    if field == "hazard_zone":
        return {field: None}
    if isinstance(value, dict):
        return {field: {k: v for k, v in value.items() if k != key}}
    if field in ("close", "reopen"):
        return {field: [c for c in value if c != key]}
    return {field: [v for i, v in enumerate(value) if i != key]}


def overrides_list(baseline: Baseline) -> None:
    """The draft's overrides, each with a remove button, and a button to clear them all."""
    current = draft()
    items = _items(current, _draft_names())
    st.markdown(f"**{t('scn_overrides')}**")
    if not items:
        st.caption(t("scn_no_changes"))
        return
    for n, (field, key, text) in enumerate(items):
        left, right = st.columns([6, 1], vertical_alignment="center")
        left.text(text)  # names typed by planners or from the database: text, never Markdown
        if right.button("✕", key=f"scn-rm-{n}-{version()}", help=t("scn_remove")):
            _apply(baseline, **_without(current, field, key))
    if st.button(t("scn_clear"), key="scn-clear", icon=":material/restart_alt:"):
        replace_draft(Overrides())
        st.rerun()
