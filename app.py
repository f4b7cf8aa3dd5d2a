"""CityOps 城运一张图: the router and frame of the multipage Streamlit app."""

from __future__ import annotations

import streamlit as st

from access import may_open
from settings import get_settings
from ui.frame import admitted, refuse_page, show_framed
from ui.i18n import in_language, t
from ui.router import HOME, PAGES, WALL, page_spec
from ui.state import view_state

get_settings()  # validate settings (and export the SpatiaLite path) before any page runs

st.set_page_config(page_title="城运一张图 CityOps", layout="wide",
                   initial_sidebar_state="expanded")

lang = view_state().lang
with in_language(lang):  # the pages' titles (the browser tab's)
    pages = {spec: st.Page(spec.path, title=t(spec.key), url_path=spec.key) for spec in PAGES}
    # "/" is no page of its own: it opens the viewer's first page (or, with ?wall=1, the wall) with the URL's view,
    # so that every page has one address (/overview as well, which a default page would not answer to).
    home = st.Page(lambda: None, title=t(HOME.key), url_path="", default=True)
on_wall = st.query_params.get("wall") == "1"
# The sidebar's page links are drawn by the frame: they carry the view, Streamlit's own links would not.
page = st.navigation([home, *pages.values()], position="hidden")
spec = next((spec for spec, candidate in pages.items() if candidate is page), None)
# Nobody signed in, or refused: the sign-in page or the refusal is all this run draws.
viewer = admitted(lang)
if viewer is None:
    pass
elif spec is None or (on_wall and spec is not WALL):
    first = WALL if on_wall else page_spec(viewer.first_page or HOME.key)
    st.switch_page(pages[first], query_params=st.query_params.to_dict())
elif not may_open(viewer, spec.key):
    refuse_page(lang)
elif spec.framed:
    show_framed(page, spec, pages, viewer)
else:
    page.run()  # the wall sets its language itself and checks its scopes
