"""The big-screen wall: configuration, figures, map decks, HTML panels, clock and style sheet."""

from ui.wall.clock import clock
from ui.wall.config import DEFAULT_VIEWPORT, MIN_ROTATION, PROFILES, WallConfig, wall_config
from ui.wall.decks import base_deck, live_deck, map_view
from ui.wall.figures import Figures, figures_or_last_good, load_figures
from ui.wall.panels import (
    category_panel,
    header_panel,
    incidents_label,
    kpi_panel,
    legend_panel,
    side_panel,
    waiting_panel,
)
from ui.wall.screen import WallMap, WallScreen, failed_screen, wall_screen
from ui.wall.style import apply_css

__all__ = ["DEFAULT_VIEWPORT", "MIN_ROTATION", "PROFILES", "Figures", "WallConfig", "WallMap", "WallScreen",
           "apply_css", "base_deck", "category_panel", "clock", "failed_screen", "figures_or_last_good", "header_panel",
           "incidents_label", "kpi_panel", "legend_panel", "live_deck", "load_figures", "map_view",
           "side_panel", "wall_config", "wall_screen", "waiting_panel"]
