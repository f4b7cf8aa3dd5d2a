"""The frame every page body runs in: sidebar controls, breadcrumbs, and errors shown as messages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from errors import CityOpsError, UnknownArea
from settings import PROJECT_ROOT, get_settings
from texts import LANGUAGES
from ui import data
from ui.i18n import in_language, say, t
from ui.router import WALL, PageSpec, page_spec, run_inside_app_router
from ui.state import WINDOW_HOURS, ViewState, set_view, url_params, url_problems, url_widget_key, view_state
from ui.widgets import plain

log = logging.getLogger("cityops.ui")
# The frame's view while a page draws: set and reset around page.run() in the script thread of the run.
_FRAMED_VIEW: ContextVar[ViewState | None] = ContextVar("framed_view", default=None)


def _resolved_state(state: ViewState) -> ViewState:
    """The URL's view with an unknown scope replaced by the city (and the problem noted)."""
    try:
        data.scope(state.scope)
    except UnknownArea as exc:
        url_problems().append(exc.message)
        state = set_view(state, scope=get_settings().city_code)
    return state


def breadcrumbs(state: ViewState) -> None:
    """City > district > ... > scope; every ancestor is a button that goes back up."""
    path = data.ancestors(state.scope)
    columns = st.columns([1] * len(path) + [max(1, 8 - len(path))], gap="small")
    for column, (code, name) in zip(columns, path[["code", "name"]].itertuples(index=False), strict=False):
        current = code == state.scope
        if column.button(plain(name), key=f"crumb-{code}", disabled=current, width="stretch",
                         icon=":material/location_on:" if current else ":material/chevron_right:",
                         type="primary" if current else "secondary"):
            set_view(state, scope=code)
            st.rerun()


def _picked(key: str, field: str, drawn: str, state: ViewState) -> None:
    """on_change of a sidebar widget: the user's pick goes into the URL before the rerun. The
    value the widget was drawn with is no pick: it is what a stale rerun of a dropped widget says."""
    value = st.session_state.get(key)
    if value is not None and value != drawn:
        set_view(state, **{field: value})


def _url_radio(label: str, options: list[str], field: str, state: ViewState, **kwargs) -> None:
    value = getattr(state, field)
    key = url_widget_key(f"{field}-picker", value)
    st.radio(label, options, index=options.index(value), key=key, on_change=_picked,
             args=(key, field, value, state), **kwargs)


def _page_links(state: ViewState, links: Mapping[PageSpec, StreamlitPage]) -> None:
    """The pages, each link carrying the whole view (scope, window, filters, layers, language)."""
    params = url_params(state)
    with st.sidebar:
        for spec, page in links.items():
            st.page_link(page, label=t(spec.key), query_params=params | ({"wall": "1"} if spec is WALL else {}))
        st.divider()


def _scope_names(state: ViewState, districts) -> dict[str, str]:
    """Names of the picker's options; a scope below a district is named by its path from the district."""
    city = get_settings().city_code
    names = dict(zip(districts["code"], districts["name"], strict=True)) | {city: data.scope(city).name}
    if state.scope not in names:
        path = data.ancestors(state.scope)
        names[state.scope] = " › ".join(path["name"].iloc[1:])  # the city is the picker's first option
    return names


def _sidebar(state: ViewState) -> None:
    with st.sidebar:
        st.caption(t("scope"))
        city = get_settings().city_code
        districts = data.district_list(city, "district")
        names = _scope_names(state, districts)
        options = list(dict.fromkeys([city, *districts["code"], state.scope]))
        key = url_widget_key("scope-picker", state.scope)
        st.selectbox(t("scope"), options, index=options.index(state.scope), format_func=lambda c: names.get(c, c),
                     label_visibility="collapsed", key=key, on_change=_picked,
                     args=(key, "scope", state.scope, state))
        _url_radio(t("window"), list(WINDOW_HOURS), "window", state, format_func=t)
        _url_radio(t("language"), list(LANGUAGES), "lang", state, horizontal=True,
                   format_func=lambda v: LANGUAGES[v].name)
        st.caption(t("synthetic_note"))


def current_view() -> ViewState:
    """The view of the page being drawn, resolved by the frame app.py runs every page in."""
    state = _FRAMED_VIEW.get()
    if state is None:
        # Only Streamlit's legacy pages/ discovery runs a page file without app.py (see ui.router).
        run_inside_app_router()
        raise RuntimeError("a page file ran outside app.py's frame")
    return state


def _framed(state: ViewState, page: StreamlitPage, spec: PageSpec, links: Mapping[PageSpec, StreamlitPage]) -> None:
    """The page links, sidebar, title, URL problems and breadcrumbs, then the page, with the view set for
    current_view(). A page that is not about a scope (not spec.scoped) has no breadcrumbs, one without
    spec.sidebar no scope picker."""
    _page_links(state, links)
    if spec.sidebar:
        _sidebar(state)
    st.title(t(spec.key))
    if url_problems():
        st.warning(plain(t("bad_url") + t("problem_separator").join(say(p) for p in url_problems())))
    if spec.scoped:
        breadcrumbs(state)
    token = _FRAMED_VIEW.set(state)
    try:
        page.run()
    finally:
        _FRAMED_VIEW.reset(token)


def link_to(key: str, label: str, state: ViewState, *, icon: str | None = None) -> None:
    """A link to the page `key` carrying the view, also from a fragment's rerun (outside the frame). The page's
    absolute path: Streamlit resolves a relative one against the running script (app.py, or a test's harness)."""
    st.page_link(str(PROJECT_ROOT / page_spec(key).path), label=label, query_params=url_params(state), icon=icon)


def show_framed(page: StreamlitPage, spec: PageSpec, links: Mapping[PageSpec, StreamlitPage]) -> None:
    """Draw the frame and the page inside it, in the view's language; a domain error becomes a message,
    never a traceback."""
    state = view_state()  # the URL alone: its language holds even when the database is down
    with in_language(state.lang):
        try:
            _framed(_resolved_state(state), page, spec, links)
        except CityOpsError as exc:  # the database down, an unknown area, ... (may quote the URL: as text)
            st.error(plain(say(exc.message)))
        except Exception:  # last line of defence: log for operators, a calm message for users
            log.exception("page %s failed", spec.key)
            st.error(t("page_failed"))
