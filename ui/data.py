"""Cached access to the query layer: one engine per process, read within the viewer's jurisdiction, query results
cached with a ttl per jurisdiction (one viewer's cached answer never reaches a viewer who may not see it)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

import streamlit as st
from sqlalchemy.engine import Engine

from access import Jurisdiction
from errors import AccountRefused, Message
from queries import areas, facilities, incidents
from queries.engine import check_reachable, make_engine, within
from queries.incidents import Filters, Window
from settings import get_settings

LIVE_TTL = 2  # seconds: below the live refresh period, so every refresh reads fresh figures
STATIC_TTL = 3600  # seconds: boundaries and area facts
OVERDUE_LIMIT = incidents.OVERDUE_LIMIT  # the most overdue items a list is given
_JURISDICTION = "_viewer_jurisdiction"  # session_state: set by ui.session.current_viewer at every run

R = TypeVar("R", covariant=True)


class Reader(Protocol[R]):
    """A cached reader: called like the query, and cleared when its data changed (e.g. after an import)."""

    def __call__(self, *args: object, **kwargs: object) -> R: ...

    def clear(self) -> None: ...


@st.cache_resource(show_spinner=False)
def system_engine() -> Engine:
    """The process-wide engine (its pool is shared by every session), bound to no viewer: for reading who the
    viewer is (the users table), never for the city's figures."""
    engine = make_engine(get_settings().database_url)
    check_reachable(engine)
    return engine


def read_within(jurisdiction: Jurisdiction | None) -> None:
    """Set the jurisdiction this session reads within (None: it may read nothing)."""
    if jurisdiction is None:
        st.session_state.pop(_JURISDICTION, None)
    else:
        st.session_state[_JURISDICTION] = jurisdiction


def jurisdiction() -> Jurisdiction:
    """The jurisdiction of this session's viewer; AccountRefused when nobody has been let in (fail closed)."""
    found: Jurisdiction | None = st.session_state.get(_JURISDICTION)
    if found is None:
        raise AccountRefused(Message("signin.needed"))
    return found


def get_engine() -> Engine:
    """The engine as this session's viewer sees the database (queries.engine.within)."""
    return engine_within(jurisdiction())


def engine_within(jurisdiction: Jurisdiction) -> Engine:
    return within(system_engine(), jurisdiction)


def per_jurisdiction(cached: Callable[..., R]) -> Reader[R]:
    """A cached reader whose first parameter is the jurisdiction, called with the session's own: the cache
    key holds it, so an answer is only ever served to viewers of the same jurisdiction."""
    @functools.wraps(cached)
    def call(*args: object, **kwargs: object) -> R:
        return cached(jurisdiction(), *args, **kwargs)
    call.clear = cached.clear  # type: ignore[attr-defined]  # e.g. data.hospitals.clear() after an import
    return call  # type: ignore[return-value]  # call has .clear now


@per_jurisdiction
@st.cache_data(ttl=STATIC_TTL, max_entries=512, show_spinner=False)
def scope(j: Jurisdiction, code: str):
    return areas.scope_of(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=STATIC_TTL, max_entries=512, show_spinner=False)
def ancestors(j: Jurisdiction, code: str):
    return areas.ancestors_of(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=STATIC_TTL, max_entries=256, show_spinner=False)
def children(j: Jurisdiction, code: str):
    return areas.children_of(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=STATIC_TTL, max_entries=64, show_spinner=False)
def areas_in(j: Jurisdiction, code: str, level: str):
    return areas.area_geometries(engine_within(j), code, level, display=True)


@per_jurisdiction
@st.cache_data(ttl=STATIC_TTL, max_entries=64, show_spinner=False)
def district_list(j: Jurisdiction, code: str, level: str):
    return areas.areas_at_level(engine_within(j), code, level)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=256, show_spinner=False)
def counts_by_child(j: Jurisdiction, code: str, window: Window, filters: Filters):
    return incidents.incident_counts_by_child(engine_within(j), code, window=window, filters=filters)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=256, show_spinner=False)
def totals(j: Jurisdiction, code: str, window: Window, filters: Filters):
    return incidents.incident_totals(engine_within(j), code, window=window, filters=filters)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=256, show_spinner=False)
def counts_by(j: Jurisdiction, code: str, dimension: str, window: Window, filters: Filters):
    return incidents.incident_counts_by(engine_within(j), code, dimension, window=window, filters=filters)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=128, show_spinner=False)
def hourly(j: Jurisdiction, code: str, window: Window, filters: Filters):
    return incidents.hourly_counts(engine_within(j), code, window=window, filters=filters)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=128, show_spinner=False)
def closed_loop(j: Jurisdiction, code: str, window: Window, filters: Filters):
    return incidents.closed_loop_by_child(engine_within(j), code, window=window, filters=filters)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=64, show_spinner=False)
def latest(j: Jurisdiction, code: str, limit: int = 50):
    return incidents.latest_incidents(engine_within(j), code, limit=limit)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=64, show_spinner=False)
def overdue(j: Jurisdiction, code: str):
    return incidents.overdue_incidents(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=LIVE_TTL, max_entries=64, show_spinner=False)
def recent_points(j: Jurisdiction, code: str, since):
    return incidents.recent_incident_points(engine_within(j), code, since=since)


@per_jurisdiction
@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def assembly_points(j: Jurisdiction, code: str):
    return facilities.assembly_points_in_scope(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def hospitals(j: Jurisdiction, code: str):
    return facilities.hospitals_in_scope(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def depots(j: Jurisdiction, code: str):
    return facilities.depots_in_scope(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def stock(j: Jurisdiction, code: str):
    return facilities.stock_in_scope(engine_within(j), code)


@per_jurisdiction
@st.cache_data(ttl=STATIC_TTL, show_spinner=False)
def dataset_facts(j: Jurisdiction):
    return areas.dataset_facts(engine_within(j))
