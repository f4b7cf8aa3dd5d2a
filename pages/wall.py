"""Wall (大屏): the command-centre video wall: live figures, rotating scopes, no chrome, never a traceback."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from access import Viewer, may_see
from errors import CityOpsError, Message
from settings import get_settings
from ui import data, wall
from ui.i18n import in_language, in_view_language, t
from ui.router import run_inside_app_router
from ui.session import admitted_viewer, recheck, refusal
from ui.state import WINDOW_HOURS, ViewState, set_params, url_widget_key, view_state

log = logging.getLogger("cityops.wall")
ROTATE = "rotate"
ON_SCREEN, SLOT = "_wall_on_screen", "_wall_slot"  # the scope whose panels the wall shows, and where

run_inside_app_router()
st.set_page_config(page_title="城运一张图 · 大屏", layout="wide", initial_sidebar_state="collapsed")


def _scope_options(config: wall.WallConfig, viewer: Viewer) -> dict[str, str]:
    """Rotation, then the playlist (already inside the jurisdiction) and, for a viewer who sees the city, its
    districts; names when the database answers."""
    city = get_settings().city_code
    options = {ROTATE: t("wall_rotate")} | {code: code for code in config.playlist}
    try:
        districts = data.district_list(city, "district") if may_see(viewer, city) else None
        names = {} if districts is None else dict(zip(districts["code"], districts["name"], strict=True))
        codes = [*config.playlist, *names]
        return options | {code: names.get(code) or data.scope(code).name for code in codes}
    except Exception:  # the picker still works with bare codes while the database is away
        return options


def _in_jurisdiction(config: wall.WallConfig, viewer: Viewer) -> wall.WallConfig:
    """The playlist cut to the viewer's jurisdiction (their home area when nothing of it is left)."""
    playlist = tuple(code for code in config.playlist if may_see(viewer, code)) or (viewer.home_code,)
    return replace(config, playlist=playlist)


def _controls(config: wall.WallConfig, state: ViewState, viewer: Viewer) -> None:
    """Only for walls whose profile asks: a scope picker and / or the time window."""
    with st.container(key="wall-controls", horizontal=True):
        if "picker" in config.profiles:
            options = _scope_options(config, viewer)
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


def _body(screen: wall.WallScreen) -> DeltaGenerator:
    """The container a refresh draws into, in one of two slots. Streamlit keeps each element of the
    last run on screen until this run replaces it (a block keeps its children), so a new scope drawn
    over the old one would show its header above the old scope's figures until its map is sent. A new
    scope takes the other slot, and the old slot is emptied before any new panel arrives; the same
    scope stays in its slot, so its elements are updated in place and the map is kept."""
    slot = st.session_state.get(SLOT, 0)
    if st.session_state.get(ON_SCREEN) != screen.code:
        slot = 1 - slot
    st.session_state.update({ON_SCREEN: screen.code, SLOT: slot})
    # In slot order: an empty placeholder sent after its path's old block drops that block at once.
    places = [st.container(key="wall-body") if place == slot else st.empty() for place in (0, 1)]
    return places[slot]


def _draw(screen: wall.WallScreen) -> None:
    """All of one scope's panels, computed beforehand, drawn together."""
    with _body(screen):
        if screen.header:
            st.html(screen.header)
        if screen.map is None:
            st.html(screen.waiting)
            return
        left, middle, right = st.columns([23, 47, 30])
        left.html(screen.kpis)
        with middle:
            with st.container(key=f"wall-map-{screen.code}"):
                st.pydeck_chart(screen.map.base, height="stretch", key=f"wall-base-{screen.code}")
                st.pydeck_chart(screen.map.live, height="stretch", key=f"wall-live-{screen.code}")
            st.html(screen.map.legend)
        right.html(screen.side)


@in_view_language
def _live(state: ViewState, /, config: wall.WallConfig, viewport: tuple[int, int]) -> None:
    """One refresh: the scope the playlist is on, fresh figures or the last good ones marked stale."""
    code, index = config.scope_at(time.time())
    recheck(code)  # a disabled viewer's wall is blanked at this refresh
    try:
        figures, stale_since, problem = wall.figures_or_last_good(code, state.window)
        _draw(wall.wall_screen(figures, config, index, stale_since, viewport, problem))
    except Exception:  # a wall never shows a traceback; the next refresh tries again
        log.exception("wall: refresh failed for %s", code)
        _draw(wall.failed_screen())


set_params(wall="1")  # a bookmark of this page opens the wall again
wall.apply_css()
settings = get_settings()
state = view_state()
with in_language(state.lang):
    try:
        viewer: Viewer | None = admitted_viewer()  # app.py let this viewer in a moment ago
    except CityOpsError as exc:
        viewer = None
        refusal(exc.message)
    config = wall.wall_config(st.query_params.to_dict(), settings)
    if viewer is None:
        pass
    elif config.pinned and not may_see(viewer, config.pinned):
        refusal(Message("access.outside", code=config.pinned, home=viewer.home_code))
    else:
        config = _in_jurisdiction(config, viewer)
        viewport = wall.clock(settings.timezone)
        if config.profiles:
            _controls(config, state, viewer)
        st.fragment(_live, run_every=config.period)(state, config, viewport)
