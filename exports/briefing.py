"""The briefing pack for a scope and time window: figures gathered once, rendered, laid out as PDF and PPTX."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from exports.briefing_data import BriefingData, collect, key_figures, render_charts
from exports.briefing_pdf import pack_pdf
from exports.briefing_pptx import pack_pptx
from exports.briefing_story import story
from exports.provenance import ExportView, Provenance
from texts import text

Progress = Callable[[float, str], object]  # what it returns is ignored (a progress bar returns itself)
PDF_MIME = "application/pdf"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@dataclass
class BriefingPack:
    provenance: Provenance
    pdf: bytes
    pptx: bytes
    key_figures: list[tuple[str, str]]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pdf_name(self) -> str:
        return self.provenance.file_name(text("briefing_file", self.provenance.lang), "pdf")

    @property
    def pptx_name(self) -> str:
        return self.provenance.file_name(text("briefing_file", self.provenance.lang), "pptx")


def _noop(fraction: float, message: str) -> None:
    return None


def build_pack(
    engine: Engine, view: ExportView, *, progress: Progress | None = None, data: BriefingData | None = None
) -> BriefingPack:
    """Gather (unless `data` was read already), tell the story once, render its charts, lay it out twice.

    `progress(fraction, message)` follows each step.
    """
    step, timings, started, lang = progress or _noop, {}, time.perf_counter(), view.lang
    step(0.02, text("brief_step_read", lang))
    data = data or collect(engine, view)
    timings["collect"] = time.perf_counter() - started
    pages = story(data)
    charts_ = pages.charts
    step(0.25, text("brief_step_charts", lang))
    images = render_charts(
        charts_,
        lambda n: step(0.25 + 0.5 * n / len(charts_), text("brief_step_chart", lang, n=n, count=len(charts_))),
    )
    timings["render"] = time.perf_counter() - started - timings["collect"]
    step(0.8, text("brief_step_pdf", lang))
    pdf = pack_pdf(pages, images)
    step(0.9, text("brief_step_pptx", lang))
    pptx = pack_pptx(pages, images)
    timings["total"] = time.perf_counter() - started
    step(1.0, text("brief_step_done", lang))
    return BriefingPack(data.provenance, pdf, pptx, key_figures(data), timings)
