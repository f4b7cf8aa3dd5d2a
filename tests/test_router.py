"""The router's one reliance on Streamlit internals, checked so an upgrade that moves it fails here first."""

from __future__ import annotations

import inspect

from streamlit.commands import navigation
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import script_runner

from settings import PROJECT_ROOT
from ui.router import PAGES


def test_streamlit_still_switches_legacy_discovery_with_the_flag_the_router_clears():
    # ui.router.run_inside_app_router clears this flag; Streamlit must still read it to pick legacy mode
    # and st.navigation must still clear it itself (else the browser test of a first deep link fails too).
    assert "uses_pages_directory" in vars(PagesManager)
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner.ScriptRunner)
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation.navigation)


def test_every_page_file_is_in_the_router_and_every_entry_has_its_file():
    files = {path.stem for path in (PROJECT_ROOT / "pages").glob("*.py") if path.name != "__init__.py"}
    assert files == {spec.key for spec in PAGES}
    assert all((PROJECT_ROOT / spec.path).is_file() for spec in PAGES)
