"""The draft's overrides as a list, each place by its name, each with a button that removes it."""

from __future__ import annotations

import streamlit as st

from geo.scenario import Baseline
from queries.scenarios import OverrideNames
from scenario_model import Overrides
from ui.i18n import t, term
from ui.scenario_draft import apply, draft, draft_names, named, replace_draft, version
from ui.widgets import fmt_int, fmt_num


def _facility_items(current: dict, names: OverrideNames) -> list[tuple[str, int | str, str]]:
    points = names.assembly_points
    items: list[tuple[str, int | str, str]] = [("close", c, f"{t('scn_close')}: {named(points, c)}")
                                               for c in current["close"]]
    items += [("reopen", c, f"{t('scn_reopen')}: {named(points, c)}") for c in current["reopen"]]
    items += [("capacities", c, f"{t('scn_capacity')}: {named(points, c)} → {fmt_int(n)}")
              for c, n in current["capacities"].items()]
    items += [("beds", i, f"{t('scn_beds')}: {named(names.hospitals, b['hospital_code'])} "
               f"{term('bed_type', b['bed_type'])} → {fmt_int(b['total'])}") for i, b in enumerate(current["beds"])]
    items += [("stock", i, f"{t('scn_stock')}: {named(names.depots, s['depot_code'])} · {s['item']} → "
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
               f"{named(names.areas, m['area_code']) if m['area_code'] else t('scn_all')} × {m['factor']}")
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
    items = _items(current, draft_names())
    st.markdown(f"**{t('scn_overrides')}**")
    if not items:
        st.caption(t("scn_no_changes"))
        return
    for n, (field, key, text) in enumerate(items):
        left, right = st.columns([6, 1], vertical_alignment="center")
        left.text(text)  # names typed by planners or from the database: text, never Markdown
        if right.button("✕", key=f"scn-rm-{n}-{version()}", help=t("scn_remove")):
            apply(baseline, **_without(current, field, key))
    if st.button(t("scn_clear"), key="scn-clear", icon=":material/restart_alt:"):
        replace_draft(Overrides())
        st.rerun()
