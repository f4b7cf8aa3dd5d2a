"""Per-level, topology-preserving simplification of area polygons for the browser."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from geopandas.array import GeometryArray

from geo.partition import as_multipolygon

# Tolerance in degrees (about 100 km per degree here): coarser levels are seen from further away.
TOLERANCE_BY_LEVEL = {
    "city": 0.004,
    "district": 0.002,
    "street": 0.001,
    "community": 0.0004,
    "grid": 0.00015,
}


def simplify_coverage(geometries: npt.NDArray[np.object_] | GeometryArray, level: str) -> np.ndarray:
    """Simplify all areas of one level together, so shared borders stay shared."""
    simplified = shapely.coverage_simplify(geometries, TOLERANCE_BY_LEVEL[level])
    return np.array([as_multipolygon(g) for g in simplified], dtype=object)
