"""Live panels: figures refreshed in a fragment, the last good ones kept when the database is down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
import streamlit as st

from clock import now_utc, to_local
from errors import DatabaseUnavailable, InvalidInput, Message, UnknownArea
from ui.i18n import t

T = TypeVar("T")
log = logging.getLogger("cityops.live")
OUTAGE_ERRORS = (sa.exc.SQLAlchemyError, DatabaseUnavailable, OSError)
INPUT_ERRORS = (UnknownArea, InvalidInput)  # no waiting cures these: never answered with kept figures


@dataclass
class Shelf:
    """One session's last good values of a live panel, by key, with the time each was fetched."""

    kept: dict[str, tuple[Any, datetime]] = field(default_factory=dict)
    failing: bool = False  # so an outage is logged once, not on every refresh


def last_good(key: str, compute: Callable[[], T], *, shelf: str = "live",
              errors: tuple[type[Exception], ...] = OUTAGE_ERRORS, any_key: bool = False) -> tuple[T, datetime | None]:
    """(value, None) when fresh; (last good value, time it was fetched) when compute fails with one of errors.

    With any_key, a key never fetched falls back to the newest value on its shelf (a rotating wall
    keeps its last figures). Nothing to fall back on raises DatabaseUnavailable; INPUT_ERRORS pass through.
    """
    kept: Shelf = st.session_state.setdefault(f"_last_good_{shelf}", Shelf())
    try:
        value = compute()
    except INPUT_ERRORS:
        raise
    except errors as exc:
        return _kept_value(kept, shelf, key, any_key, exc)
    if kept.failing:
        log.warning("%s: figures are loading again", shelf)
        kept.failing = False
    kept.kept[key] = (value, now_utc())
    return value, None


def _kept_value(kept: Shelf, shelf: str, key: str, any_key: bool, exc: Exception) -> tuple[Any, datetime]:
    if not kept.failing:
        log.warning("%s: figures for %s could not be loaded; showing the last good ones", shelf, key, exc_info=exc)
        kept.failing = True
    value = kept.kept.get(key)
    if value is None and any_key:
        value = max(kept.kept.values(), key=lambda pair: pair[1], default=None)
    if value is None:
        raise DatabaseUnavailable(Message("db.down_now")) from exc
    return value


def freshness_badge(stale_since: datetime | None) -> None:
    """'Updated HH:MM:SS' or an amber 'stale since HH:MM' marker."""
    if stale_since is None:
        st.caption(f"{t('updated_at')} {to_local(now_utc()).strftime('%H:%M:%S')}")
    else:
        st.warning(f"{t('stale_since')} {to_local(stale_since).strftime('%H:%M')}", icon=":material/schedule:")
