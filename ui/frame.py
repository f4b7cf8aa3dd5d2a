"""The frame every page body runs in: sidebar controls, breadcrumbs, and errors shown as messages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from errors import CityOpsError, DatabaseUnavailable, UnknownArea
from settings import get_settings
from ui import data
from ui.i18n import t
from ui.router import run_inside_app_router
from ui.state import WINDOW_HOURS, ViewState, set_view, url_problems, view_state

log = logging.getLogger("cityops.ui")


def _resolved_state() -> ViewState:
    """The URL's view with an unknown scope replaced by the city (and the problem noted)."""
    state = view_state()
    try:
        data.scope(state.scope)
    except UnknownArea as exc:
        url_problems().append(str(exc))
        state = set_view(state, scope=get_settings().city_code)
    return state


def breadcrumbs(state: ViewState) -> None:
    """City > district > ... > scope; every ancestor is a button that goes back up."""
    path = data.ancestors(state.scope)
    columns = st.columns([1] * len(path) + [max(1, 8 - len(path))], gap="small")
    for column, (code, name) in zip(columns, path[["code", "name"]].itertuples(index=False), strict=False):
        current = code == state.scope
        if column.button(name, key=f"crumb-{code}", disabled=current, width="stretch",
                         icon=":material/location_on:" if current else ":material/chevron_right:",
                         type="primary" if current else "secondary"):
            set_view(state, scope=code)
            st.rerun()


def _show_url_value(key: str, value) -> None:
    """Put the URL's value into a keyed widget: it would otherwise keep its old value and undo a
    drill-down, a breadcrumb or the browser's back button."""
    if st.session_state.get(key) != value:
        st.session_state[key] = value


def _picked(key: str, field: str, state: ViewState) -> None:
    """on_change of a sidebar widget: the user's pick goes into the URL before the rerun."""
    set_view(state, **{field: st.session_state[key]})


def _sidebar(state: ViewState) -> None:
    with st.sidebar:
        st.caption(t("scope"))
        city = get_settings().city_code
        districts = data.district_list(city, "district")
        options = [city, *districts["code"]]
        names = dict(zip(districts["code"], districts["name"], strict=True)) | {city: "宁波市"}
        current = state.scope[:6] if state.scope != city else city
        _show_url_value("scope-picker", current if current in options else city)
        st.selectbox(t("scope"), options, format_func=lambda c: names.get(c, c), label_visibility="collapsed",
                     key="scope-picker", on_change=_picked, args=("scope-picker", "scope", state))
        _show_url_value("window-picker", state.window)
        st.radio(t("window"), list(WINDOW_HOURS), format_func=t, key="window-picker",
                 on_change=_picked, args=("window-picker", "window", state))
        _show_url_value("lang-picker", state.lang)
        st.radio(t("language"), ["zh", "en"], format_func=lambda v: "中文" if v == "zh" else "English",
                 horizontal=True, key="lang-picker", on_change=_picked, args=("lang-picker", "lang", state))
        st.caption(t("synthetic_note"))


@contextmanager
def page_frame(title_key: str, *, sidebar: bool = True) -> Iterator[ViewState]:
    """Yield the page's view state; a domain error becomes a message, never a traceback."""
    run_inside_app_router()
    try:
        state = _resolved_state()
        if sidebar:
            _sidebar(state)
        st.title(t(title_key))
        if url_problems():
            st.warning(t("bad_url") + "; ".join(url_problems()))
        breadcrumbs(state)
        yield state
    except DatabaseUnavailable as exc:
        st.error(f"{exc}")
    except CityOpsError as exc:
        st.error(str(exc))
    except Exception:  # last line of defence: log for operators, a calm message for users
        log.exception("page %s failed", title_key)
        st.error("页面暂时无法显示，请稍后刷新。The page could not be shown; please refresh shortly.")
