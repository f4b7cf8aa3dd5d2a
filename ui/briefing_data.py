"""The Briefing page's figures and pack for the view on screen, read through the one engine."""

from __future__ import annotations

import streamlit as st

from access import Jurisdiction
from exports import briefing, briefing_data
from exports.provenance import ExportView
from ui import data
from ui.state import ViewState


def export_view(state: ViewState) -> ExportView:
    """What an export of this view covers: scope, window, filters and language."""
    return ExportView(state.scope, state.time_window(), state.filters(), window_key=state.window, lang=state.lang)


@data.per_jurisdiction
@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def figures_for(j: Jurisdiction, view: ExportView) -> briefing_data.BriefingData:
    """The pack's figures for a view, read once a minute at most (the preview and the pack share them)."""
    return briefing_data.collect(data.engine_within(j), view)


def build_pack(view: ExportView, *, progress: briefing.Progress) -> briefing.BriefingPack:
    """The PDF and PPTX pack of the view from the figures the page previews (ExportFailed says why not)."""
    return briefing.build_pack(data.get_engine(), view, progress=progress, data=figures_for(view))
