"""The wall's clock: a browser-side component that ticks every second and reports the screen size."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from texts import LANGUAGES
from ui.i18n import current_language
from ui.wall.config import DEFAULT_VIEWPORT

HERE = Path(__file__).parent
CLOCK_HTML = '<div class="clock"><div class="time">--:--:--</div><div class="date"></div></div>'
_clock_component = st.components.v2.component(
    "cityops_wall_clock", html=CLOCK_HTML, css=(HERE / "clock.css").read_text(encoding="utf-8"),
    js=(HERE / "clock.js").read_text(encoding="utf-8"))


def clock(timezone: str, key: str = "wall-clock") -> tuple[int, int]:
    """Draw the live clock; return the browser's viewport size (a default until it is known)."""
    known = (st.session_state.get(key) or {}).get("viewport") or {}
    size = (int(known.get("width") or 0), int(known.get("height") or 0))
    _clock_component(key=key, data={"tz": timezone, "locale": LANGUAGES[current_language()].browser_locale,
                                    "known": f"{size[0]}x{size[1]}"},
                     on_viewport_change=lambda: None, width="content")
    return size if all(size) else DEFAULT_VIEWPORT
