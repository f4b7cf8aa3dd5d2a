"""Small shared widgets: KPI tiles, the map legend, freshness labels, number formats."""

from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import streamlit as st

import formats
from clock import now_utc, to_local
from settings import get_settings
from ui.i18n import current_language, t


def fmt_int(value) -> str:
    """formats.fmt_int in the view's language."""
    return formats.fmt_int(value, lang=current_language())


def fmt_num(value, digits: int = 1) -> str:
    """formats.fmt_num in the view's language."""
    return formats.fmt_num(value, digits, lang=current_language())


def fmt_pct(value, digits: int = 1) -> str:
    """formats.fmt_pct in the view's language."""
    return formats.fmt_pct(value, digits, lang=current_language())


def kpi_row(tiles: list[tuple[str, str, str | None]]) -> None:
    """One row of KPI tiles: (label key, value text, optional help text)."""
    for column, (key, value, helptext) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(t(key), value, help=helptext, border=True)


def table(container, frame: pd.DataFrame, *, width: str = "stretch", cell_css: pd.DataFrame | None = None,
          **options) -> None:
    """A read-only table with thousands separators on its number columns (230,300, not 230300);
    width="content" fits the columns to their text instead of the page's width; cell_css (the frame's
    shape, CSS text or "") styles single cells."""
    numbers = {c: st.column_config.NumberColumn(format="localized") for c in frame.select_dtypes("number").columns}
    shown = frame if cell_css is None else frame.style.apply(lambda _: cell_css, axis=None)
    container.dataframe(shown, column_config=numbers, hide_index=True, width=width, **options)


def legend(entries: list[tuple[str, tuple[int, int, int]]], title_key: str) -> None:
    """A colour legend for the choropleth, as a row of swatches."""
    swatches = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:14px">'
        f'<span style="width:18px;height:14px;background:rgb{color};border:1px solid #555;'
        f'margin-right:6px;display:inline-block"></span>{html.escape(label)}</span>'
        for label, color in entries
    )
    st.markdown(f'<div class="cityops-legend"><b>{html.escape(t(title_key))}</b>&nbsp;&nbsp;{swatches}</div>',
                unsafe_allow_html=True)


def is_stale(moment: datetime, now: datetime | None = None) -> bool:
    age_hours = ((now or now_utc()) - pd.Timestamp(moment).to_pydatetime()).total_seconds() / 3600
    return age_hours > get_settings().stale_after_hours


def local_time_text(moment) -> str:
    if moment is None or pd.isna(moment):
        return "—"
    return to_local(pd.Timestamp(moment).to_pydatetime()).strftime("%m-%d %H:%M")


def freshness(frame: pd.DataFrame) -> pd.Series:
    """'Current' or 'Stale' per row from its last_updated (naive UTC)."""
    now = now_utc()
    return frame["last_updated"].map(lambda m: t("stale") if is_stale(m, now) else t("fresh"))
