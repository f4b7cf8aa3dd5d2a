"""geo.locate: a point's grid cell and ancestors, and the message for points outside the city."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from errors import InvalidInput
from geo.locate import GridLocator, Location

# A 6 x 5 block of 0.01-degree cells near Ningbo; codes: district 330203, street 001, community 00k.
ORIGIN = (121.50, 29.80)


def _cells() -> tuple[list[str], list[Polygon]]:
    codes, polygons = [], []
    for i in range(6):
        for j in range(5):
            x, y = ORIGIN[0] + i * 0.01, ORIGIN[1] + j * 0.01
            codes.append(f"330203001{i:03d}{j + 1:03d}")
            polygons.append(box(x, y, x + 0.01, y + 0.01))
    return codes, polygons


@pytest.fixture(scope="module")
def locator() -> GridLocator:
    codes, polygons = _cells()
    return GridLocator(codes, polygons, "宁波市 (330200)")


def test_ancestors_come_from_the_grid_code():
    assert Location.of_grid("330212005017003") == Location("330212005017003", "330212005017", "330212005", "330212")


def test_random_points_land_in_the_cell_that_covers_them(locator):
    codes, polygons = _cells()
    rng = np.random.default_rng(4)
    lon = rng.uniform(ORIGIN[0], ORIGIN[0] + 0.06, 300)
    lat = rng.uniform(ORIGIN[1], ORIGIN[1] + 0.05, 300)
    for x, y in zip(lon, lat, strict=True):
        expected = [c for c, p in zip(codes, polygons, strict=True) if p.covers(shapely.Point(x, y))]
        assert locator.locate(x, y).grid_code == min(expected)


def test_a_point_on_a_shared_border_goes_to_the_lowest_code(locator):
    x = ORIGIN[0] + 0.01  # the border between column 0 and column 1
    assert locator.locate(x, ORIGIN[1] + 0.005).grid_code == "330203001000001"


def test_outside_the_city_names_its_bounds(locator):
    with pytest.raises(InvalidInput) as raised:
        locator.locate(116.4, 39.9)
    message = str(raised.value)
    assert "outside 宁波市" in message and "long 121.500 to 121.560, lat 29.800 to 29.850" in message
    assert "swapped" not in message


def test_swapped_coordinates_get_a_hint(locator):
    with pytest.raises(InvalidInput, match="look swapped"):
        locator.locate(29.805, 121.505)


def test_a_gap_inside_the_bounding_box_is_explained():
    codes, polygons = _cells()
    gappy = GridLocator(codes[:1] + codes[-1:], polygons[:1] + polygons[-1:], "宁波市")
    with pytest.raises(InvalidInput, match="not in any grid cell"):
        gappy.locate(ORIGIN[0] + 0.03, ORIGIN[1] + 0.025)


@pytest.mark.parametrize(("lon", "lat"), [(math.nan, 29.8), (121.5, math.inf), (200.0, 29.8), (121.5, -91.0)])
def test_non_coordinates_are_refused(locator, lon, lat):
    with pytest.raises(InvalidInput, match="not a WGS84 coordinate"):
        locator.locate(lon, lat)
