"""The scope's busiest child areas as a table; a click on a row drills into that area, as a click on the map does.

The map's click is not enough on its own: Streamlit's pydeck element counts a press as a click only when the
browser handles the press and the release within deck.gl's 250 ms tap limit, and deck.gl picks the object under
the pointer inside that window. On a terminal drawing WebGL in software on a busy processor the pick alone can
take longer, and the click is lost (issue 12's note has the figures). A table row is an ordinary DOM click."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.i18n import t
from ui.map import drill
from ui.state import ViewState

SHOWN = 10


def busiest_children(state: ViewState, counts: pd.DataFrame) -> None:
    """The SHOWN children with the most incidents in the window; a selected row drills into it."""
    st.subheader(t("busiest_children"))
    top = counts.sort_values("incidents", ascending=False).head(SHOWN).reset_index(drop=True)
    # Keyed by the scope: after a drill the child's table is a new widget, with no row selected.
    event = st.dataframe(
        top[["name", "incidents", "per_10k", "population"]].rename(columns={
            "name": t("name"), "incidents": t("incidents_total"), "per_10k": t("per_10k"),
            "population": t("population")}),
        hide_index=True, width="stretch", key=f"busiest-{state.scope}",
        on_select="rerun", selection_mode="single-row",
        column_config={t("per_10k"): st.column_config.NumberColumn(format="%.1f"),
                       t("population"): st.column_config.NumberColumn(format="localized"),
                       t("incidents_total"): st.column_config.NumberColumn(format="localized")},
    )
    rows = event.selection.rows if event is not None else []
    if rows and rows[0] < len(top):
        drill(state, {"code": top.loc[rows[0], "code"]}, set(counts["code"]))
    st.caption(t("click_row_to_drill"))
