"""The frame every page body runs in: sidebar controls, breadcrumbs, and errors shown as messages."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from access import Viewer, may_open, may_see
from errors import CityOpsError, Message, OutsideJurisdiction, UnknownArea
from settings import PROJECT_ROOT, get_settings
from texts import LANGUAGES
from ui import data
from ui.i18n import in_language, say, t
from ui.router import WALL, PageSpec, page_spec, run_inside_app_router
from ui.session import account_box, current_viewer, refusal, sign_in_page, signed_in
from ui.state import WINDOW_HOURS, ViewState, set_view, url_params, url_problems, url_widget_key, view_state
from ui.widgets import plain

log = logging.getLogger("cityops.ui")
# The frame's view while a page draws: set and reset around page.run() in the script thread of the run.
_FRAMED_VIEW: ContextVar[ViewState | None] = ContextVar("framed_view", default=None)


def _resolved_state(state: ViewState, viewer: Viewer) -> ViewState:
    """The URL's view with an unknown scope replaced by the viewer's home area (and the problem noted); a link
    without a scope opens the home area too."""
    if "scope" not in st.query_params:
        return set_view(state, scope=viewer.home_code)
    try:
        data.scope(state.scope)
    except UnknownArea as exc:
        url_problems().append(exc.message)
        state = set_view(state, scope=viewer.home_code)
    return state


def admitted(lang: str) -> Viewer | None:
    """The viewer of this run, or None after drawing the only thing the browser may get: the sign-in page, or
    a refusal (a disabled account, no role, the database away) with a sign-out button."""
    with in_language(lang):
        if not signed_in():
            sign_in_page()
            return None
        try:
            return current_viewer()
        except CityOpsError as exc:
            refusal(exc.message)
        except Exception:  # last line of defence: nothing of the city, no traceback
            log.exception("the viewer could not be resolved")
            refusal(t("page_failed"))
    return None


def refuse_page(lang: str) -> None:
    """A page the viewer's roles may not open: a message and a sign-out button, nothing drawn."""
    with in_language(lang):
        refusal(Message("access.page"))


def breadcrumbs(state: ViewState, viewer: Viewer) -> None:
    """City > district > ... > scope; every ancestor inside the jurisdiction is a button that goes back up."""
    path = data.ancestors(state.scope)
    path = path[[may_see(viewer, code) for code in path["code"]]]
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


def _page_links(state: ViewState, links: Mapping[PageSpec, StreamlitPage], viewer: Viewer) -> None:
    """The pages the viewer may open, each link carrying the whole view (scope, window, filters, layers,
    language)."""
    params = url_params(state)
    with st.sidebar:
        for spec, page in links.items():
            if not may_open(viewer, spec.key):
                continue
            st.page_link(page, label=t(spec.key), query_params=params | ({"wall": "1"} if spec is WALL else {}))
        st.divider()


def _scope_names(options: list[str], viewer: Viewer) -> dict[str, str]:
    """Names of the picker's options: the city and its districts by name (one read, for a viewer who sees the
    city), one below a district by its path from the district."""
    city = get_settings().city_code
    names: dict[str, str] = {}
    if may_see(viewer, city):
        districts = data.district_list(city, "district")
        names = dict(zip(districts["code"], districts["name"], strict=True)) | {city: data.scope(city).name}
    for code in options:
        if code not in names:
            path = data.ancestors(code)
            names[code] = " › ".join(path["name"].iloc[1:]) if len(path) > 1 else str(path["name"].iloc[0])
    return names


def _picker_options(state: ViewState, viewer: Viewer) -> list[str]:
    """The city and its districts when the viewer sees the city, their home area, and the scope on screen:
    only areas inside the jurisdiction (the queries would refuse the others)."""
    city = get_settings().city_code
    districts = list(data.district_list(city, "district")["code"]) if may_see(viewer, city) else []
    return [code for code in dict.fromkeys([city, *districts, viewer.home_code, state.scope]) if may_see(viewer, code)]


def _sidebar(state: ViewState, viewer: Viewer) -> None:
    with st.sidebar:
        st.caption(t("scope"))
        options = _picker_options(state, viewer)
        names = _scope_names(options, viewer)
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


def _framed(state: ViewState, page: StreamlitPage, spec: PageSpec, links: Mapping[PageSpec, StreamlitPage],
            viewer: Viewer) -> None:
    """The page links, sidebar, title, URL problems and breadcrumbs, then the page, with the view set for
    current_view(). A page that is not about a scope (not spec.scoped) has no breadcrumbs, one without
    spec.sidebar no scope picker. A scope outside the jurisdiction draws a message and a sign-out button only."""
    if spec.sidebar and not may_see(viewer, state.scope):
        raise OutsideJurisdiction(Message("access.outside", code=state.scope, home=viewer.home_code))
    _page_links(state, links, viewer)
    if spec.sidebar:
        _sidebar(state, viewer)
    st.title(t(spec.key))
    if url_problems():
        st.warning(plain(t("bad_url") + t("problem_separator").join(say(p) for p in url_problems())))
    if spec.scoped:
        breadcrumbs(state, viewer)
    token = _FRAMED_VIEW.set(state)
    try:
        page.run()
    finally:
        _FRAMED_VIEW.reset(token)


def link_to(key: str, label: str, state: ViewState, *, icon: str | None = None) -> None:
    """A link to the page `key` carrying the view, also from a fragment's rerun (outside the frame). The page's
    absolute path: Streamlit resolves a relative one against the running script (app.py, or a test's harness)."""
    st.page_link(str(PROJECT_ROOT / page_spec(key).path), label=label, query_params=url_params(state), icon=icon)


def show_framed(page: StreamlitPage, spec: PageSpec, links: Mapping[PageSpec, StreamlitPage],
                viewer: Viewer) -> None:
    """Draw the frame and the page inside it, in the view's language, then the account box at the sidebar's
    foot; a domain error becomes a message, never a traceback."""
    state = view_state()  # the URL alone: its language holds even when the database is down
    with in_language(state.lang):
        try:
            _framed(_resolved_state(state, viewer), page, spec, links, viewer)
        except OutsideJurisdiction as exc:  # nothing of the page: the message and a sign-out button
            refusal(exc.message)
            return
        except CityOpsError as exc:  # the database down, an unknown area, ... (may quote the URL: as text)
            st.error(plain(say(exc.message)))
        except Exception:  # last line of defence: log for operators, a calm message for users
            log.exception("page %s failed", spec.key)
            st.error(t("page_failed"))
        account_box(viewer, divided=spec.sidebar)  # the page links end in a divider of their own
