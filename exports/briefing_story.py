"""The briefing pack told once: its pages in order, what each shows and says when empty, for every writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from exports.briefing_data import (
    BriefingData,
    Chart,
    below_minimum,
    hotspot_rows,
    hotspots,
    incident_charts,
    key_figures,
    map_chart,
    resource_charts,
    resource_summary,
)
from exports.provenance import Provenance
from formats import fmt_int, fmt_quantity
from texts import term, text

# cover: title, subtitle, lines, one label/value table; kpis: tiles; map: the map (it carries its own
# title); charts: one or two charts; summary: lines, then charts; tables: one table or two side by side.
Kind = Literal["cover", "kpis", "map", "charts", "summary", "tables"]

# (page title label, chart keys); a chart the data does not have is left out of its page.
CHART_PAGES = (
    ("incident_charts_1", ("by_category", "by_source")),
    ("incident_charts_2", ("by_status", "closed_loop")),
    ("hourly_trend", ("hourly_trend",)),
)
RESOURCE_CHARTS = ("beds_by_type", "stock_vs_min")
HOTSPOT_SHARES = (0.07, 0.27, 0.12, 0.14, 0.12, 0.14, 0.14)
BELOW_MIN_SHARES = (0.46, 0.18, 0.18, 0.18)


TILE_ROWS = 2  # the key figures page: its tiles in two rows, as many columns as that needs


def tile_columns(tiles: list[tuple[str, str]]) -> int:
    """Columns of the key figures' grid: the tiles split over TILE_ROWS rows, the last row maybe shorter."""
    return max(1, -(-len(tiles) // TILE_ROWS))


@dataclass(frozen=True)
class TextTable:
    """A table printed as text: body rows under an optional header row."""

    key: str
    rows: list[list[str]]
    lang: str
    header: list[str] | None = None  # None: label/value rows without a header
    title: str | None = None  # heading above the table where a page holds two
    empty: str | None = None  # printed instead of the table when it has no rows (None: the header alone)
    shares: tuple[float, ...] | None = None  # relative column widths (None: equal)

    def clipped(self, limit: int) -> tuple[list[list[str]], str | None]:
        """The rows a page has room for and, when some are left out, the note saying how many."""
        if len(self.rows) <= limit:
            return self.rows, None
        return self.rows[:limit], text("more_rows", self.lang, n=len(self.rows) - limit)


@dataclass(frozen=True)
class Section:
    """One page of the pack: one PDF page, one slide."""

    kind: Kind
    title: str  # the page heading (the map's is drawn inside its image)
    subtitle: str | None = None
    lines: list[str] = field(default_factory=list)
    tiles: list[tuple[str, str]] = field(default_factory=list)  # (label, value), drawn in TILE_ROWS rows
    charts: list[Chart] = field(default_factory=list)
    tables: list[TextTable] = field(default_factory=list)


@dataclass(frozen=True)
class Story:
    """The sections of a pack and the provenance texts every page and the file's properties carry."""

    sections: list[Section]
    lang: str
    title: str  # the document's title property
    subject: str  # the document's subject property: the provenance stamp
    header: str  # running head: scope and pack title
    footer: str  # provenance stamp, export time and data source

    @property
    def charts(self) -> list[Chart]:
        """Every chart the sections show, in page order: the images to render."""
        return [chart for section in self.sections for chart in section.charts]

    def page_label(self, number: int) -> str:
        return text("page_of", self.lang, n=number)


def story(data: BriefingData) -> Story:
    """The pack for the data: cover, key figures, map, incident charts, resources, details, hotspots."""
    provenance, lang = data.provenance, data.provenance.lang
    charts = {c.key: c for c in [map_chart(data), *incident_charts(data), *resource_charts(data)]}
    sections = [
        _cover(provenance),
        Section("kpis", text("key_figures", lang), tiles=key_figures(data)),
        Section("map", charts["map"].title, charts=[charts["map"]]),
        *[Section("charts", text(title, lang), charts=_present(charts, keys)) for title, keys in CHART_PAGES],
        Section(
            "summary", text("resources", lang), lines=resource_summary(data), charts=_present(charts, RESOURCE_CHARTS)
        ),
        Section("tables", text("resource_details", lang), tables=[_assembly_kinds(data), _below_minimum(data)]),
        _hotspots(data),
    ]
    briefing_title = text("briefing_title", lang)
    return Story(
        sections=sections,
        lang=lang,
        title=f"{provenance.scope_title} {briefing_title}",
        subject=provenance.stamp(),
        header=f"{provenance.scope_title} · {briefing_title}",
        footer=(
            f"{provenance.stamp()} | {text('exported_at', lang)}: {provenance.exported_text()} | "
            f"{text('data_source', lang)}: {provenance.source_text()}"
        ),
    )


def _present(charts: dict[str, Chart], keys: tuple[str, ...]) -> list[Chart]:
    return [charts[k] for k in keys if k in charts]


def _cover(provenance: Provenance) -> Section:
    lang = provenance.lang
    rows = [[k, v] for k, v in provenance.items()]
    return Section(
        "cover",
        provenance.scope_title,
        subtitle=text("briefing_title", lang),
        lines=[provenance.window_text()],
        tables=[TextTable("provenance", rows, lang, shares=(0.2, 0.8))],
    )


def _assembly_kinds(data: BriefingData) -> TextTable:
    lang = data.provenance.lang
    rows = [
        [term("assembly_kind", str(r.kind), lang), fmt_int(r.points), fmt_int(r.capacity), fmt_int(r.open_capacity)]
        for r in data.assembly_kinds.itertuples()
    ]
    header = [text(k, lang) for k in ("kind", "points", "capacity", "open_capacity")]
    return TextTable("assembly_kinds", rows, lang, header, title=text("assembly_points", lang))


def _below_minimum(data: BriefingData) -> TextTable:
    lang = data.provenance.lang
    rows = [
        [str(r.depot_name), str(r.item),
         fmt_quantity(r.quantity, str(r.unit), lang), fmt_quantity(r.min_level, str(r.unit), lang)]
        for r in below_minimum(data).itertuples()
    ]
    return TextTable(
        "below_min",
        rows,
        lang,
        [text(k, lang) for k in ("depot", "item", "quantity", "min_level")],
        title=text("supplies_below_min", lang),
        empty=text("none_below_min" if len(data.stock) else "no_depots", lang),
        shares=BELOW_MIN_SHARES,
    )


def _hotspots(data: BriefingData) -> Section:
    lang, top = data.provenance.lang, hotspots(data)
    header, *rows = hotspot_rows(top, lang)
    table = TextTable("hotspots", rows, lang, header, empty=text("no_children", lang), shares=HOTSPOT_SHARES)
    return Section("tables", text("hotspots", lang, n=len(top)), tables=[table])
