"""Exact partitions of a polygon into cells (Voronoi of density-weighted seeds, clipped)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.sampling import points_in_polygon

DensityFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    """The polygonal part of a geometry as a MultiPolygon (drops points/lines from clipping)."""
    parts = [p for p in shapely.get_parts(geometry) if isinstance(p, Polygon) and not p.is_empty]
    if not parts:  # a collection: look one level deeper
        parts = [
            q
            for p in shapely.get_parts(geometry)
            for q in shapely.get_parts(p)
            if isinstance(q, Polygon) and not q.is_empty
        ]
    return MultiPolygon(parts)


def _seeds(polygon: BaseGeometry, count: int, density: DensityFn, rng: np.random.Generator) -> np.ndarray:
    """Seed points drawn with probability proportional to density: dense places get small cells."""
    lon, lat = points_in_polygon(polygon, count * 8, rng)
    weight = density(lon, lat)
    pick = rng.choice(lon.size, size=count, replace=False, p=weight / weight.sum())
    return np.column_stack([lon[pick], lat[pick]])


def _voronoi_cells(polygon: BaseGeometry, seeds: np.ndarray) -> list[MultiPolygon]:
    diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=polygon)
    cells = shapely.intersection(shapely.get_parts(diagram), polygon)
    return [as_multipolygon(c) for c in cells if not c.is_empty and c.area > 0]


def partition(
    polygon: BaseGeometry,
    count: int,
    rng: np.random.Generator,
    density: DensityFn,
    relax_steps: int = 1,
) -> list[MultiPolygon]:
    """Split a polygon into about `count` cells that cover it with no gaps and no overlaps."""
    if count <= 1:
        return [as_multipolygon(polygon)]
    shapely.prepare(polygon)
    seeds = _seeds(polygon, count, density, rng)
    cells = _voronoi_cells(polygon, seeds)
    for _ in range(relax_steps):  # one Lloyd step evens out the cells, keeping density contrast
        centroids = shapely.point_on_surface(np.array(cells))
        seeds = np.unique(shapely.get_coordinates(centroids), axis=0)
        cells = _voronoi_cells(polygon, seeds)
    return cells
