"""The app's pages and their frames, and the one workaround for Streamlit's legacy pages/ discovery."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


@dataclass(frozen=True)
class PageSpec:
    """A page file under pages/ and the frame it is drawn in (the wall draws its own)."""

    key: str
    sidebar: bool = True
    scoped: bool = True
    framed: bool = True

    @property
    def path(self) -> str:
        return f"pages/{self.key}.py"


PAGES = (PageSpec("overview"), PageSpec("incidents"), PageSpec("resources"), PageSpec("scenarios"),
         PageSpec("briefing"), PageSpec("imports", sidebar=False, scoped=False),
         PageSpec("users", sidebar=False, scoped=False), PageSpec("wall", framed=False))
HOME, WALL = PAGES[0], PAGES[-1]


def page_spec(key: str) -> PageSpec:
    return next(spec for spec in PAGES if spec.key == key)


def run_inside_app_router() -> None:
    """Rerun through app.py when Streamlit ran a page file on its own.

    Until some session has run app.py's st.navigation, Streamlit treats a pages/ folder beside the
    entrypoint as its legacy multipage folder (there is no setting to turn that off; its docs advise
    another folder name, but pages/ is this project's layout): a bookmarked link such as
    /incidents?scope=330212 opened first after a restart runs pages/incidents.py alone, without the
    frame. Clearing the flag (what st.navigation itself does) and rerunning runs app.py, which resolves
    the same page: both modes name a page's hash after its URL path. tests/test_router.py fails when a
    Streamlit upgrade moves the flag.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
