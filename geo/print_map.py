"""Geometry of a printed (tile-free) map: outlines as plot paths, true-scale extent, scale bar, labels."""

from __future__ import annotations

import math
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

KM_PER_DEGREE = 111.32  # along a meridian; along a parallel, times cos(latitude)
NICE_KM = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)

Bounds = tuple[float, float, float, float]


def _rings(geometry: BaseGeometry) -> list[np.ndarray]:
    polygons = getattr(geometry, "geoms", [geometry])
    return [np.asarray(p.exterior.coords) for p in polygons if not p.is_empty]


def ring_paths(geometries: Iterable[BaseGeometry]) -> tuple[list[float | None], list[float | None]]:
    """x and y of every exterior ring, rings separated by None (plotly fills each one)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for geometry in geometries:
        for ring in _rings(geometry):
            xs += [*ring[:, 0].tolist(), None]
            ys += [*ring[:, 1].tolist(), None]
    return xs, ys


def true_scale_extent(bounds: Bounds, width_px: int, height_px: int, pad_x: float = 1.08,
                      pad_y: float = 1.16) -> Bounds:
    """Bounds padded, then widened in x or y so a width_px x height_px plot shows them true to scale.

    A degree of latitude is 1/cos(lat) times as long on the ground as a degree of longitude.
    """
    minx, miny, maxx, maxy = bounds
    cos_lat = math.cos(math.radians((miny + maxy) / 2))
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    span_x, span_y = max(maxx - minx, 1e-4) * pad_x, max(maxy - miny, 1e-4) * pad_y
    per_px = max(span_x * cos_lat / width_px, span_y / height_px)  # ground per pixel, equal both ways
    half_x, half_y = per_px * width_px / cos_lat / 2, per_px * height_px / 2
    return cx - half_x, cy - half_y, cx + half_x, cy + half_y


def scale_bar_km(span_km: float) -> float:
    """A round length near a fifth of the map width."""
    target = span_km / 5
    return max((k for k in NICE_KM if k <= target), default=NICE_KM[0])


def scale_bar(bounds: Bounds) -> tuple[float, float, float, float]:
    """(x0, x1, y, length_km) of a scale bar in the lower left corner of the extent, in degrees."""
    minx, miny, maxx, maxy = bounds
    km_per_deg = KM_PER_DEGREE * math.cos(math.radians((miny + maxy) / 2))
    length_km = scale_bar_km((maxx - minx) * km_per_deg)
    x0, y = minx + 0.03 * (maxx - minx), miny + 0.03 * (maxy - miny)
    return x0, x0 + length_km / km_per_deg, y, length_km


def label_points(areas: gpd.GeoDataFrame, extent: Bounds, plot_px: tuple[int, int], text_px: pd.Series,
                 line_px: float) -> tuple[gpd.GeoDataFrame, gpd.GeoSeries]:
    """The areas big enough on the plot to hold their label (text_px wide, two lines high), and a
    point inside each: the names of small areas would overlap their neighbours'."""
    x_per_px = (extent[2] - extent[0]) / plot_px[0]
    y_per_px = (extent[3] - extent[1]) / plot_px[1]
    boxes = areas.geometry.bounds
    width_px = (boxes["maxx"] - boxes["minx"]) / x_per_px
    height_px = (boxes["maxy"] - boxes["miny"]) / y_per_px
    named = areas[(width_px >= 0.9 * text_px) & (height_px >= 2 * line_px)]
    return named, named.geometry.representative_point()
