"""Synthetic streets, communities and grid cells that cover each real district exactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from demo.allocate import allocate
from demo.districts import CITY_CODE, CITY_NAME, DISTRICTS, density, load_district_boundaries
from demo.names import unique_names
from geo.partition import as_multipolygon, partition
from geo.simplify import simplify_coverage

TARGET_STREETS = 150
TARGET_COMMUNITIES = 3000
TARGET_GRIDS = 10000
URBAN_DENSITY = 0.45  # above this density a street is a 街道 and a community a 社区
PEOPLE_PER_HOUSEHOLD = 2.6


@dataclass
class Cell:
    code: str
    name: str
    level: str
    parent: str | None  # None for the city
    geometry: BaseGeometry
    population: int = 0
    children: list[Cell] = field(default_factory=list)


def _weight(cells: list) -> np.ndarray:
    """Relative number of residents of each cell: density at its centre times its area."""
    centres = shapely.point_on_surface(np.array(cells))
    return density(shapely.get_x(centres), shapely.get_y(centres)) * shapely.area(np.array(cells))


def _is_urban(geometry) -> bool:
    centre = geometry.point_on_surface()
    return bool(density(np.array([centre.x]), np.array([centre.y]))[0] > URBAN_DENSITY)


def _split(parent: Cell, count: int, population: int, level: str, rng) -> list[Cell]:
    """Partition a parent cell into `count` children with codes, names and residents."""
    shapes = partition(parent.geometry, count, rng, density)
    residents = allocate(population, _weight(shapes))
    children: list[Cell] = []
    taken: set[str] = set()
    urban_no, rural_no = 1, 200  # GB/T 10114 habit: 001-199 residents' committees, 200+ villages
    for shape, people in zip(shapes, residents, strict=True):
        urban = _is_urban(shape)
        if level == "grid":
            number, name = len(children) + 1, f"{parent.name}第{len(children) + 1}网格"
        elif level == "community":
            number = urban_no if urban else rural_no
            urban_no, rural_no = urban_no + urban, rural_no + (not urban)
            name = unique_names(1, "社区" if urban else "村", rng, taken)[0]
        else:
            number = len(children) + 1
            name = unique_names(1, "街道" if urban else "镇", rng, taken)[0]
        code = f"{parent.code}{number:03d}"
        children.append(Cell(code, name, level, parent.code, shape, int(people)))
    return children


def _split_level(parents: list[Cell], total: int, minimum: int, level: str, rng) -> list[Cell]:
    counts = allocate(total, [p.population for p in parents], minimum)
    for parent, count in zip(parents, counts, strict=True):
        parent.children = _split(parent, int(count), parent.population, level, rng)
    return [child for parent in parents for child in parent.children]


def _tree(rng: np.random.Generator) -> tuple[Cell, list[Cell]]:
    """Top-down: districts, then their streets, communities and grids (raw, uncleaned shapes)."""
    boundaries = load_district_boundaries().set_index("code")
    city = Cell(CITY_CODE, CITY_NAME, "city", None, MultiPolygon())  # its districts' union, made bottom-up
    city.children = [
        Cell(d.code, d.name, "district", CITY_CODE, boundaries.geometry[d.code], d.population)
        for d in DISTRICTS
    ]
    city.population = sum(d.population for d in city.children)
    streets = _split_level(city.children, TARGET_STREETS, 5, "street", rng)
    communities = _split_level(streets, TARGET_COMMUNITIES, 3, "community", rng)
    grids = _split_level(communities, TARGET_GRIDS, 1, "grid", rng)
    return city, grids


def _bottom_up_geometry(city: Cell, grids: list[Cell]) -> None:
    """Edge-match the grid coverage, then make every parent exactly the union of its children."""
    cleaned = shapely.coverage_clean(np.array([g.geometry for g in grids]))  # type: ignore[attr-defined]  # shapely 2.1, not in its stubs yet
    for grid, shape in zip(grids, cleaned, strict=True):
        grid.geometry = as_multipolygon(shape)

    def union(cell: Cell):
        if cell.children:
            cell.geometry = as_multipolygon(
                shapely.coverage_union_all(np.array([union(c) for c in cell.children]))
            )
        return cell.geometry

    union(city)


def _rows(cell: Cell, ancestors: dict[str, str]) -> list[dict]:
    codes = {**ancestors, f"{cell.level}_code": cell.code}
    row = {
        "code": cell.code,
        "level": cell.level,
        "parent_code": cell.parent,
        "name": cell.name,
        "district_code": codes.get("district_code"),
        "street_code": codes.get("street_code"),
        "community_code": codes.get("community_code"),
        "population": cell.population,
        "geometry": cell.geometry,
    }
    return [row] + [r for child in cell.children for r in _rows(child, codes)]


@lru_cache(maxsize=2)
def build_areas(seed: int) -> gpd.GeoDataFrame:
    """All areas of the demo city (city, district, street, community, grid) with geometry.

    Cached per seed (it is deterministic); callers must not modify the returned frame.
    """
    rng = np.random.default_rng(seed)
    city, grids = _tree(rng)
    _bottom_up_geometry(city, grids)
    frame = gpd.GeoDataFrame(_rows(city, {}), geometry="geometry", crs="EPSG:4326")
    frame["households"] = np.round(frame["population"] / PEOPLE_PER_HOUSEHOLD).astype(int)
    frame["area_km2"] = frame.to_crs(32651).area / 1e6  # UTM 51N covers Ningbo
    centres = frame.geometry.representative_point()
    frame["centroid_lon"], frame["centroid_lat"] = centres.x, centres.y
    frame["synthetic"] = frame["level"].isin(["street", "community", "grid"])
    frame["display_geometry"] = pd.Series(dtype=object)
    for level in frame["level"].unique():
        rows = frame["level"] == level
        frame.loc[rows, "display_geometry"] = simplify_coverage(frame.geometry[rows].values, level)
    return frame
