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
]

st.navigation(PAGES, position="sidebar").run()
