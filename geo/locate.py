"""Point -> grid cell and its ancestors, with an STRtree over the grid polygons built once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from errors import InvalidInput
from vocab import CODE_LENGTH


@dataclass(frozen=True)
class Location:
    """The grid cell a point lies in and the codes of its community, street and district."""

    grid_code: str
    community_code: str
    street_code: str
    district_code: str

    @classmethod
    def of_grid(cls, code: str) -> Location:
        """A grid's ancestors, read from its 15-digit code (6 district + 3 street + 3 community + 3)."""
        return cls(
            grid_code=code,
            community_code=code[: CODE_LENGTH["community"]],
            street_code=code[: CODE_LENGTH["street"]],
            district_code=code[: CODE_LENGTH["district"]],
        )


class GridLocator:
    """Finds the grid cell containing a WGS84 point; built once from the city's grid polygons."""

    def __init__(self, codes: Sequence[str], polygons: Sequence[BaseGeometry] | npt.NDArray[np.object_],
                 city_name: str) -> None:
        if len(codes) != len(polygons) or not len(codes):
            raise ValueError("GridLocator needs one code per polygon and at least one grid")
        order = np.argsort(np.asarray(codes, dtype=str), kind="stable")  # a lower index is a lower code
        self._codes = np.asarray(codes, dtype=object)[order]
        self._polygons = np.asarray(polygons, dtype=object)[order]
        shapely.prepare(self._polygons)
        self._tree = shapely.STRtree(self._polygons)
        self.city_name = city_name
        self.bounds = tuple(float(v) for v in shapely.total_bounds(self._polygons))

    @classmethod
    def from_frame(cls, grids: gpd.GeoDataFrame, city_name: str) -> GridLocator:
        """From a GeoDataFrame with `code` and geometry (EPSG:4326), e.g. queries.areas.area_geometries."""
        return cls(list(grids["code"]), list(grids.geometry.values), city_name)

    def bounds_text(self) -> str:
        minx, miny, maxx, maxy = self.bounds
        return f"long {minx:.3f} to {maxx:.3f}, lat {miny:.3f} to {maxy:.3f} (WGS84)"

    def grid_codes(self, lon: Sequence[float] | npt.NDArray[np.float64],
                   lat: Sequence[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
        """The grid code of each point, None outside every cell (arrays of WGS84 degrees)."""
        codes = np.full(len(lon), None, dtype=object)
        if len(codes):
            points, cells = self._tree.query(shapely.points(lon, lat), predicate="intersects")
            # A point on a shared border touches two cells: the lowest code wins, so it is deterministic.
            order = np.lexsort((cells, points))
            found, first = np.unique(points[order], return_index=True)
            codes[found] = self._codes[cells[order][first]]
        return codes

    def _grid_at(self, lon: float, lat: float) -> str | None:
        code = self.grid_codes([lon], [lat])[0]
        return None if code is None else str(code)

    def locate(self, lon: float, lat: float) -> Location:
        """The grid containing the point; InvalidInput naming the city's bounds when outside."""
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
            raise InvalidInput(
                f"lat={lat}, long={lon} is not a WGS84 coordinate: send decimal degrees, lat -90..90 and "
                f"long -180..180, inside {self.city_name}: {self.bounds_text()}." + self._swapped(lon, lat)
            )
        code = self._grid_at(lon, lat)
        if code is None:
            raise InvalidInput(self._outside_message(lon, lat))
        return Location.of_grid(code)

    def _swapped(self, lon: float, lat: float) -> str:
        """A hint when the point would be inside the city with lat and long exchanged."""
        if all(map(math.isfinite, (lon, lat))) and abs(lon) <= 90 and self._grid_at(lat, lon) is not None:
            return " lat and long look swapped."
        return ""

    def _outside_message(self, lon: float, lat: float) -> str:
        minx, miny, maxx, maxy = self.bounds
        message = f"The point lat={lat}, long={lon} is outside {self.city_name}"
        if minx <= lon <= maxx and miny <= lat <= maxy:
            message += " (inside its bounding box but not in any grid cell: sea or beyond the boundary)"
        return message + f": send a point inside the city, {self.bounds_text()}." + self._swapped(lon, lat)
