"""The wall's style sheet (wall.css), read once at import and put on the page on every run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

WALL_CSS = f"<style>\n{(Path(__file__).parent / 'wall.css').read_text(encoding='utf-8')}</style>\n"


def apply_css() -> None:
    st.html(WALL_CSS)
