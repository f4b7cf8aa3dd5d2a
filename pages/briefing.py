"""Briefing (简报): the briefing pack (PDF, PPTX) for the scope and window; each chart and its data."""

from __future__ import annotations

import streamlit as st

from errors import ExportFailed
from exports import briefing, briefing_data, figures, tables
from exports.briefing_data import Chart
from ui import briefing_data as pack_data
from ui.frame import current_view
from ui.i18n import t
from ui.state import ViewState
from ui.widgets import plain, table

PACK_KEY = "brief.pack"  # the last pack built in this session: (view key, BriefingPack)


def _build(state: ViewState) -> None:
    with st.status(t("brief_building"), expanded=True) as status:
        bar = st.progress(0.0)
        try:
            view = pack_data.export_view(state)
            pack = pack_data.build_pack(view, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        except ExportFailed as exc:
            status.update(label=t("brief_failed"), state="error")
            st.error(plain(exc))
            return
        status.update(label=t("brief_ready"), state="complete", expanded=False)
    st.session_state[PACK_KEY] = (view, pack)


def pack_section(state: ViewState) -> None:
    st.subheader(t("brief_pack"))
    st.caption(t("brief_contents"))
    if st.button(t("brief_build"), type="primary", icon=":material/description:", key="brief-build"):
        _build(state)
    key, pack = st.session_state.get(PACK_KEY, (None, None))
    if pack is None or key != pack_data.export_view(state):
        return
    left, right, info = st.columns([1, 1, 3])
    files = ((left, "pdf", pack.pdf, pack.pdf_name, briefing.PDF_MIME, ":material/picture_as_pdf:"),
             (right, "pptx", pack.pptx, pack.pptx_name, briefing.PPTX_MIME, ":material/slideshow:"))
    for column, kind, content, name, mime, icon in files:
        column.download_button(t(f"brief_download_{kind}"), content, file_name=name, mime=mime, icon=icon,
                               key=f"brief-{kind}", on_click="ignore")
    info.caption(t("brief_built").format(seconds=pack.timings["total"], as_of=pack.provenance.as_of_text()))


def _image(chart: Chart, provenance, fmt: str):
    """A deferred export: rendered only when the button is clicked (off the script thread)."""
    return lambda: briefing_data.chart_file(chart, provenance, fmt)


def chart_section(state: ViewState) -> None:
    st.subheader(t("brief_charts"))
    st.caption(t("brief_chart_note"))
    facts = pack_data.figures_for(pack_data.export_view(state))
    charts = [
        briefing_data.map_chart(facts),
        *briefing_data.incident_charts(facts),
        *briefing_data.resource_charts(facts),
    ]
    by_key = {c.key: c for c in charts}
    picked = st.selectbox(t("brief_pick_chart"), list(by_key), format_func=lambda k: by_key[k].title, key="brief-chart")
    chart, provenance = by_key[picked], facts.provenance
    st.plotly_chart(chart.figure, width="stretch", key=f"brief-preview-{picked}")
    downloads = [(fmt, _image(chart, provenance, fmt), figures.MIME_TYPES[fmt], ":material/image:")
                 for fmt in ("png", "svg", "pdf")]
    downloads += [("csv", tables.csv_bytes(chart.table, provenance), tables.CSV_MIME, ":material/table:"),
                  ("xlsx", tables.xlsx_bytes(chart.table, provenance), tables.XLSX_MIME, ":material/grid_on:")]
    for column, (fmt, content, mime, icon) in zip(st.columns(len(downloads)), downloads, strict=True):
        column.download_button(fmt.upper(), content, mime=mime, file_name=provenance.file_name(chart.title, fmt),
                               key=f"brief-{picked}-{fmt}", icon=icon, on_click="ignore", width="stretch")
    table(st, chart.table, height=260)


state = current_view()
pack_section(state)
chart_section(state)
