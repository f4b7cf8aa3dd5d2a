"""Scenario metrics on a hand-built town whose every figure is worked out by hand below."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Polygon, mapping

from geo import scenario as sc
from geo import scenario_map as smap
from scenario_model import Overrides
from vocab import BED_TYPE_CODES

# The town is drawn in UTM 51N metres (so distances are exact) and stored in lon/lat like the DB.
X0, Y0 = 350_000.0, 3_300_000.0
_TO_LONLAT = Transformer.from_crs(sc.METRIC_CRS, "EPSG:4326", always_xy=True)
WALK = 1000.0


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = _TO_LONLAT.transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def polygon(x0, y0, x1, y1, steps: int = 20) -> Polygon:
    """A metric rectangle in lon/lat, densified so its edges stay straight lines in metres."""
    xs = np.linspace(x0, x1, steps)
    ys = np.linspace(y0, y1, steps)
    ring = [(x, y0) for x in xs] + [(x1, y) for y in ys[1:]] + [(x, y1) for x in xs[::-1][1:]] + \
        [(x0, y) for y in ys[::-1][1:]]
    return Polygon([lonlat(x, y) for x, y in ring])


CITY, DISTRICT, STREET = "330200", "330201", "330201001"
COMMUNITIES = {"A": "330201001001", "B": "330201001002", "C": "330201001003"}
# Three communities of two 1 km cells each, along the x axis: A [0, 2000], B [2000, 4000], C [4000, 6000].
CELLS = [("A", 1, 0, 100), ("A", 2, 1000, 300), ("B", 1, 2000, 200), ("B", 2, 3000, 400),
         ("C", 1, 4000, 500), ("C", 2, 5000, 500)]


def grid_code(community: str, n: int) -> str:
    return f"{COMMUNITIES[community]}{n:03d}"


def _areas() -> pd.DataFrame:
    rows = [(CITY, "镇", "city", None, 2000, 3000, 500), (DISTRICT, "区", "district", CITY, 2000, 3000, 500),
            (STREET, "街", "street", DISTRICT, 2000, 3000, 500)]
    for name, code in COMMUNITIES.items():
        people = sum(p for c, _, _, p in CELLS if c == name)
        cx = {"A": 1000, "B": 3000, "C": 5000}[name]
        rows.append((code, name, "community", STREET, people, cx, 500))
    rows += [(grid_code(c, n), f"{c}{n}", "grid", COMMUNITIES[c], p, x0 + 500, 500) for c, n, x0, p in CELLS]
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "population", "cx", "cy"])
    lon, lat = zip(*(lonlat(x, y) for x, y in zip(frame["cx"], frame["cy"], strict=True)), strict=True)
    return frame.drop(columns=["cx", "cy"]).assign(centroid_lon=lon, centroid_lat=lat)


def _grids() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [grid_code(c, n) for c, n, _, _ in CELLS],
                             "population": [p for *_, p in CELLS]},
                            geometry=[polygon(x0, 0, x0 + 1000, 1000) for _, _, x0, _ in CELLS], crs="EPSG:4326")


def _facility(code: str, x: float, y: float, cell: str, **values) -> dict:
    lon, lat = lonlat(x, y)
    return {"code": code, "name": code, "lon": lon, "lat": lat, "grid_code": cell, "in_scope": True, **values}


def _assembly() -> pd.DataFrame:
    return pd.DataFrame([
        _facility("P1", 1000, 500, grid_code("A", 2), kind="park", capacity=300, occupancy=0, status="open"),
        _facility("P2", 3000, 500, grid_code("B", 2), kind="school", capacity=200, occupancy=0, status="open"),
        _facility("P3", 5000, 500, grid_code("C", 2), kind="stadium", capacity=1000, occupancy=0, status="closed"),
        _facility("P4", 5900, 900, grid_code("C", 2), kind="square", capacity=100, occupancy=100, status="full"),
    ])


def _beds(general: tuple[int, int], icu: tuple[int, int] = (0, 0)) -> dict:
    values = {f"{b}_{m}": 0 for b in BED_TYPE_CODES for m in ("total", "occupied")}
    values |= {"general_total": general[0], "general_occupied": general[1], "icu_total": icu[0],
               "icu_occupied": icu[1]}
    return values


def _hospitals() -> pd.DataFrame:
    return pd.DataFrame([
        # ICU over-occupied (12 of 10): it offers 0 beds, never -2
        _facility("H1", 2500, 200, grid_code("B", 1), **_beds((100, 80), (10, 12))),
        _facility("H2", 700, 700, grid_code("A", 1), **_beds((30, 10))),
    ])


def _stock() -> pd.DataFrame:
    def line(depot, x, y, cell, quantity):
        lon, lat = lonlat(x, y)
        return {"depot_code": depot, "depot_name": depot, "lon": lon, "lat": lat, "grid_code": cell, "item": "饮用水",
                "category": "生命支持类", "unit": "箱", "quantity": quantity, "daily_need_per_1000": 10.0}

    return pd.DataFrame([line("D1", 1200, 300, grid_code("A", 2), 100.0),
                         line("D2", 3000, 800, grid_code("B", 2), 60.0)])


def _incidents() -> pd.DataFrame:
    return pd.DataFrame({"community_code": [COMMUNITIES["A"], COMMUNITIES["B"], COMMUNITIES["C"]],
                         "category": ["fire", "fire", "other"], "n": [10.0, 4.0, 6.0]})


def build_town() -> sc.Baseline:
    """The town as a Baseline (scope: the whole town)."""
    facts = sc.CityFacts(city_code=CITY, city=polygon(-100, -100, 6100, 1100),
                         assembly_codes=frozenset(_assembly()["code"]), hospital_codes=frozenset({"H1", "H2"}),
                         stock_lines=frozenset({("D1", "饮用水"), ("D2", "饮用水")}),
                         area_codes=frozenset(_areas().query("level != 'grid'")["code"]))
    return sc.prepare_baseline(scope_code=CITY, areas=_areas(), grids=_grids(), assembly=_assembly(),
                               hospitals=_hospitals(), stock=_stock(), incidents=_incidents(), facts=facts)


@pytest.fixture(scope="module")
def town() -> sc.Baseline:
    return build_town()


def _new_point(x, y, capacity):
    lon, lat = lonlat(x, y)
    return {"name": "临时点", "lon": lon, "lat": lat, "capacity": capacity}


@pytest.fixture(scope="module")
def plan() -> Overrides:
    """Close P1, reopen P3 at 300 places, a new point N at (600, 300) for 150, a hazard zone over B,
    H2's general beds 30 -> 60, a 50-bed field hospital in C1, D1's water 100 -> 40,
    fire incidents x2 and everything in B x1.5."""
    fh_lon, fh_lat = lonlat(4200, 700)
    return Overrides(
        close=("P1",), reopen=("P3",), capacities={"P3": 300}, new_points=(_new_point(600, 300, 150),),
        field_hospitals=({"name": "方舱", "lon": fh_lon, "lat": fh_lat, "beds": 50},),
        beds=({"hospital_code": "H2", "bed_type": "general", "total": 60},),
        stock=({"depot_code": "D1", "item": "饮用水", "quantity": 40.0},),
        hazard_zone=mapping(polygon(2200, 100, 3800, 900)),
        multipliers=({"category": "fire", "factor": 2.0}, {"area_code": COMMUNITIES["B"], "factor": 1.5}),
    )


def _by_code(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("code")


def test_baseline_coverage_places_and_walk_by_hand(town):
    outcome = sc.evaluate(town, walking_m=WALK)
    table = _by_code(sc.summarise(town, outcome, "community"))
    a, b, c = (table.loc[COMMUNITIES[k]] for k in "ABC")
    # P1 covers A's two cells (500 m each), P2 covers B's; P3 is closed and P4 full, so C is uncovered
    assert (a.coverage, b.coverage, c.coverage) == (1.0, 1.0, 0.0)
    assert (a.places, b.places, c.places) == (300, 200, 0)
    assert a.places_per_resident == pytest.approx(300 / 400)
    assert (a.shortfall, b.shortfall, c.shortfall) == (100, 400, 1000)
    # C's residents walk to P2: 1500 m from C1 and 2500 m from C2, 500 people each
    assert c.mean_walk_m == pytest.approx(2000, abs=2)
    assert (a.nearest_code, b.nearest_code, c.nearest_code) == ("P1", "P2", "P2")
    assert c.nearest_m == pytest.approx(2000, abs=1)
    # beds available: H1 general 20 + ICU 0 (over-occupied), H2 20
    assert (a.beds_available, b.beds_available) == (20, 20)
    assert b.beds_per_1000 == pytest.approx(20 / 600 * 1000)
    whole = sc.totals(town, outcome)
    assert whole["coverage"] == pytest.approx(1000 / 2000)
    assert whole["evacuees"] == 0


def test_scenario_metrics_by_hand(town, plan):
    outcome = sc.evaluate(town, plan, walking_m=WALK)
    table = _by_code(sc.summarise(town, outcome, "community"))
    a, b, c = (table.loc[COMMUNITIES[k]] for k in "ABC")
    # N (600, 300) reaches A1 (224 m) and A2 (922 m); B is out of reach (N 1910 m, P3 1500 m); P3 covers C
    assert (a.coverage, b.coverage, c.coverage) == (1.0, 0.0, 1.0)
    assert (a.places, b.places, c.places) == (150, 0, 300)
    assert (a.shortfall, b.shortfall, c.shortfall) == (250, 600, 700)
    walk_a = (100 * math.hypot(100, 200) + 300 * math.hypot(900, 200)) / 400
    walk_b = (200 * math.hypot(1900, 200) + 400 * 1500) / 600
    assert a.mean_walk_m == pytest.approx(walk_a, abs=2)
    assert b.mean_walk_m == pytest.approx(walk_b, abs=2)
    assert c.mean_walk_m == pytest.approx(500, abs=2)
    # from the centroids: A (1000, 500) -> N 447 m; B (3000, 500): P2 is in the zone, P3 at 2000 m
    assert (a.nearest_code, b.nearest_code, c.nearest_code) == ("TMP1", "P3", "P3")
    assert a.nearest_m == pytest.approx(math.hypot(400, 200), abs=1)
    assert b.nearest_m == pytest.approx(2000, abs=1)
    # H1 is in the zone; H2 now 60 - 10 = 50; the field hospital adds 50 in C
    assert (a.beds_available, b.beds_available, c.beds_available) == (50, 0, 50)
    assert a.beds_per_1000 == pytest.approx(50 / 400 * 1000)
    # fire x2 everywhere, B x1.5 on top
    assert (a.incidents, b.incidents, c.incidents) == (20, 12, 6)
    assert (a.evacuees, b.evacuees, c.evacuees) == (0, 600, 0)


def test_evacuation_balance_and_days_of_supply(town, plan):
    outcome = sc.evaluate(town, plan, walking_m=WALK)
    # B's 600 residents must leave; free places outside the zone: N 150 + P3 300 (P4 is full)
    assert sc.evacuation(outcome, town) == {"evacuees": 600.0, "free_places_outside": 450.0, "shortfall": 150.0}
    whole = sc.totals(town, outcome)
    assert whole["coverage"] == pytest.approx(1400 / 2000)
    assert whole["evacuation_shortfall"] == 150
    # 2,000 residents need 20 cases a day; D2 is in the zone and D1 holds 40
    water = sc.supply(outcome, town).set_index("item").loc["饮用水"]
    assert water.daily_need == pytest.approx(20)
    assert water.days_of_supply == pytest.approx(2.0)
    base = sc.supply(sc.evaluate(town, walking_m=WALK), town).set_index("item").loc["饮用水"]
    assert base.days_of_supply == pytest.approx(160 / 20)


def test_difference_lists_the_areas_that_got_worse_first(town, plan):
    base = sc.summarise(town, sc.evaluate(town, walking_m=WALK), "community")
    scen = sc.summarise(town, sc.evaluate(town, plan, walking_m=WALK), "community")
    diff = sc.compare(base, scen)
    # B lost all coverage, A lost half its places; C gained coverage, places and beds
    assert list(diff["name"]) == ["B", "A", "C"]
    assert list(diff["worse"]) == [True, True, False]
    assert diff.loc[0, "coverage_delta"] == -1.0
    assert diff.loc[1, "shortfall_delta"] == 150
    assert diff.loc[2, "better"]


def test_grid_level_and_new_points_are_located_in_their_cell(town, plan):
    outcome = sc.evaluate(town, plan, walking_m=WALK)
    new = outcome.assembly.set_index("code").loc["TMP1"]
    assert new.grid_code == grid_code("A", 1) and new.in_scope and new.available
    cells = _by_code(sc.summarise(town, outcome, "grid"))
    assert cells.loc[grid_code("A", 1), "places"] == 150
    assert list(cells["covered"]) == [100, 300, 0, 0, 500, 500]


def test_evaluate_leaves_the_baseline_frames_untouched(town, plan):
    before = [town.assembly.copy(), town.hospitals.copy(), town.stock.copy(), town.incidents.copy()]
    sc.evaluate(town, plan, walking_m=WALK)
    for frame, copy in zip([town.assembly, town.hospitals, town.stock, town.incidents], before, strict=True):
        pd.testing.assert_frame_equal(frame, copy)


def test_walking_distance_is_a_parameter(town):
    # at 1,600 m P2 also reaches C1 (1,500 m): C's coverage becomes 500 / 1000
    table = _by_code(sc.summarise(town, sc.evaluate(town, walking_m=1600), "community"))
    assert table.loc[COMMUNITIES["C"], "coverage"] == pytest.approx(0.5)


def test_no_open_point_at_all_gives_zero_coverage_and_no_distance(town):
    closed = Overrides(close=("P1", "P2"))
    outcome = sc.evaluate(town, closed, walking_m=WALK)
    table = sc.summarise(town, outcome, "community")
    assert list(table["coverage"]) == [0.0, 0.0, 0.0]
    assert table["mean_walk_m"].isna().all() and table["nearest_m"].isna().all()


def test_the_map_marks_what_the_scenario_changed(town, plan):
    base, scen = sc.evaluate(town, walking_m=WALK), sc.evaluate(town, plan, walking_m=WALK)
    changes = smap.facility_changes(base.assembly, scen.assembly, scen.hospitals[scen.hospitals["is_new"]])
    # P1 closed and P2 in the zone are lost, P3 reopened is gained; N and the field hospital are new
    assert dict(zip(changes["code"], changes["change"], strict=True)) == {
        "P1": "lost", "P2": "lost", "P3": "gained", "TMP1": "new", "FH1": "field_hospital"}
    assert smap.delta_colors(pd.Series([-74.5, 0.0, 3.0]))[0][:3] == list(smap.DELTA_COLORS[0])
    assert smap.delta_colors(pd.Series([0.0]))[0][:3] == list(smap.DELTA_COLORS[3])
    assert smap.picked_location({smap.PICK_LAYER: [{"lon": 121.5, "lat": 29.8}]}) == (121.5, 29.8)
    feature = {"type": "Feature", "properties": {"lon": 121.6, "lat": 29.9}}
    assert smap.picked_location({smap.DIFF_LAYER: [feature]}) == (121.6, 29.9)
    assert smap.picked_location({}) is None
