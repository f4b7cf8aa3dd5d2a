"""Scenarios on the demo city, on SpatiaLite and PostGIS: metrics vs geopandas, storage, baseline untouched."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import geopandas as gpd
import pytest
import sqlalchemy as sa
from geoalchemy2 import Geometry

from clock import now_utc
from errors import InvalidInput
from geo import scenario as sc
from queries import scenarios as q
from queries.areas import area_geometries
from queries.facilities import assembly_points_in_scope
from queries.incidents import Window, incident_counts_by
from queries.schema import metadata
from scenario_model import Overrides
from settings import get_settings

CITY = get_settings().city_code
WALK = 1000.0


def _baseline(engine, scope: str, window: Window | None = None) -> sc.Baseline:
    inputs = q.baseline_inputs(engine, scope, window=window, city_code=CITY)
    return sc.prepare_baseline(**inputs)


def _busiest_community(engine) -> tuple[str, gpd.GeoDataFrame]:
    points = assembly_points_in_scope(engine, CITY)
    open_points = points[points["status"] == "open"]
    return open_points["community_code"].value_counts().index[0], points


def _geopandas_coverage(engine, community: str, points: gpd.GeoDataFrame) -> float:
    """Coverage by the module's definition, computed with geopandas' sjoin_nearest instead of an STRtree."""
    cells = area_geometries(engine, community, "grid")
    residents = gpd.GeoDataFrame(cells[["code", "population"]], geometry=cells.representative_point(),
                                 crs="EPSG:4326").to_crs(sc.METRIC_CRS)
    usable = points[points["status"] == "open"].to_crs(sc.METRIC_CRS)[["code", "geometry"]]
    joined = gpd.sjoin_nearest(residents, usable, how="left", max_distance=WALK, distance_col="d")
    covered = joined.dropna(subset=["d"]).drop_duplicates("code_left")
    return covered["population"].sum() / residents["population"].sum()


def test_closing_a_communitys_points_lowers_coverage_to_the_geopandas_value(engine):
    community, points = _busiest_community(engine)
    closed = tuple(points.loc[points["community_code"] == community, "code"])
    district = community[:6]
    baseline = _baseline(engine, district)
    plan = Overrides(close=closed)
    before = sc.summarise(baseline, sc.evaluate(baseline, walking_m=WALK), "community").set_index("code")
    after = sc.summarise(baseline, sc.evaluate(baseline, plan, walking_m=WALK), "community").set_index("code")
    expected_before = _geopandas_coverage(engine, community, points)
    expected_after = _geopandas_coverage(engine, community, points[~points["code"].isin(closed)])
    assert before.loc[community, "coverage"] == pytest.approx(expected_before, abs=1e-12)
    assert after.loc[community, "coverage"] == pytest.approx(expected_after, abs=1e-12)
    assert expected_after < expected_before
    assert after.loc[community, "places"] == 0


def test_a_district_scope_gives_the_same_figures_as_the_city_view_of_it(engine):
    city = _baseline(engine, CITY)
    by_district = sc.summarise(city, sc.evaluate(city, walking_m=WALK), "district").set_index("code")
    district = by_district["population"].idxmax()
    local = _baseline(engine, district)
    own = sc.totals(local, sc.evaluate(local, walking_m=WALK))
    for metric in ("population", "covered", "places", "beds_available", "mean_walk_m"):
        assert own[metric] == pytest.approx(by_district.loc[district, metric], rel=1e-12), metric
    assert by_district["population"].sum() == city.population


@pytest.mark.parametrize("level", ["city", "district", "community"])
def test_incident_counts_per_community_add_up_to_the_scope_counts(engine, level):
    community = _busiest_community(engine)[0]
    scope = {"city": CITY, "district": community[:6], "community": community}[level]
    end = now_utc()
    window = Window(end - timedelta(days=3, hours=5), end)  # whole days and ragged edges
    baseline = _baseline(engine, scope, window)
    assert baseline.incidents["community_code"].str.startswith(scope[:4] if level == "city" else scope).all()
    if level == "community":
        assert set(baseline.incidents["community_code"]) == {community}
    mine = baseline.incidents.groupby("category")["n"].sum()
    theirs = incident_counts_by(engine, scope, "category", window=window).set_index("category")["incidents"]
    assert mine.sum() > 0
    assert mine.sort_index().astype(int).to_dict() == theirs.sort_index().to_dict()


def _dump_hashes(engine) -> dict[str, str]:
    """A hash of every row of every table but `scenario` (geometry as WKB), in primary-key order."""
    hashes = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "scenario":
                continue
            columns = [c.ST_AsBinary() if isinstance(c.type, Geometry) else c for c in table.columns]
            rows = conn.execute(sa.select(*columns).order_by(*table.primary_key.columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview | bytes) else v for v in row)).encode())
            hashes[table.name] = f"{len(rows)}:{digest.hexdigest()}"
    return hashes


def _plan(baseline: sc.Baseline) -> Overrides:
    a = baseline.assembly
    lon, lat = baseline.grids.loc[0, ["lon", "lat"]]
    box = baseline.facts.city.centroid.buffer(0.02, quad_segs=4)
    return Overrides(close=tuple(a["code"][:3]), capacities={a["code"][3]: 10},
                     new_points=({"name": "临时", "lon": lon, "lat": lat, "capacity": 500},),
                     beds=({"hospital_code": baseline.hospitals["code"][0], "total": 9},),
                     stock=({"depot_code": baseline.stock["depot_code"][0], "item": baseline.stock["item"][0],
                             "quantity": 1.0},),
                     hazard_zone=box.__geo_interface__, multipliers=({"category": "fire", "factor": 3},))


def test_saving_and_deleting_leaves_the_baseline_byte_for_byte(writable):
    baseline = _baseline(writable, CITY)
    before = _dump_hashes(writable)
    plan = _plan(baseline)
    scenario_id = q.save_scenario(writable, "台风-梅花-预案A", "规划科", plan, facts=baseline.facts)
    saved = q.load_scenario(writable, "台风-梅花-预案A")
    assert saved.id == scenario_id and saved.author == "规划科" and saved.overrides == plan
    sc.evaluate(_baseline(writable, CITY), saved.overrides, walking_m=WALK)
    assert q.delete_scenario(writable, "台风-梅花-预案A")
    assert _dump_hashes(writable) == before
    assert before["area"].split(":")[0] != "0" and before["hospital_beds"].split(":")[0] != "0"


def test_save_list_load_compare_delete(writable):
    baseline = _baseline(writable, CITY)
    a, b = Overrides(close=(baseline.assembly["code"][0],)), Overrides(capacities={baseline.assembly["code"][1]: 0})
    q.save_scenario(writable, "plan A", "amy", a, facts=baseline.facts)
    q.save_scenario(writable, "plan B", "bo", b, facts=baseline.facts)
    listed = q.list_scenarios(writable)
    assert set(listed["name"]) >= {"plan A", "plan B"}
    assert list(listed.columns) == ["id", "name", "author", "created_at"]
    with pytest.raises(InvalidInput, match="already exists"):
        q.save_scenario(writable, "plan A", "amy", b, facts=baseline.facts)
    q.save_scenario(writable, "plan A", "amy", b, facts=baseline.facts, replace=True)
    assert q.load_scenario(writable, "plan A").overrides == b
    assert q.delete_scenario(writable, "plan A") and q.delete_scenario(writable, "plan B")
    assert not q.delete_scenario(writable, "plan B")
    with pytest.raises(InvalidInput, match="no saved scenario"):
        q.load_scenario(writable, "plan B")


def test_bad_overrides_are_refused_and_nothing_is_saved(writable):
    baseline = _baseline(writable, CITY)
    before = q.list_scenarios(writable)
    bad = {"close": ["AP99999"], "capacities": {baseline.assembly["code"][0]: -1},
           "new_points": [{"name": "海上", "lon": 123.9, "lat": 29.0, "capacity": 100}],
           "hazard_zone": {"type": "Polygon", "coordinates": [[[121.5, 29.8], [121.6, 29.9], [121.6, 29.8],
                                                               [121.5, 29.9], [121.5, 29.8]]]}}
    with pytest.raises(InvalidInput) as caught:
        q.save_scenario(writable, " ", "amy", bad, facts=baseline.facts)
    text = "\n".join(caught.value.problems)
    for expected in ("name: give the scenario a name", "unknown assembly point code(s): AP99999",
                     "greater than or equal to 0", "is outside the city", "the polygon is not valid (at "):
        assert expected in text
    assert len(caught.value.problems) == 5
    assert q.list_scenarios(writable).equals(before)
