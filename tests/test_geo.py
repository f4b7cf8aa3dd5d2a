"""Unit tests of the pure geometry and summary helpers."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import box

from demo.allocate import allocate
from formats import text_em
from geo import layers
from geo.crs import bd09_to_gcj02, crs_code, gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from geo.partition import partition
from geo.resources import assembly_summary, beds_by_type, stock_by_item


def test_gcj02_round_trip_is_within_a_metre():
    lon, lat = np.array([121.55, 121.87, 121.15]), np.array([29.87, 29.48, 30.04])
    glon, glat = wgs84_to_gcj02(lon, lat)
    # GCJ-02 shifts Ningbo by a few hundred metres, and the inverse undoes it
    assert np.all(np.hypot(glon - lon, glat - lat) > 0.002)
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert np.max(np.abs(back_lon - lon)) < 1e-5 and np.max(np.abs(back_lat - lat)) < 1e-5


def test_bd09_converts_back_to_wgs84():
    lon, lat = np.array([121.55]), np.array([29.87])
    bd = gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    back = to_wgs84(*bd, "BD-09")
    assert abs(back[0][0] - lon[0]) < 1e-5 and abs(back[1][0] - lat[0]) < 1e-5


# Published pairs, (lon, lat). GCJ-02: the test vectors of eviltransform (googollee/eviltransform, shared by
# its ports), and one point converted by AMap's own API (from the tests of the R package geoChina, Jun Cai),
# the only one made by the map vendor rather than by the formula. BD-09: gcoord's test (hujiulong/gcoord),
# and Beijing railway station in geoChina's documentation (5 decimals, so about a metre).
WGS84_GCJ02 = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
    ((116.39089, 39.90734), (116.39713623, 39.90874539)),  # Beijing, by AMap's API
]
GCJ02_BD09 = [
    ((123.0, 45.0), (123.00636499, 45.00636899)),
    ((116.42703, 39.90245), (116.43351, 39.90851)),  # Beijing railway station
]
# eviltransform's BD-09 vectors are left out: they follow a variant of the formula (pi where Baidu's has
# pi * 3000 / 180) and disagree with gcoord, geoChina and Baidu's published station pair by 10-40 m.
GEOD = Geod(ellps="WGS84")


def _metres(a, b) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize(("wgs84", "gcj02"), WGS84_GCJ02)
def test_gcj02_agrees_with_published_pairs_within_a_metre(wgs84, gcj02):
    assert _metres(wgs84_to_gcj02(*wgs84), gcj02) < 1.0
    assert _metres(to_wgs84(*gcj02, "gcj02"), wgs84) < 1.0
    assert _metres(wgs84, gcj02) > 300  # the pairs are hundreds of metres apart: the test can tell


@pytest.mark.parametrize(("gcj02", "bd09"), GCJ02_BD09)
def test_bd09_agrees_with_published_pairs_within_a_metre(gcj02, bd09):
    assert _metres(gcj02_to_bd09(*gcj02), bd09) < 1.0
    assert _metres(bd09_to_gcj02(*bd09), gcj02) < 1.0


@pytest.mark.parametrize("crs", ["GCJ-02", "bd09"])
def test_round_trips_across_china_are_within_a_metre(crs):
    lon, lat = (a.ravel() for a in np.meshgrid(np.linspace(73.6, 134.7, 40), np.linspace(18.2, 53.5, 40)))
    sent = wgs84_to_gcj02(lon, lat) if crs == "GCJ-02" else gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    back = to_wgs84(*sent, crs)
    assert GEOD.inv(lon, lat, *back)[2].max() < 1.0


def test_crs_names_are_read_loosely_and_unknown_ones_refused():
    assert [crs_code(n) for n in ("wgs84", "WGS-84", "gcj_02", "BD-09", "cgcs2000")] == [
        "WGS84", "WGS84", "GCJ02", "BD09", "CGCS2000"
    ]
    for name in ("epsg3857", "", "mars", "gcj"):
        with pytest.raises(ValueError, match="use one of wgs84, gcj02, bd09"):
            crs_code(name)


def test_unknown_crs_names_the_supported_ones():
    with pytest.raises(ValueError, match="gcj02"):
        to_wgs84([121.5], [29.8], "EPSG:3857")


def test_partition_covers_the_parent_without_overlap():
    parent = box(0, 0, 1, 1).difference(box(0.4, 0.4, 0.6, 0.6))
    cells = partition(parent, 12, np.random.default_rng(3), lambda x, y: np.ones_like(x))
    assert 8 <= len(cells) <= 12
    assert sum(c.area for c in cells) == pytest.approx(parent.area, rel=1e-9)
    assert shapely.union_all(cells).symmetric_difference(parent).area < 1e-9
    overlap = sum(a.intersection(b).area for i, a in enumerate(cells) for b in cells[i + 1 :])
    assert overlap < 1e-12


def test_allocate_keeps_total_floor_and_proportion():
    counts = allocate(100, [1, 1, 2, 96], minimum=3)
    assert counts.sum() == 100 and counts.min() >= 3
    assert counts[3] == max(counts)
    with pytest.raises(ValueError):
        allocate(5, [1, 1, 1], minimum=2)


def test_class_breaks_cover_the_maximum_and_colour_each_value():
    values = pd.Series([0, 3, 7, 12, 40, 95, 180])
    breaks = layers.class_breaks(values)
    assert breaks == sorted(breaks) and breaks[-1] >= 180
    colors = layers.class_colors(values, breaks)
    assert colors[0] != colors[-1] and all(len(c) == 4 for c in colors)
    assert len(layers.legend_entries(breaks)) == len(breaks)


def test_view_fits_bounds():
    view = layers.view_for_bounds((121.0, 29.0, 122.0, 30.0), width_px=900, height_px=620)
    # one degree of latitude at ~30N must fit 620 px: 512*2**z/360 px per degree of longitude
    px_per_degree = 512 * 2**view.zoom / 360
    assert px_per_degree / np.cos(np.radians(29.5)) <= 620 and px_per_degree > 300


def test_feature_collection_pairs_each_geometry_with_its_row_and_rounds_to_a_metre():
    shapes = gpd.GeoSeries([box(121.1234567, 29.0, 121.2, 29.1), box(121.3, 29.2, 121.4, 29.3)])
    collection = layers.feature_collection(shapes, pd.DataFrame({"code": ["a", "b"], "n": [1, 2]}))
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"] for f in collection["features"]] == [{"code": "a", "n": 1}, {"code": "b", "n": 2}]
    xs = [x for ring in collection["features"][0]["geometry"]["coordinates"] for x, _ in ring]
    assert 121.12346 in xs and 121.1234567 not in xs
    with pytest.raises(ValueError):
        layers.feature_collection(shapes, pd.DataFrame({"code": ["a"]}))


def test_deck_has_no_external_basemap_by_default():
    deck = layers.deck([], layers.view_for_bounds((121, 29, 122, 30)))
    spec = json.loads(deck.to_json())
    assert spec.get("mapStyle") == layers.NO_BASEMAP
    assert "cartocdn" not in deck.to_json() and "mapbox" not in deck.to_json()


def test_resource_summaries_by_hand():
    points = pd.DataFrame({"code": ["a", "b", "c"], "kind": ["park", "park", "school"],
                           "capacity": [1000, 500, 300], "status": ["open", "closed", "open"]})
    summary = assembly_summary(points, population=2600)
    assert summary["capacity_open"] == 1300 and summary["places_per_100"] == pytest.approx(50.0)
    hospitals = pd.DataFrame({f"{b}_{m}": [10, 20] for b in ("general", "icu", "emergency", "isolation")
                              for m in ("total", "occupied")})
    hospitals["general_occupied"] = [5, 15]
    beds = beds_by_type(hospitals).set_index("bed_type")
    assert beds.loc["general", "available"] == 10 and beds.loc["general", "occupancy"] == pytest.approx(20 / 30)
    stock = pd.DataFrame({"item": ["水", "水", "水", "灯"], "category": ["生命支持类"] * 3 + ["照明设备类"],
                          "unit": ["箱"] * 3 + ["台"], "depot_name": ["乙库", "甲库", "丙库", "甲库"],
                          "quantity": [60.0, 40.0, 45.0, 3.0], "min_level": [40.0, 50.0, 50.0, 5.0],
                          "daily_need_per_1000": [5.0, 5.0, 5.0, 1.0]})
    stock["below_min"] = stock["quantity"] < stock["min_level"]
    items = stock_by_item(stock, population=2000).set_index("item")
    water, lamps = items.loc["水"], items.loc["灯"]
    assert water["quantity"] == 145 and water["days_of_supply"] == pytest.approx(14.5)
    # the total (145) is above the summed minimum (140) while two depots hold less than their own
    assert not water["below_min"] and water["depots_below_min"] == 2 and water["depots_below"] == ("丙库", "甲库")
    assert lamps["below_min"] and lamps["depots_below"] == ("甲库",)


def test_class_index_puts_each_value_in_the_first_class_whose_break_reaches_it():
    breaks = [5.0, 10.0, 20.0]
    values = pd.Series([0, 5, 5.5, 10, 19, 20, 400, None])
    assert layers.class_index(values, breaks).tolist() == [0, 0, 1, 1, 2, 2, 2, 0]
    colors = layers.class_colors(values, breaks)
    assert colors[0] == colors[1] != colors[2] and colors[-2] == colors[-3]


def test_text_width_counts_a_chinese_character_as_one_em_and_latin_as_less():
    assert text_em("宁波市") == 3
    assert text_em("Ningbo", latin=0.5) == 3
    assert text_em("鄞州 Yinzhou", latin=0.5) == 2 + 0.5 * 8


def _lightness(color: tuple[int, int, int]) -> float:
    red, green, blue = color
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_zero_incidents_everywhere_is_one_grey_class_labelled_zero():
    values = pd.Series([0, 0, 0])
    breaks = layers.class_breaks(values)
    assert layers.legend_entries(breaks) == [("0", layers.ZERO_COLOR)]
    assert {tuple(c[:3]) for c in layers.class_colors(values, breaks)} == {layers.ZERO_COLOR}


@pytest.mark.parametrize("values", [[0, 1, 1, 2], [0, 3, 7, 12, 40, 95, 180], [5, 5, 6], [0, 16, 20, 20]])
def test_classes_are_distinct_ordered_from_the_lightest_and_never_overlap(values):
    breaks = layers.class_breaks(pd.Series(values))
    labels, colors = zip(*layers.legend_entries(breaks), strict=True)
    assert len(set(labels)) == len(labels) and len(set(colors)) == len(colors)
    ranges = [tuple(int(n.replace(",", "")) for n in label.split(" – ")) for label in labels]
    assert all(high[0] > low[-1] for low, high in zip(ranges, ranges[1:], strict=False))  # no shared number
    shaded = [c for c in colors if c != layers.ZERO_COLOR]
    assert shaded[0] == layers.SEQUENTIAL[0]  # the lowest count is the lightest colour of the ramp
    assert [_lightness(c) for c in shaded] == sorted((_lightness(c) for c in shaded), reverse=True)
    zero_class = [c for v, c in zip(values, layers.class_colors(pd.Series(values), breaks), strict=True) if v == 0]
    assert all(tuple(c[:3]) == layers.ZERO_COLOR for c in zero_class)
