"""AppTests of the pages drawn inside the app's frame, as users see them."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def _framed_page(key: str) -> None:  # pragma: no cover - AppTest runs its source as the app script
    import streamlit as st

    from settings import PROJECT_ROOT
    from ui.frame import show_framed
    from ui.router import PAGES, page_spec

    pages = {spec: st.Page(str(PROJECT_ROOT / spec.path), url_path=spec.key, default=spec.key == key) for spec in PAGES}
    page = st.navigation(list(pages.values()), position="hidden")
    show_framed(page, page_spec(key), pages)


def page_app(page: str, *, timeout: float = 60, **params: str) -> AppTest:
    """pages/<page>.py in app.py's frame, as the default page, with these URL params; not yet run.

    Not app.py switched to the page: after a button's st.rerun() AppTest runs the default page again
    (a browser stays on the page), so a test that clicks would look at the overview."""
    app = AppTest.from_function(_framed_page, args=(page,), default_timeout=timeout)
    for name, value in params.items():
        app.query_params[name] = value
    return app
