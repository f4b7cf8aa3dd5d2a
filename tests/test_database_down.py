"""With the database unreachable every page says so calmly: no exception, no Streamlit error box."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import streamlit as st

from settings import get_settings
from tests.apps import page_app
from tests.browser import free_port
from ui.router import PAGES


@pytest.fixture
def database_down(monkeypatch) -> Iterator[None]:
    """DATABASE_URL names a PostgreSQL port nothing listens on (caches and settings reset around it)."""
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg2://cityops:x@127.0.0.1:{free_port()}/cityops")
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.mark.parametrize("page", [spec.key for spec in PAGES if spec.framed])
def test_a_page_with_the_database_down_shows_one_calm_message(database_down, page):
    app = page_app(page, scope="330212").run()
    assert not app.exception, [e.value for e in app.exception]
    messages = [e.value for e in app.error]
    assert len(messages) == 1 and "Traceback" not in messages[0], messages
