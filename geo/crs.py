"""Coordinate systems used in China: WGS84 / CGCS2000 (EPSG:4326-compatible), GCJ-02, BD-09.

GCJ-02 and BD-09 are not in PROJ (pyproj), and no PyPI package for them is well kept: coord-convert (2019),
eviltransform (2018) and prcoords (2019) have had no release for years, the newer ones (prcoords-typed,
coordtransform) are single-maintainer and little used, and all convert one point at a time. So the
published formulas are written here, vectorised with numpy, and tests/test_geo.py checks them against
published reference pairs (one converted by AMap's own API) and round trips under a metre across China.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

# Krasovsky 1940 ellipsoid parameters used by the published GCJ-02 obfuscation formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_FACTOR = np.pi * 3000.0 / 180.0

# CGCS2000 differs from WGS84 by centimetres: both are stored as EPSG:4326 here.
SUPPORTED_CRS = ("WGS84", "CGCS2000", "GCJ02", "BD09")
# Other names of the same systems (after case, '-', '_' and ':' are dropped).
_ALIASES = {"EPSG4326": "WGS84", "EPSG4490": "CGCS2000"}

Floats = npt.NDArray[np.float64]


def _transform_lat(x: Floats, y: Floats) -> Floats:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: Floats, y: Floats) -> Floats:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """WGS84 longitude/latitude arrays to GCJ-02 (the 'Mars' coordinates of AMap, Tencent)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, iterations: int = 4) -> tuple[Floats, Floats]:
    """GCJ-02 to WGS84 by fixed-point iteration of the forward offset (error well under 1 m)."""
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(iterations):
        tlon, tlat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (tlon - glon), wlat - (tlat - glat)
    return wlon, wlat


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 to BD-09 (Baidu Maps)."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_FACTOR)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_FACTOR)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 to GCJ-02."""
    x, y = np.asarray(lon, dtype=float) - 0.0065, np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_FACTOR)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_FACTOR)
    return z * np.cos(theta), z * np.sin(theta)


def crs_code(name: str) -> str:
    """The supported system a name stands for ('gcj-02' -> 'GCJ02'); ValueError naming the supported ones."""
    code = "".join(ch for ch in name.upper() if ch not in "-_: ")
    code = _ALIASES.get(code, code)
    if code not in SUPPORTED_CRS:
        raise ValueError(
            f"Unknown coordinate system {name[:40]!r}: use one of wgs84, gcj02, bd09 (cgcs2000 is taken as wgs84)"
        )
    return code


def to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str) -> tuple[Floats, Floats]:
    """Coordinates in any supported CRS (a name crs_code reads) to WGS84 (EPSG:4326)."""
    code = crs_code(crs)
    if code == "GCJ02":
        return gcj02_to_wgs84(lon, lat)
    if code == "BD09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def point_to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """One point in a supported CRS to WGS84 longitude, latitude."""
    wlon, wlat = to_wgs84(lon, lat, crs)
    return float(wlon), float(wlat)


def geometry_to_wgs84(geometry: BaseGeometry, crs: str) -> BaseGeometry:
    """A shapely geometry with every vertex converted from `crs` to WGS84."""

    def convert(coords: Floats) -> Floats:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)
