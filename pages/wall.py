"""Wall (大屏): the command-centre video wall: live figures, rotating scopes, no chrome, never a traceback."""

from __future__ import annotations

import logging
import time

import streamlit as st

from settings import get_settings
from ui import data, wall
from ui.i18n import in_language, in_view_language, t
from ui.router import run_inside_app_router
from ui.state import WINDOW_HOURS, ViewState, set_params, url_widget_key, view_state

log = logging.getLogger("cityops.wall")
ROTATE = "rotate"

run_inside_app_router()
st.set_page_config(page_title="城运一张图 · 大屏", layout="wide", initial_sidebar_state="collapsed")


def _scope_options(config: wall.WallConfig) -> dict[str, str]:
    """Rotation, then the playlist and the districts (names when the database answers)."""
    options = {ROTATE: t("wall_rotate")} | {code: code for code in config.playlist}
    try:
        districts = data.district_list(get_settings().city_code, "district")
        names = {**dict(zip(districts["code"], districts["name"], strict=True)),
                 get_settings().city_code: data.scope(get_settings().city_code).name}
    except Exception:  # the picker still works with bare codes while the database is away
        return options
    return options | {code: names.get(code, code) for code in [*config.playlist, *districts["code"]]}


def _controls(config: wall.WallConfig, state: ViewState) -> None:
    """Only for walls whose profile asks: a scope picker and / or the time window."""
    with st.container(key="wall-controls", horizontal=True):
        if "picker" in config.profiles:
            options = _scope_options(config)
            current = config.pinned or ROTATE
            picked = st.selectbox(t("scope"), list(options), index=list(options).index(current)
                                  if current in options else 0, format_func=options.__getitem__,
                                  label_visibility="collapsed", key=url_widget_key("wall-scope-picker", current))
            if picked != current:
                set_params(scope=None if picked == ROTATE else picked)
                st.rerun()
        if "window" in config.profiles:
            window = st.segmented_control(t("window"), list(WINDOW_HOURS), default=state.window, format_func=t,
                                          label_visibility="collapsed", key=url_widget_key("wall-window", state.window))
            if window and window != state.window:
                set_params(window=None if window == "today" else window)
                st.rerun()


def _map(figures: wall.Figures, viewport: tuple[int, int]) -> None:
    view, scale = wall.map_view(figures.children, viewport), viewport[1] / wall.DEFAULT_VIEWPORT[1]
    base, breaks = wall.base_deck(figures, view, scale)
    with st.container(key="wall-map"):
        st.pydeck_chart(base, height="stretch", key=f"wall-base-{figures.code}")
        st.pydeck_chart(wall.live_deck(figures, view, scale), height="stretch", key=f"wall-live-{figures.code}")
    st.html(wall.legend_panel(breaks))


@in_view_language
def _live(state: ViewState, /, config: wall.WallConfig, viewport: tuple[int, int]) -> None:
    """One refresh: the scope the playlist is on, fresh figures or the last good ones marked stale."""
    code, index = config.scope_at(time.time())
    try:
        figures, stale_since, problem = wall.figures_or_last_good(code, state.window)
        st.html(wall.header_panel(figures, config, index, stale_since))
        if figures is None:
            st.html(wall.waiting_panel(problem))
            return
        left, middle, right = st.columns([23, 47, 30])
        left.html(wall.kpi_panel(figures))
        with middle:
            _map(figures, viewport)
        right.html(wall.side_panel(figures))
    except Exception:  # a wall never shows a traceback; the next refresh tries again
        log.exception("wall: refresh failed for %s", code)
        st.html(wall.waiting_panel())


set_params(wall="1")  # a bookmark of this page opens the wall again
wall.apply_css()
settings = get_settings()
config = wall.wall_config(st.query_params.to_dict(), settings)
state = view_state()
with in_language(state.lang):
    viewport = wall.clock(settings.timezone)
    if config.profiles:
        _controls(config, state)
    st.fragment(_live, run_every=config.period)(state, config, viewport)
