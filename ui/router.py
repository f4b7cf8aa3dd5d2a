"""Make sure every page runs inside app.py's navigation, even on a server's first deep link."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def run_inside_app_router() -> None:
    """Rerun through app.py when Streamlit ran this page file on its own.

    Until some session has run app.py's st.navigation, Streamlit treats pages/ as its old
    multipage folder: a bookmarked link such as /incidents?scope=330212 opened first after a
    restart runs pages/incidents.py alone, with raw file names in the sidebar and a narrow layout.
    Clearing the flag (what st.navigation itself does) and rerunning runs app.py, which resolves
    the same page: both modes name a page's hash after its URL path.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
