"""One refresh of the wall, computed whole for one scope before any of it is drawn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geo.layers import CompactDeck
from ui.wall.config import DEFAULT_VIEWPORT, WallConfig
from ui.wall.decks import base_deck, live_deck, map_view
from ui.wall.figures import Figures
from ui.wall.panels import header_panel, kpi_panel, legend_panel, side_panel, waiting_panel


@dataclass(frozen=True)
class WallMap:
    base: CompactDeck  # the choropleth (its spec changes only when an area changes class)
    live: CompactDeck  # recent incidents, laid over it
    legend: str  # HTML


@dataclass(frozen=True)
class WallScreen:
    """Every panel of one refresh, all computed for `code` ('' while there are no figures)."""

    code: str
    header: str  # HTML: brand, scope name, rotation dots, as-of or stale marker
    kpis: str = ""  # HTML, left column
    side: str = ""  # HTML, right column
    map: WallMap | None = None
    waiting: str = ""  # HTML shown instead of the figures

    @property
    def has_figures(self) -> bool:
        return self.map is not None


def _wall_map(figures: Figures, viewport: tuple[int, int]) -> WallMap:
    view, scale = map_view(figures.children, viewport), viewport[1] / DEFAULT_VIEWPORT[1]
    base, breaks = base_deck(figures, view, scale)
    return WallMap(base, live_deck(figures, view, scale), legend_panel(figures.code, breaks))


def wall_screen(figures: Figures | None, config: WallConfig, index: int, stale_since: datetime | None,
                viewport: tuple[int, int], problem: str | None = None) -> WallScreen:
    """The screen for the figures of one scope, or the waiting one when there are none."""
    header = header_panel(figures, config, index, stale_since)
    if figures is None:
        return WallScreen("", header, waiting=waiting_panel(problem))
    return WallScreen(figures.code, header, kpi_panel(figures), side_panel(figures), _wall_map(figures, viewport))


def failed_screen() -> WallScreen:
    """What a refresh that failed shows: a calm wait, never a traceback (the next refresh tries again)."""
    return WallScreen("", "", waiting=waiting_panel())
