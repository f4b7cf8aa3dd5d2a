"""AppTests of the pages drawn inside the app's frame, as users see them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from streamlit.testing.v1 import AppTest

from access import Jurisdiction
from codes import prefix_inside
from settings import PROJECT_ROOT
from ui import data

APP = str(PROJECT_ROOT / "app.py")
# The identity AppTest gives st.user (Streamlit's own AppTest.user): a city-wide user whose roles open every page
# but the admin's, so a test looks at what it names; tests/test_signin_pages.py signs in as each role.
SIGNED_IN = {"is_logged_in": True, "sub": "apptest", "name": "U001", "email": "apptest@example.org",
             "cityops_roles": ["duty_officer", "planner", "data_officer"], "cityops_area": "330200"}


@contextmanager
def read_as_city_viewer() -> Iterator[None]:
    """ui.data called by a test itself, outside an app run, reads as a city-wide viewer would (ui.data reads
    nothing for a session that has let nobody in)."""
    home = str(SIGNED_IN["cityops_area"])
    data.read_within(Jurisdiction(home, prefix_inside(home, "city")))
    try:
        yield
    finally:
        data.read_within(None)


def signed_in(app: AppTest, claims: dict | None = None) -> AppTest:
    """The app as seen by a signed-in user (SIGNED_IN by default)."""
    app.user = dict(SIGNED_IN if claims is None else claims)
    return app


def _framed_page(key: str) -> None:  # pragma: no cover - AppTest runs its source as the app script
    import streamlit as st

    from settings import PROJECT_ROOT
    from ui.frame import admitted, show_framed
    from ui.router import PAGES, page_spec
    from ui.state import view_state

    pages = {spec: st.Page(str(PROJECT_ROOT / spec.path), url_path=spec.key, default=spec.key == key) for spec in PAGES}
    page = st.navigation(list(pages.values()), position="hidden")
    viewer = admitted(view_state().lang)
    if viewer is not None:
        show_framed(page, page_spec(key), pages, viewer)


def page_app(page: str, *, timeout: float = 60, **params: str) -> AppTest:
    """pages/<page>.py in app.py's frame, as the default page, with these URL params; not yet run.

    Not app.py switched to the page: after a button's st.rerun() AppTest runs the default page again
    (a browser stays on the page), so a test that clicks would look at the overview."""
    app = signed_in(AppTest.from_function(_framed_page, args=(page,), default_timeout=timeout))
    for name, value in params.items():
        app.query_params[name] = value
    return app
