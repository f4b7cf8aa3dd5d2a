"""The details of the facility clicked on the map: what it is, its figures, and how current they are."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from geo import layers as build
from ui import data
from ui.i18n import t, term
from ui.widgets import fmt_int, fmt_pct, is_stale, local_time_text, table
from vocab import BED_TYPE_CODES

PANEL_KEY = "facility-details"


@dataclass(frozen=True)
class FacilityPick:
    """A facility clicked on the map of a scope: its layer (assembly, depots, hospitals) and code."""

    scope: str
    layer: str
    code: str


def _updated(row: pd.Series) -> list[tuple[str, str]]:
    when = local_time_text(row["last_updated"])
    marker = t("stale") if is_stale(row["last_updated"]) else t("fresh")
    return [(t("last_updated"), f"{when} ({marker})"), (t("data_source"), str(row["source"] or "—"))]


def _assembly_rows(row: pd.Series) -> list[tuple[str, str]]:
    return [(t("kind"), term("assembly_kind", row["kind"])), (t("capacity"), fmt_int(row["capacity"])),
            (t("occupied"), fmt_int(row["occupancy"])), (t("status"), term("facility_status", row["status"]))]


def _hospital_rows(row: pd.Series) -> list[tuple[str, str]]:
    beds = [(term("bed_type", bed), f"{fmt_int(row[f'{bed}_total'] - row[f'{bed}_occupied'])} / "
             f"{fmt_int(row[f'{bed}_total'])}") for bed in BED_TYPE_CODES]
    return [(t("grade"), str(row["grade"])), (t("beds_available"), fmt_int(row["beds_available"])),
            (t("beds"), fmt_int(row["beds_total"])), (t("occupancy"), fmt_pct(row["occupancy"])), *beds,
            (t("convertible"), fmt_int(row["convertible_beds"])),
            (t("fever_clinic"), t("yes") if row["fever_clinic"] else t("no"))]


def _row(frame: pd.DataFrame, code: str) -> pd.Series | None:
    found = frame[frame["code"] == code]
    return None if found.empty else found.iloc[0]


def _stock_table(pick: FacilityPick) -> None:
    lines = data.stock(pick.scope)
    lines = lines[lines["depot_code"] == pick.code]
    table(st, pd.DataFrame({
        t("item"): lines["item"], t("quantity"): lines["quantity"], t("unit"): lines["unit"],
        t("min_level"): lines["min_level"], t("below_min"): lines["below_min"].map({True: t("yes"), False: ""}),
    }))


_FACILITIES = {  # layer -> (the scope's cached frame, the rows describing one facility)
    build.ASSEMBLY_LAYER: (data.assembly_points, _assembly_rows),
    build.HOSPITALS_LAYER: (data.hospitals, _hospital_rows),
    build.DEPOTS_LAYER: (data.depots, lambda row: []),
}


def facility_details(pick: FacilityPick) -> bool:
    """Draw the picked facility's details (names and values as plain table cells); False if it is gone."""
    load, describe = _FACILITIES[pick.layer]
    row = _row(load(pick.scope), pick.code)
    if row is None:
        return False
    with st.container(border=True, key=PANEL_KEY):
        st.subheader(t("facility_details"))
        rows = [(t("name"), str(row["name"])), (t("code"), pick.code), *describe(row), *_updated(row)]
        # All rows at once (no inner scrolling): the panel is read at a glance.
        table(st, pd.DataFrame(rows, columns=[t("detail_field"), t("detail_value")]), height="content")
        if pick.layer == build.DEPOTS_LAYER:
            _stock_table(pick)
    return True
