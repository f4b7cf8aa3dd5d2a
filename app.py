"""CityOps 城运一张图: the router and frame of the multipage Streamlit app."""

from __future__ import annotations

import streamlit as st

from settings import get_settings
from ui.frame import show_framed
from ui.i18n import in_language, t
from ui.router import HOME, PAGES, WALL
from ui.state import view_state

get_settings()  # validate settings (and export the SpatiaLite path) before any page runs

st.set_page_config(page_title="城运一张图 CityOps", layout="wide",
                   initial_sidebar_state="expanded")

with in_language(view_state().lang):  # the pages' titles in the navigation
    pages = {spec: st.Page(spec.path, title=t(spec.key), url_path=spec.key, default=spec is HOME) for spec in PAGES}
on_wall = st.query_params.get("wall") == "1"
# The video wall has no navigation, and ?wall=1 on any page's URL opens the wall.
page = st.navigation(list(pages.values()), position="hidden" if on_wall else "sidebar")
spec = next(spec for spec, candidate in pages.items() if candidate is page)
if on_wall and spec is not WALL:
    st.switch_page(pages[WALL], query_params=st.query_params.to_dict())
if spec.framed:
    show_framed(page.run, spec.key, sidebar=spec.sidebar, scoped=spec.scoped)
else:
    page.run()  # the wall sets its language itself
