"""Hazard-zone polygons from uploaded GeoJSON or typed coordinates, checked and explained."""

from __future__ import annotations

import json
import re
from typing import Any

import shapely
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from errors import InvalidInput, Message, Problems

POLYGON_TYPES = ("Polygon", "MultiPolygon")
# Names a GeoJSON "crs" member may carry for plain WGS84/CGCS2000 longitude/latitude.
LONLAT_CRS_NAMES = ("CRS84", "EPSG:4326", "EPSG::4326", "EPSG:4490", "EPSG::4490")
MAX_BYTES = 5_000_000

GeoJSON = dict[str, Any]  # a decoded GeoJSON object: geometry, Feature or FeatureCollection


def _declared_crs_problem(document: GeoJSON) -> Message | None:
    crs = document.get("crs")
    if not crs:
        return None
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
    if any(name.upper().endswith(n) for n in LONLAT_CRS_NAMES):
        return None
    return Message("zone.declared_crs", crs=name)


def _geometries(document: GeoJSON) -> list[GeoJSON]:
    kind = document.get("type")
    if kind == "FeatureCollection":
        return [f.get("geometry") or {} for f in document.get("features") or []]
    if kind == "Feature":
        return [document.get("geometry") or {}]
    return [document]


def geometry_problems(geometry: GeoJSON) -> list[Message]:
    """What is wrong with a GeoJSON geometry as a hazard zone (type, lon/lat range, validity)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        return [Message("zone.not_a_polygon", kind=kind)]
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError):
        return [Message("zone.unreadable_coordinates")]
    if geom.is_empty:
        return [Message("zone.empty")]
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return [Message("zone.not_lon_lat", x=f"{minx:.0f}", y=f"{miny:.0f}")]
    if not geom.is_valid:
        # GEOS says where, e.g. "Self-intersection[121.5 29.8]": the place is kept, its English word is not
        where = re.search(r"\[(.*)\]", shapely.is_valid_reason(geom))
        return [Message("zone.invalid_polygon", where=where.group(1) if where else "")]
    return []


def city_problems(geom: BaseGeometry, city: BaseGeometry) -> list[Message]:
    """A hazard zone must touch the city (a zone reaching out to sea is fine)."""
    return [] if geom.intersects(city) else [Message("zone.outside_city")]


def _unusable(problems: list[Message]) -> InvalidInput:
    return InvalidInput(Message("zone.unusable", problems=Problems(problems)), problems)


def polygon_from_geojson(text: str | bytes, city: BaseGeometry | None = None) -> GeoJSON:
    """The GeoJSON geometry (Polygon/MultiPolygon, EPSG:4326) of an uploaded file; InvalidInput otherwise.

    Accepts a bare geometry, a Feature or a FeatureCollection (its polygons are merged).
    """
    if len(text) > MAX_BYTES:
        raise InvalidInput(Message("zone.file_too_large", mb=MAX_BYTES // 1_000_000))
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        where = (exc.lineno, exc.colno) if isinstance(exc, json.JSONDecodeError) else (1, 1)
        raise InvalidInput(Message("zone.not_geojson", line=where[0], column=where[1])) from exc
    if not isinstance(document, dict):
        raise InvalidInput(Message("zone.not_an_object"))
    crs_problem = _declared_crs_problem(document)
    if crs_problem:
        raise _unusable([crs_problem])
    geometries = _geometries(document)
    problems = [p for g in geometries for p in geometry_problems(g)]
    if not geometries:
        problems = [Message("zone.no_geometry")]
    if not problems:
        merged = shapely.union_all([shape(g) for g in geometries])
        problems = city_problems(merged, city) if city is not None else []
    if problems:
        raise _unusable(problems)
    return mapping(merged) if len(geometries) > 1 else geometries[0]


_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def polygon_from_text(text: str, city: BaseGeometry | None = None) -> GeoJSON:
    """A polygon from typed 'lon, lat' pairs (one per line or separated by ';'); the ring closes itself."""
    pairs = re.findall(rf"({_NUMBER})\s*[,\s]\s*({_NUMBER})", text)
    points = [(float(x), float(y)) for x, y in pairs]
    if points and points[0] == points[-1]:
        points = points[:-1]
    if len(set(points)) < 3:
        raise InvalidInput(Message("zone.too_few_corners"))
    geometry = mapping(Polygon(points))
    problems = geometry_problems(geometry)
    if not problems and city is not None:
        problems = city_problems(shape(geometry), city)
    if problems:
        raise _unusable(problems)
    return geometry
