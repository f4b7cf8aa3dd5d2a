"""The wall's map: a still choropleth that is rarely re-sent, and a small live deck of recent incidents."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk

from geo import layers as build
from geo.layers import CompactDeck
from ui.i18n import term
from ui.wall.figures import Figures

# Share of the viewport the map panel takes (see wall.css: column widths and the map height).
MAP_WIDTH_SHARE, MAP_HEIGHT_SHARE = 0.45, 0.82
# Area names at 1080p, grown with the screen: 22 px is about 6 mm on a 55" 1080p panel, read from 3-10 m.
WALL_LABEL_PX = 22


def _still(deck: CompactDeck) -> CompactDeck:
    deck.views = [pdk.View(type="MapView", controller=False)]  # nobody pans a wall
    return deck


def map_view(children: gpd.GeoDataFrame, viewport: tuple[int, int]) -> pdk.ViewState:
    """The view fitting the scope's children in the map panel (depends on scope and screen only)."""
    width, height = viewport
    return build.view_for_bounds(tuple(children.total_bounds), width_px=int(width * MAP_WIDTH_SHARE),
                                 height_px=int(height * MAP_HEIGHT_SHARE))


def _scaled(layer: pdk.Layer, scale: float, **pixels: float) -> pdk.Layer:
    """Pixel sizes grown with the screen, so lines and dots look the same at 1080p and at 4K."""
    for name, value in pixels.items():
        setattr(layer, name, round(value * scale, 1))
    return layer


def base_deck(figures: Figures, view: pdk.ViewState, scale: float = 1.0) -> tuple[CompactDeck, list[float]]:
    """The choropleth; its spec changes only when an area changes class (so it is rarely re-sent)."""
    children = figures.children
    breaks = build.class_breaks(children["incidents"])
    upper = np.array(breaks)[build.class_index(children["incidents"], breaks)]
    shaded = children.assign(shade=upper)
    layer = build.choropleth_layer(shaded, "shade", shaded["name"], breaks)
    labels = build.label_layer(children, size_px=round(WALL_LABEL_PX * scale, 1))
    return _still(build.deck([_scaled(layer, scale, line_width_min_pixels=1.5), labels], view)), breaks


def live_deck(figures: Figures, view: pdk.ViewState, scale: float = 1.0) -> CompactDeck:
    """The recent incidents alone, on a transparent deck laid over the choropleth (it pulses)."""
    recent = figures.recent
    tips = recent["category"].map(lambda c: term("category", c)) if len(recent) else pd.Series(dtype=str)
    layer = _scaled(build.recent_layer(recent, tips), scale, radius_min_pixels=7, line_width_min_pixels=2)
    return _still(build.deck([layer], view))
