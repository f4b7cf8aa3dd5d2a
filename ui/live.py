"""Live panels: figures refreshed in a fragment, the last good ones kept when the database is down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
import streamlit as st

from clock import now_utc, to_local
from errors import DatabaseUnavailable
from ui.i18n import t

T = TypeVar("T")
log = logging.getLogger("cityops.live")
OUTAGE_ERRORS = (sa.exc.SQLAlchemyError, DatabaseUnavailable, OSError)


def last_good(key: str, compute: Callable[[], T]) -> tuple[T, datetime | None]:
    """(value, None) when fresh; (last good value, time it was fetched) when the database fails."""
    slot = f"_last_good_{key}"
    try:
        value = compute()
    except OUTAGE_ERRORS as exc:
        if slot not in st.session_state:
            raise DatabaseUnavailable("数据库暂时无法连接 The database cannot be reached right now.") from exc
        log.warning("serving last good %s: %s", key, exc.__class__.__name__)
        value, fetched = st.session_state[slot]
        return value, fetched
    st.session_state[slot] = (value, now_utc())
    return value, None


def freshness_badge(stale_since: datetime | None) -> None:
    """'Updated HH:MM:SS' or an amber 'stale since HH:MM' marker."""
    if stale_since is None:
        st.caption(f"{t('updated_at')} {to_local(now_utc()).strftime('%H:%M:%S')}")
    else:
        st.warning(f"{t('stale_since')} {to_local(stale_since).strftime('%H:%M')}", icon=":material/schedule:")
