"""Cached access to the query layer: one engine per process, query results cached with a ttl."""

from __future__ import annotations

import streamlit as st

from queries import areas, facilities, incidents
from queries.engine import check_reachable, make_engine
from queries.incidents import Filters, Window
from settings import get_settings

LIVE_TTL = 2  # seconds: below the live refresh period, so every refresh reads fresh figures
STATIC_TTL = 3600  # seconds: boundaries and area facts
OVERDUE_LIMIT = incidents.OVERDUE_LIMIT  # the most overdue items a list is given


@st.cache_resource(show_spinner=False)
def get_engine():
    """The process-wide engine (its pool is shared by every session)."""
    engine = make_engine(get_settings().database_url)
    check_reachable(engine)
    return engine


@st.cache_data(ttl=STATIC_TTL, max_entries=512, show_spinner=False)
def scope(code: str):
    return areas.scope_of(get_engine(), code)


@st.cache_data(ttl=STATIC_TTL, max_entries=512, show_spinner=False)
def ancestors(code: str):
    return areas.ancestors_of(get_engine(), code)


@st.cache_data(ttl=STATIC_TTL, max_entries=256, show_spinner=False)
def children(code: str):
    return areas.children_of(get_engine(), code)


@st.cache_data(ttl=STATIC_TTL, max_entries=64, show_spinner=False)
def areas_in(code: str, level: str):
    return areas.area_geometries(get_engine(), code, level, display=True)


@st.cache_data(ttl=STATIC_TTL, max_entries=64, show_spinner=False)
def district_list(code: str, level: str):
    return areas.areas_at_level(get_engine(), code, level)


@st.cache_data(ttl=LIVE_TTL, max_entries=256, show_spinner=False)
def counts_by_child(code: str, window: Window, filters: Filters):
    return incidents.incident_counts_by_child(get_engine(), code, window=window, filters=filters)


@st.cache_data(ttl=LIVE_TTL, max_entries=256, show_spinner=False)
def totals(code: str, window: Window, filters: Filters):
    return incidents.incident_totals(get_engine(), code, window=window, filters=filters)


@st.cache_data(ttl=LIVE_TTL, max_entries=256, show_spinner=False)
def counts_by(code: str, dimension: str, window: Window, filters: Filters):
    return incidents.incident_counts_by(get_engine(), code, dimension, window=window, filters=filters)


@st.cache_data(ttl=LIVE_TTL, max_entries=128, show_spinner=False)
def hourly(code: str, window: Window, filters: Filters):
    return incidents.hourly_counts(get_engine(), code, window=window, filters=filters)


@st.cache_data(ttl=LIVE_TTL, max_entries=128, show_spinner=False)
def closed_loop(code: str, window: Window, filters: Filters):
    return incidents.closed_loop_by_child(get_engine(), code, window=window, filters=filters)


@st.cache_data(ttl=LIVE_TTL, max_entries=64, show_spinner=False)
def latest(code: str, limit: int = 50):
    return incidents.latest_incidents(get_engine(), code, limit=limit)


@st.cache_data(ttl=LIVE_TTL, max_entries=64, show_spinner=False)
def overdue(code: str):
    return incidents.overdue_incidents(get_engine(), code)


@st.cache_data(ttl=LIVE_TTL, max_entries=64, show_spinner=False)
def recent_points(code: str, since):
    return incidents.recent_incident_points(get_engine(), code, since=since)


@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def assembly_points(code: str):
    return facilities.assembly_points_in_scope(get_engine(), code)


@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def hospitals(code: str):
    return facilities.hospitals_in_scope(get_engine(), code)


@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def depots(code: str):
    return facilities.depots_in_scope(get_engine(), code)


@st.cache_data(ttl=60, max_entries=128, show_spinner=False)
def stock(code: str):
    return facilities.stock_in_scope(get_engine(), code)


@st.cache_data(ttl=STATIC_TTL, show_spinner=False)
def dataset_facts():
    return areas.dataset_facts(get_engine())
