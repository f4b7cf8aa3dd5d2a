"""Small shared widgets: KPI tiles, the map legend, freshness labels, number formats."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import pandas as pd
import streamlit as st

import formats
from clock import now_utc, to_local
from settings import get_settings
from ui.i18n import current_language, t

# CommonMark lets a backslash escape any ASCII punctuation: with all of it escaped no Markdown, HTML,
# LaTeX, colour or icon syntax is left. GFM's bare links (http://…, www.…, a@b.c) are found in the
# text after the escapes are resolved, so a WORD JOINER (invisible, no line break) splits their
# marker instead: "http:\u2060//", "www\u2060.", "@\u2060".
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_BARE_LINK_MARKERS = re.compile(r"(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    """Markdown that shows `text` as typed, for outside text (URL values, names, descriptions, file
    names) in anything Streamlit renders as Markdown: st.warning/error/info/success/caption/write/
    markdown, button and radio labels, metric labels. Line breaks become spaces."""
    joined = _BARE_LINK_MARKERS.sub(WORD_JOINER, " ".join(str(text).splitlines()))
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", joined)


def fmt_int(value) -> str:
    """formats.fmt_int in the view's language."""
    return formats.fmt_int(value, lang=current_language())


def fmt_num(value, digits: int = 1) -> str:
    """formats.fmt_num in the view's language."""
    return formats.fmt_num(value, digits, lang=current_language())


def fmt_quantity(value, unit: str) -> str:
    """formats.fmt_quantity in the view's language ('342 艘', '12.5 吨')."""
    return formats.fmt_quantity(value, unit, lang=current_language())


def fmt_pct(value, digits: int = 1) -> str:
    """formats.fmt_pct in the view's language."""
    return formats.fmt_pct(value, digits, lang=current_language())


def kpi_row(tiles: list[tuple[str, str, str | None]]) -> None:
    """One row of KPI tiles: (label key, value text, optional help text)."""
    for column, (key, value, helptext) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(t(key), value, help=helptext, border=True)


# Column formats for numbers kept as numbers (a table sorts them as numbers; a preformatted "9.5%" sorts as text).
PERCENT = "%.1f%%"  # a column of percentages (the ratio times 100), one decimal
ONE_DECIMAL = "%,.1f"


def _styles(frame: pd.DataFrame, row_colours: Sequence[str] | None,
            cell_css: pd.DataFrame | None) -> pd.DataFrame | None:
    """CSS text per cell (the frame's shape): a row's background, then a cell's own style after it."""
    if row_colours is None and cell_css is None:
        return None
    rows = [f"background-color:{c}" if c else "" for c in (row_colours or [""] * len(frame))]
    css = pd.DataFrame({c: rows for c in frame.columns}, index=frame.index)
    if cell_css is not None:
        css = (css + ";" + cell_css.reset_index(drop=True)).map(lambda s: s.strip(";"))
    return css


def table(container, frame: pd.DataFrame, *, width: str = "stretch", formats: Mapping[str, str] | None = None,
          row_colours: Sequence[str] | None = None, cell_css: pd.DataFrame | None = None, **options) -> None:
    """A read-only table with thousands separators on its number columns (230,300, not 230300);
    `formats` gives other columns' number formats (PERCENT, ONE_DECIMAL), `row_colours` a background per
    row ("" for none), `cell_css` (the frame's shape, CSS text or "") styles single cells; width="content"
    fits the columns to their text instead of the page's width."""
    numbers = {c: st.column_config.NumberColumn(format=(formats or {}).get(c, "localized"))
               for c in frame.select_dtypes("number").columns}
    frame = frame.reset_index(drop=True)  # row_colours and cell_css by position
    css = _styles(frame, row_colours, cell_css)
    shown = frame if css is None else frame.style.apply(lambda _: css, axis=None)
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


# Streamlit draws the uploader's button ("Upload") and its limit line ("20MB per file • CSV, XLSX") in English
# and has no parameter for either (label and help are the only texts it takes; streamlit/streamlit#13500 asks
# for one, #10042 was closed unmerged). So CSS puts our texts there, scoped to the one uploader by its key:
# the English stays in the DOM at font size 0, the view's text is drawn by ::after at Streamlit's own 14 px.
_UPLOADER_CSS = """
.st-key-{key} [data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p,
.st-key-{key} [data-testid=stFileUploaderDropzoneInstructions] span {{font-size: 0}}
.st-key-{key} [data-testid=stFileUploaderDropzone] button [data-testid=stMarkdownContainer] p::after
  {{content: {button}; font-size: 14px}}
.st-key-{key} [data-testid=stFileUploaderDropzoneInstructions] span::after {{content: {limit}; font-size: 14px}}
"""


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ") + '"'


def file_uploader(container, label: str, *, types: list[str], key: str, max_mb: int):
    """st.file_uploader whose every text is in the view's language; it refuses files over max_mb."""
    limit = f"{t('uploader_limit', mb=max_mb)} • {', '.join(kind.upper() for kind in types)}"
    css = _UPLOADER_CSS.format(key=key, button=_css_string(t("uploader_button")), limit=_css_string(limit))
    container.html(f"<style>{css}</style>")
    return container.file_uploader(label, type=types, key=key, max_upload_size=max_mb)
