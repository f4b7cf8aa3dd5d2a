"""Hazard-zone polygons from uploaded GeoJSON or typed coordinates, checked and explained."""

from __future__ import annotations

import json
import re
from typing import Any

import shapely
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from errors import InvalidInput

POLYGON_TYPES = ("Polygon", "MultiPolygon")
# Names a GeoJSON "crs" member may carry for plain WGS84/CGCS2000 longitude/latitude.
LONLAT_CRS_NAMES = ("CRS84", "EPSG:4326", "EPSG::4326", "EPSG:4490", "EPSG::4490")
MAX_BYTES = 5_000_000

GeoJSON = dict[str, Any]  # a decoded GeoJSON object: geometry, Feature or FeatureCollection


def _declared_crs_problem(document: GeoJSON) -> str | None:
    crs = document.get("crs")
    if not crs:
        return None
    name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else str(crs)
    if any(name.upper().endswith(n) for n in LONLAT_CRS_NAMES):
        return None
    return (f"the file declares coordinate system '{name}': save it as WGS84 longitude/latitude "
            "(EPSG:4326) and upload again")


def _geometries(document: GeoJSON) -> list[GeoJSON]:
    kind = document.get("type")
    if kind == "FeatureCollection":
        return [f.get("geometry") or {} for f in document.get("features") or []]
    if kind == "Feature":
        return [document.get("geometry") or {}]
    return [document]


def geometry_problems(geometry: GeoJSON) -> list[str]:
    """What is wrong with a GeoJSON geometry as a hazard zone (type, lon/lat range, validity)."""
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        return [f"a hazard zone must be a Polygon or MultiPolygon, not {kind}"]
    try:
        geom = shape(geometry)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        return [f"the polygon's coordinates cannot be read ({exc})"]
    if geom.is_empty:
        return ["the polygon is empty"]
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return [(f"coordinates ({minx:.0f}, {miny:.0f}) are not longitude/latitude: the polygon looks "
                 "projected or has latitude and longitude swapped; use WGS84 (EPSG:4326) lon, lat")]
    if not geom.is_valid:
        return [(f"the polygon is not valid ({shapely.is_valid_reason(geom)}): edges must not cross "
                 "and rings must close")]
    if geom.area == 0:
        return ["the polygon has no area"]
    return []


def city_problems(geom: BaseGeometry, city: BaseGeometry) -> list[str]:
    """A hazard zone must touch the city (a zone reaching out to sea is fine)."""
    return [] if geom.intersects(city) else ["the polygon lies entirely outside the city"]


def polygon_from_geojson(text: str | bytes, city: BaseGeometry | None = None) -> GeoJSON:
    """The GeoJSON geometry (Polygon/MultiPolygon, EPSG:4326) of an uploaded file; InvalidInput otherwise.

    Accepts a bare geometry, a Feature or a FeatureCollection (its polygons are merged).
    """
    if len(text) > MAX_BYTES:
        raise InvalidInput(f"The file is larger than {MAX_BYTES // 1_000_000} MB: upload a simpler polygon.")
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The file is not GeoJSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput("The file is not a GeoJSON object.")
    crs_problem = _declared_crs_problem(document)
    if crs_problem:
        raise InvalidInput(f"The hazard zone cannot be used: {crs_problem}.", [crs_problem])
    geometries = _geometries(document)
    problems = [p for g in geometries for p in geometry_problems(g)] or ([] if geometries else ["no geometry"])
    if not problems:
        merged = shapely.union_all([shape(g) for g in geometries])
        problems = city_problems(merged, city) if city is not None else []
    if problems:
        raise InvalidInput("The hazard zone cannot be used: " + "; ".join(problems) + ".", problems)
    return mapping(merged) if len(geometries) > 1 else geometries[0]


_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def polygon_from_text(text: str, city: BaseGeometry | None = None) -> GeoJSON:
    """A polygon from typed 'lon, lat' pairs (one per line or separated by ';'); the ring closes itself."""
    pairs = re.findall(rf"({_NUMBER})\s*[,\s]\s*({_NUMBER})", text)
    points = [(float(x), float(y)) for x, y in pairs]
    if points and points[0] == points[-1]:
        points = points[:-1]
    if len(set(points)) < 3:
        raise InvalidInput("Type at least three corners as 'lon, lat', one per line.")
    geometry = mapping(Polygon(points))
    problems = geometry_problems(geometry)
    if not problems and city is not None:
        problems = city_problems(shape(geometry), city)
    if problems:
        raise InvalidInput("The hazard zone cannot be used: " + "; ".join(problems) + ".", problems)
    return geometry
