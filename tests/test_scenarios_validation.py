"""Bad overrides and bad hazard polygons are refused with every problem named."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import mapping, shape

from errors import InvalidInput
from geo.geojson_io import polygon_from_geojson, polygon_from_text
from geo.scenario import Baseline
from scenario_model import Overrides, parse_overrides
from tests.test_scenarios_metrics import build_town, lonlat, polygon

BOWTIE = {"type": "Polygon", "coordinates": [[[121.40, 29.80], [121.42, 29.82], [121.42, 29.80],
                                                [121.40, 29.82], [121.40, 29.80]]]}


@pytest.fixture(scope="module")
def town() -> Baseline:
    return build_town()


def _problems(call) -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        call()
    return caught.value.problems


def test_every_problem_is_reported_together(town):
    inside = lonlat(1000, 500)
    bad = {
        "close": ["P1", "NOPE1"],
        "capacities": {"P2": -5},
        "new_points": [{"name": "远处", "lon": 100.0, "lat": 20.0, "capacity": 10},
                       {"name": "ok", "lon": inside[0], "lat": inside[1], "capacity": 10}],
        "beds": [{"hospital_code": "H9", "total": 3}],
        "stock": [{"depot_code": "D1", "item": "黄金", "quantity": 1}],
        "hazard_zone": BOWTIE,
        "multipliers": [{"category": "fire", "area_code": "999999", "factor": 2}],
    }
    problems = _problems(lambda: parse_overrides(bad, town.facts))
    text = "\n".join(problems)
    assert len(problems) == 7, text
    assert "unknown assembly point code(s): NOPE1" in text
    assert "capacities › P2: Input should be greater than or equal to 0" in text
    assert "new assembly points #1: point (100.00000, 20.00000) is outside the city" in text
    assert "unknown hospital code 'H9'" in text
    assert "depot D1 holds no item '黄金'" in text
    assert "the polygon is not valid (at " in text
    assert "unknown area code: 999999" in text


def test_structure_is_checked_without_the_city(town):
    problems = _problems(lambda: parse_overrides({"new_points": [{"name": "", "lon": 121.5, "lat": 95,
                                                                   "capacity": -1, "kind": "castle"}],
                                                  "surprise": 1}))
    text = "\n".join(problems)
    assert "new assembly points #1 › name" in text and "new assembly points #1 › latitude" in text
    assert "new assembly points #1 › capacity" in text and "unknown kind 'castle'" in text
    assert "surprise: is not a field of a scenario" in text


def test_closing_and_reopening_the_same_point_is_refused(town):
    problems = _problems(lambda: parse_overrides({"close": ["P1"], "reopen": ["P1"]}, town.facts))
    assert problems == ["assembly point(s) both closed and reopened: P1"]


def test_valid_overrides_round_trip_through_json(town):
    zone = mapping(polygon(2200, 100, 3800, 900))
    overrides = parse_overrides({"close": ["P1"], "hazard_zone": zone,
                                 "new_points": [{"name": "n", "lon": lonlat(10, 10)[0], "lat": lonlat(10, 10)[1],
                                                 "capacity": 5}]}, town.facts)
    again = parse_overrides(overrides.model_dump_json())
    assert again == overrides
    assert shape(again.hazard_zone).equals(shape(zone))
    assert again != Overrides()


def test_geojson_feature_collection_is_read_and_merged(town):
    left, right = polygon(100, 100, 900, 900), polygon(900, 100, 1800, 900)
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(left)},
        {"type": "Feature", "properties": {}, "geometry": mapping(right)}]}
    geometry = polygon_from_geojson(json.dumps(document), town.facts.city)
    assert shape(geometry).area == pytest.approx(left.union(right).area)


@pytest.mark.parametrize(("document", "expected"), [
    ({"type": "Point", "coordinates": [121.5, 29.8]}, "must be a Polygon or MultiPolygon, not Point"),
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.5, 29.8], [121.6, 29.9]]}},
     "not LineString"),
    ({"type": "Polygon", "coordinates": [[[13_500_000, 3_480_000], [13_510_000, 3_480_000],
                                          [13_510_000, 3_490_000], [13_500_000, 3_480_000]]]},
     "not longitude/latitude"),
    ({"type": "Polygon", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
      "coordinates": [[[121.4, 29.8], [121.5, 29.8], [121.5, 29.9], [121.4, 29.8]]]}, "EPSG:4326"),
    (BOWTIE, "the polygon is not valid (at "),
    ({"type": "Polygon", "coordinates": [[[100, 20], [100.1, 20], [100.1, 20.1], [100, 20]]]},
     "entirely outside the city"),
])
def test_unusable_geojson_is_explained(town, document, expected):
    problems = _problems(lambda: polygon_from_geojson(json.dumps(document), town.facts.city))
    assert expected in " ".join(problems)


def test_not_json_at_all():
    with pytest.raises(InvalidInput, match="not GeoJSON"):
        polygon_from_geojson(b"\x89PNG....")


def test_typed_corners_make_a_closed_polygon(town):
    corners = [lonlat(100, 100), lonlat(900, 100), lonlat(900, 900), lonlat(100, 900)]
    text = "\n".join(f"{x:.6f}, {y:.6f}" for x, y in corners)
    geometry = polygon_from_text(text, town.facts.city)
    ring = geometry["coordinates"][0]
    assert len(ring) == 5 and tuple(ring[0]) == tuple(ring[-1])
    assert _problems(lambda: polygon_from_text("121.5, 29.8\n121.6, 29.8")) == \
        ["Type at least three corners as 'lon, lat', one per line."]
