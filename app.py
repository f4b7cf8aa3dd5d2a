"""CityOps 城运一张图: the router and frame of the multipage Streamlit app."""

from __future__ import annotations

import streamlit as st

from settings import get_settings
from ui.i18n import t

get_settings()  # validate settings (and export the SpatiaLite path) before any page runs

st.set_page_config(page_title="城运一张图 CityOps", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/overview.py", title=t("overview"), url_path="overview", default=True),
    st.Page("pages/incidents.py", title=t("incidents"), url_path="incidents"),
    st.Page("pages/resources.py", title=t("resources"), url_path="resources"),
    st.Page("pages/scenarios.py", title=t("scenarios"), url_path="scenarios"),
    st.Page("pages/briefing.py", title=t("briefing"), url_path="briefing"),
    st.Page("pages/imports.py", title=t("imports"), url_path="imports"),
    st.Page("pages/wall.py", title=t("wall"), url_path="wall"),
]

if st.query_params.get("wall") == "1":
    # The video wall: no navigation, and ?wall=1 on any page's URL opens the wall.
    page = st.navigation(PAGES, position="hidden")
    if page.url_path != "wall":
        st.switch_page("pages/wall.py", query_params=st.query_params.to_dict())
    page.run()
else:
    st.navigation(PAGES, position="sidebar").run()
