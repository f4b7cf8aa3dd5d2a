"""The view state (scope, window, filters, layers, language) kept in the URL query params."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import streamlit as st

from clock import epoch_hour, hour_start, local_day_start_utc, now_utc
from codes import is_area_code
from errors import Message, Text
from queries.incidents import Filters, Window
from settings import get_settings
from texts import DEFAULT_LANGUAGE, LANGUAGES
from vocab import CATEGORY_CODES, SOURCE_CODES, STATUS_CODES

WINDOW_HOURS = {"today": None, "24h": 24, "7d": 24 * 7, "30d": 24 * 30}
LAYERS = ("grids", "assembly", "depots", "hospitals", "recent")
DEFAULT_LAYERS = ("assembly", "hospitals")
# At the city ~1,600 facility dots cover about a third of the districts a user clicks to drill into, and
# are too dense to read there: the city map starts without them (the layer picker still draws them).
CITY_DEFAULT_LAYERS: tuple[str, ...] = ()
PROBLEMS_KEY = "_view_problems"
SHOWN_VALUE_CHARS = 60  # a URL value named in a message is cut here: 5,000 characters help nobody


def default_layers(scope: str) -> tuple[str, ...]:
    """The map layers a scope shows when the URL names none."""
    return CITY_DEFAULT_LAYERS if scope == get_settings().city_code else DEFAULT_LAYERS


@dataclass(frozen=True)
class ViewState:
    scope: str
    window: str = "today"
    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    layers: tuple[str, ...] = DEFAULT_LAYERS
    lang: str = DEFAULT_LANGUAGE
    scenario: str | None = None

    def time_window(self) -> Window:
        """The window ending at the end of the current hour (a stable cache key within the hour)."""
        end = hour_start(epoch_hour(now_utc()) + 1)
        hours = WINDOW_HOURS[self.window]
        start = local_day_start_utc() if hours is None else end - timedelta(hours=hours)
        return Window(start, end)

    def filters(self) -> Filters:
        return Filters(self.categories, self.sources, self.statuses)


def cut(value: str) -> str:
    """A URL value as a message names it: cut to SHOWN_VALUE_CHARS."""
    return value if len(value) <= SHOWN_VALUE_CHARS else value[:SHOWN_VALUE_CHARS] + "…"


def quoted(value: str) -> str:
    """A URL value in a list of them: in quotes, cut to SHOWN_VALUE_CHARS."""
    return f"'{cut(value)}'"


def _codes(raw: str | None, known: tuple[str, ...], name: str, problems: list[Text]) -> tuple[str, ...]:
    if not raw:
        return ()
    values = tuple(v for v in raw.split(",") if v)
    unknown = [v for v in values if v not in known]
    if unknown:
        problems.append(Message(f"url.bad_{name}", value=", ".join(map(quoted, unknown))))
    return tuple(v for v in values if v in known)


def view_state() -> ViewState:
    """The view in the URL; bad parts fall back to defaults and are noted for the page to show."""
    params, problems = st.query_params, list[Text]()
    city = get_settings().city_code
    scope = params.get("scope", city).strip()
    if not is_area_code(scope):
        problems.append(Message("url.bad_scope", value=cut(scope)))
        scope = city
    window = params.get("window", "today")
    if window not in WINDOW_HOURS:
        problems.append(Message("url.bad_window", value=cut(window)))
        window = "today"
    layers, lang = params.get("layers"), params.get("lang")
    state = ViewState(
        scope=scope,
        window=window,
        categories=_codes(params.get("category"), CATEGORY_CODES, "category", problems),
        sources=_codes(params.get("source"), SOURCE_CODES, "source", problems),
        statuses=_codes(params.get("status"), STATUS_CODES, "status", problems),
        layers=default_layers(scope) if layers is None else _codes(layers, LAYERS, "layers", problems),
        lang=lang if lang is not None and lang in LANGUAGES else DEFAULT_LANGUAGE,
        scenario=params.get("scenario") or None,
    )
    st.session_state[PROBLEMS_KEY] = problems
    return state


def url_problems() -> list[Text]:
    """What view_state() could not understand in the URL (shown once by the page frame)."""
    return st.session_state.get(PROBLEMS_KEY, [])


def url_params(state: ViewState) -> dict[str, str]:
    """The view as URL query params (defaults left out), for the address bar and for links to other pages."""
    default = ViewState(scope=get_settings().city_code)
    encoded = {"scope": state.scope}
    for name, value in (("window", state.window), ("lang", state.lang), ("scenario", state.scenario)):
        if value and value != getattr(default, name):
            encoded[name] = value
    for name, field in (("category", "categories"), ("source", "sources"), ("status", "statuses")):
        if getattr(state, field):
            encoded[name] = ",".join(getattr(state, field))
    if state.layers != default_layers(state.scope):
        encoded["layers"] = ",".join(state.layers)
    return encoded


def set_view(state: ViewState, **changes) -> ViewState:
    """Write a changed view into the URL (the browser history keeps each view)."""
    if "scope" in changes and "layers" not in changes and state.layers == default_layers(state.scope):
        changes["layers"] = default_layers(changes["scope"])  # a view on its scope's defaults keeps following them
    new_state = replace(state, **changes)
    encoded = url_params(new_state)
    kept = {k: v for k, v in st.query_params.to_dict().items() if k in ("wall", "profile", "rotate", "playlist")}
    st.query_params.from_dict({**encoded, **kept})
    return new_state


def url_widget_key(name: str, value: object) -> str:
    """The key of a widget that shows a URL value, naming that value. The browser may send a rerun
    (a fragment's timer) with the values it drew before a drill-down, a breadcrumb or the back
    button changed the URL; under a fixed key such a stale value reads as a user's pick and moves
    the view back. A widget keyed by its value changes value only by the user's hand, and a new
    URL value makes a new widget that starts from it."""
    text = ",".join(value) if isinstance(value, tuple | list) else str(value)
    return f"{name}-{text or 'none'}"


def set_params(**values: str | None) -> None:
    """Set single URL params (None removes one), leaving the rest of the URL as it is."""
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != value:
            st.query_params[name] = value


def replace_window(state: ViewState, window: str) -> ViewState:
    """The same view over another time window (not written to the URL)."""
    return replace(state, window=window)
