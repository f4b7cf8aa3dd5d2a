"""Random points inside polygons (rejection sampling against each polygon's bounding box)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from geopandas.array import GeometryArray
from shapely.geometry.base import BaseGeometry


def points_in_polygon(
    polygon: BaseGeometry, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`count` uniformly random points inside one polygon, as lon and lat arrays."""
    shapely.prepare(polygon)
    minx, miny, maxx, maxy = polygon.bounds
    lons, lats = np.empty(0), np.empty(0)
    while lons.size < count:
        batch = max(64, 2 * (count - lons.size))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(polygon, x, y)
        lons, lats = np.concatenate([lons, x[inside]]), np.concatenate([lats, y[inside]])
    return lons[:count], lats[:count]


def points_in_polygons(
    polygons: npt.NDArray[np.object_] | GeometryArray, owner: np.ndarray, rng: np.random.Generator,
    max_rounds: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """One random point inside polygons[owner[i]] for every i (vectorised over all points)."""
    shapely.prepare(polygons)
    bounds = shapely.bounds(polygons)[owner]
    lon = np.full(owner.size, np.nan)
    lat = np.full(owner.size, np.nan)
    todo = np.arange(owner.size)
    for _ in range(max_rounds):
        if todo.size == 0:
            break
        b = bounds[todo]
        x = rng.uniform(b[:, 0], b[:, 2])
        y = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(polygons[owner[todo]], x, y)
        lon[todo[inside]], lat[todo[inside]] = x[inside], y[inside]
        todo = todo[~inside]
    if todo.size:  # slivers: fall back to a point guaranteed on the polygon
        fallback = shapely.point_on_surface(polygons[owner[todo]])
        lon[todo], lat[todo] = shapely.get_x(fallback), shapely.get_y(fallback)
    return lon, lat
