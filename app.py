"""CityOps 城运一张图: the router and frame of the multipage Streamlit app."""

from __future__ import annotations

import streamlit as st

from settings import get_settings
from ui.i18n import t

get_settings()  # validate settings (and export the SpatiaLite path) before any page runs

st.set_page_config(page_title="城运一张图 CityOps", page_icon=":material/location_city:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/overview.py", title=t("overview"), icon=":material/map:", url_path="overview", default=True),
    st.Page("pages/incidents.py", title=t("incidents"), icon=":material/list_alt:", url_path="incidents"),
    st.Page("pages/resources.py", title=t("resources"), icon=":material/local_hospital:", url_path="resources"),
]

st.navigation(PAGES, position="sidebar").run()
