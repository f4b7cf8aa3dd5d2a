"""What-if scenario metrics on a baseline with overrides applied on read (pure, vectorised, metric CRS).

Definitions (baseline and scenario use the same ones; distances are straight lines in
EPSG:32651, UTM zone 51N, metres):

- Residents: each grid cell's population is placed at the cell's representative point
  (a point guaranteed inside the cell, GEOS PointOnSurface); finer than community centroids.
- Available assembly point: status 'open' after the overrides (closed and full points offer
  nothing) and not inside the hazard zone. New temporary points are open.
- Coverage: a resident is covered if an available assembly point lies within the walking
  distance (settings.walking_distance_m, default 1 km). Coverage of an area = covered residents
  / residents of the area's grid cells.
- Places: the capacity of the available assembly points located in the area. Places per
  resident = places / residents; shortfall = max(0, residents x target - places), target 1
  place per resident unless given.
- Walk: population-weighted mean distance from residents to their nearest available point;
  per community also the nearest available point to the community centroid and its distance.
- Evacuees: residents of the scope whose point lies inside the hazard zone. Free places
  outside the zone: capacity - occupancy of the scope's available points. Evacuation
  shortfall = max(0, evacuees - free places outside).
- Beds: hospital beds available (total - occupied, per bed type, never below 0) in hospitals
  outside the hazard zone, plus field hospitals; beds per 1,000 = beds / residents x 1000.
- Days of supply per item: stock of the scope's depots outside the hazard zone / (daily need
  per 1,000 residents x scope residents / 1000).
- Incidents: baseline counts per community and category in a window, times every
  multiplier whose category and area (the community or an ancestor) match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from errors import Message
from geo.crs import Floats
from geo.geojson_io import GeoJSON, city_problems, geometry_problems
from geo.locate import GridLocator
from scenario_model import BaselineFacts, IncidentMultiplier, Overrides
from vocab import BED_TYPE_CODES, CODE_LENGTH

METRIC_CRS = "EPSG:32651"
_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
NEW_POINT_PREFIX = "TMP"
FIELD_HOSPITAL_PREFIX = "FH"

# Metric columns of a summary and whether a larger value is better for the people in the area.
HIGHER_IS_BETTER = {
    "coverage": True,
    "places_per_resident": True,
    "shortfall": False,
    "mean_walk_m": False,
    "evacuees": False,
    "beds_per_1000": True,
    "incidents": False,
}


def to_metric(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Floats, Floats]:
    """Longitude/latitude arrays (EPSG:4326) to UTM 51N metres."""
    x, y = _TO_METRIC.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def _points(x: Floats, y: Floats) -> npt.NDArray[np.object_]:
    """Point geometries of coordinate arrays (shapely's types allow a single Point for any x, y)."""
    return np.asarray(shapely.points(x, y), dtype=object)


def geometry_to_metric(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda xy: np.column_stack(to_metric(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class CityFacts:
    """City-wide codes and outline used to validate overrides (implements scenario_model.BaselineFacts)."""

    city_code: str
    city: BaseGeometry
    assembly_codes: frozenset[str]
    hospital_codes: frozenset[str]
    stock_lines: frozenset[tuple[str, str]]
    area_codes: frozenset[str]

    def __post_init__(self) -> None:
        shapely.prepare(self.city)

    def point_problem(self, lon: float, lat: float) -> Message | None:
        if self.city.covers(Point(lon, lat)):
            return None
        return Message("scn.point_outside_city", lon=f"{lon:.5f}", lat=f"{lat:.5f}")

    def polygon_problems(self, geometry: GeoJSON) -> list[Message]:
        return geometry_problems(geometry) or city_problems(shape(geometry), self.city)


if TYPE_CHECKING:  # mypy checks here that CityFacts implements the protocol the validation reads
    _CITY_FACTS_ARE_BASELINE_FACTS: type[BaselineFacts] = CityFacts


@dataclass(frozen=True)
class Baseline:
    """Inputs of the metrics for one scope, as read from the baseline tables (never written).

    areas: code, name, level, parent_code, population, centroid_lon, centroid_lat (the scope and
    every area under it). grids: code, population, lon, lat, x, y (representative point).
    assembly / hospitals: facility rows with lon, lat, grid_code, in_scope (assembly points outside
    the scope are kept: they serve residents at its edge). stock: depot_code,
    item, category, unit, quantity, daily_need_per_1000, lon, lat. incidents: community_code,
    category, n.
    """

    scope_code: str
    areas: pd.DataFrame
    grids: pd.DataFrame
    assembly: pd.DataFrame
    hospitals: pd.DataFrame
    stock: pd.DataFrame
    incidents: pd.DataFrame
    facts: CityFacts
    locator: GridLocator = field(repr=False, compare=False)  # the scope's cells

    @property
    def scope_level(self) -> str:
        return str(self.areas.loc[self.areas["code"] == self.scope_code, "level"].iloc[0])

    @property
    def population(self) -> int:
        return int(self.grids["population"].sum())


def _with_metric(frame: pd.DataFrame) -> pd.DataFrame:
    x, y = to_metric(frame["lon"], frame["lat"])
    return frame.assign(x=x, y=y)


def prepare_baseline(*, scope_code: str, areas: pd.DataFrame, grids: gpd.GeoDataFrame, assembly: pd.DataFrame,
                     hospitals: pd.DataFrame, stock: pd.DataFrame, incidents: pd.DataFrame,
                     facts: CityFacts | Mapping[str, Any]) -> Baseline:
    """A Baseline from the frames queries.scenarios.baseline_inputs reads (grids: cell polygons)."""
    facts = facts if isinstance(facts, CityFacts) else CityFacts(**facts)
    shapes = np.asarray(grids.geometry.values, dtype=object)
    points = shapely.point_on_surface(shapes)
    cells = pd.DataFrame({"code": grids["code"].to_numpy(), "population": grids["population"].to_numpy(),
                          "lon": shapely.get_x(points), "lat": shapely.get_y(points)})
    return Baseline(scope_code=scope_code, areas=areas.reset_index(drop=True), grids=_with_metric(cells),
                    assembly=_with_metric(assembly.reset_index(drop=True)),
                    hospitals=_with_metric(hospitals.reset_index(drop=True)),
                    stock=_with_metric(stock.reset_index(drop=True)), incidents=incidents.reset_index(drop=True),
                    facts=facts, locator=GridLocator(list(grids["code"]), shapes, city_name=scope_code))


@dataclass(frozen=True)
class Outcome:
    """Facility state and per-grid results of one evaluation (baseline or scenario)."""

    grids: pd.DataFrame  # code, population, covered, nearest_m, in_hazard
    communities: pd.DataFrame  # code, name, population, nearest_code, nearest_name, nearest_m
    assembly: pd.DataFrame  # + in_hazard, available, is_new
    hospitals: pd.DataFrame  # + in_hazard, available, beds_available, is_new
    stock: pd.DataFrame  # + in_hazard, available
    incidents: pd.DataFrame  # community_code, category, n (scaled)
    hazard: BaseGeometry | None  # EPSG:4326


def _placed(baseline: Baseline, rows: pd.DataFrame) -> pd.DataFrame:
    """New facility rows located in their grid cell, in metric coordinates."""
    grid_codes = baseline.locator.grid_codes(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    return _with_metric(rows.assign(grid_code=grid_codes, in_scope=pd.notna(grid_codes), is_new=True))


def _inside(hazard_metric: BaseGeometry | None, frame: pd.DataFrame) -> np.ndarray:
    if hazard_metric is None or frame.empty:
        return np.zeros(len(frame), dtype=bool)
    return shapely.contains_xy(hazard_metric, frame["x"].to_numpy(), frame["y"].to_numpy())


def _assembly_state(baseline: Baseline, overrides: Overrides, hazard: BaseGeometry | None) -> pd.DataFrame:
    points = baseline.assembly.assign(is_new=False)
    points.loc[points["code"].isin(overrides.close), "status"] = "closed"
    points.loc[points["code"].isin(overrides.reopen), "status"] = "open"
    resized = points["code"].map(overrides.capacities)
    points["capacity"] = resized.fillna(points["capacity"]).astype(int)
    points["occupancy"] = points[["occupancy", "capacity"]].min(axis=1)
    if overrides.new_points:
        added = pd.DataFrame([{"code": f"{NEW_POINT_PREFIX}{i + 1}", "name": p.name, "kind": p.kind,
                               "capacity": p.capacity, "occupancy": 0, "status": "open",
                               "lon": p.lon, "lat": p.lat} for i, p in enumerate(overrides.new_points)])
        points = pd.concat([points, _placed(baseline, added)], ignore_index=True)
    points["in_hazard"] = _inside(hazard, points)
    points["available"] = (points["status"] == "open") & ~points["in_hazard"]
    return points


def _hospital_state(baseline: Baseline, overrides: Overrides, hazard: BaseGeometry | None) -> pd.DataFrame:
    hospitals = baseline.hospitals.assign(is_new=False)
    for change in overrides.beds:
        hospitals.loc[hospitals["code"] == change.hospital_code, f"{change.bed_type}_total"] = change.total
    if overrides.field_hospitals:
        added = pd.DataFrame([{"code": f"{FIELD_HOSPITAL_PREFIX}{i + 1}", "name": h.name, "lon": h.lon,
                               "lat": h.lat, "general_total": h.beds}
                              for i, h in enumerate(overrides.field_hospitals)])
        hospitals = pd.concat([hospitals, _placed(baseline, added)], ignore_index=True)
    for bed in BED_TYPE_CODES:
        for measure in ("total", "occupied"):
            hospitals[f"{bed}_{measure}"] = hospitals.get(f"{bed}_{measure}", 0)
        hospitals[[f"{bed}_total", f"{bed}_occupied"]] = hospitals[[f"{bed}_total", f"{bed}_occupied"]].fillna(0)
    free = sum((hospitals[f"{b}_total"] - hospitals[f"{b}_occupied"]).clip(lower=0) for b in BED_TYPE_CODES)
    hospitals["in_hazard"] = _inside(hazard, hospitals)
    hospitals["available"] = ~hospitals["in_hazard"]
    hospitals["beds_available"] = np.where(hospitals["available"], free, 0).astype(int)
    return hospitals


def _stock_state(baseline: Baseline, overrides: Overrides, hazard: BaseGeometry | None) -> pd.DataFrame:
    stock = baseline.stock.copy()
    for level in overrides.stock:
        line = (stock["depot_code"] == level.depot_code) & (stock["item"] == level.item)
        stock.loc[line, "quantity"] = level.quantity
    stock["in_hazard"] = _inside(hazard, stock)
    stock["available"] = ~stock["in_hazard"]
    return stock


def _multiplier_matches(frame: pd.DataFrame, multiplier: IncidentMultiplier, city_code: str) -> np.ndarray:
    match = np.ones(len(frame), dtype=bool)
    if multiplier.category is not None:
        match &= (frame["category"] == multiplier.category).to_numpy()
    if multiplier.area_code is not None and multiplier.area_code != city_code:
        match &= frame["community_code"].str.startswith(multiplier.area_code).to_numpy()
    return match


def _scaled_incidents(baseline: Baseline, overrides: Overrides) -> pd.DataFrame:
    counts = baseline.incidents.copy()
    factor = np.ones(len(counts))
    for multiplier in overrides.multipliers:
        factor = np.where(_multiplier_matches(counts, multiplier, baseline.facts.city_code),
                          factor * multiplier.factor, factor)
    counts["n"] = counts["n"].to_numpy(dtype=float) * factor
    return counts


def _point_tree(points: pd.DataFrame) -> shapely.STRtree:
    return shapely.STRtree(_points(points["x"].to_numpy(), points["y"].to_numpy()))


def _coverage(grids: pd.DataFrame, open_points: pd.DataFrame, walking_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per grid point: covered (an open point within walking_m) and distance to the nearest open point."""
    covered = np.zeros(len(grids), dtype=bool)
    nearest = np.full(len(grids), np.nan)
    if open_points.empty or grids.empty:
        return covered, nearest
    tree = _point_tree(open_points)
    cells = _points(grids["x"].to_numpy(), grids["y"].to_numpy())
    hits = tree.query(cells, predicate="dwithin", distance=walking_m)
    covered[hits[0]] = True
    (inputs, _), distance = tree.query_nearest(cells, return_distance=True, all_matches=False)
    nearest[inputs] = distance
    return covered, nearest


def _community_nearest(baseline: Baseline, open_points: pd.DataFrame) -> pd.DataFrame:
    """Each community's nearest open assembly point to its centroid, and the distance in metres."""
    communities = baseline.areas.loc[baseline.areas["level"] == "community",
                                     ["code", "name", "population", "centroid_lon", "centroid_lat"]]
    result = communities.assign(nearest_code=None, nearest_name=None, nearest_m=np.nan)
    if open_points.empty or communities.empty:
        return result.drop(columns=["centroid_lon", "centroid_lat"])
    x, y = to_metric(communities["centroid_lon"], communities["centroid_lat"])
    (inputs, found), distance = _point_tree(open_points).query_nearest(
        _points(x, y), return_distance=True, all_matches=False)
    rows = result.index[inputs]  # the areas' index is unique (prepare_baseline resets it)
    result.loc[rows, "nearest_code"] = open_points["code"].to_numpy()[found]
    result.loc[rows, "nearest_name"] = open_points["name"].to_numpy()[found]
    result.loc[rows, "nearest_m"] = distance
    return result.drop(columns=["centroid_lon", "centroid_lat"]).reset_index(drop=True)


def evaluate(baseline: Baseline, overrides: Overrides | None = None, *, walking_m: float) -> Outcome:
    """Apply the overrides on read (the baseline frames are not modified) and compute per-grid results."""
    overrides = overrides or Overrides()
    hazard = shape(overrides.hazard_zone) if overrides.hazard_zone else None
    hazard_metric = geometry_to_metric(hazard) if hazard is not None else None
    if hazard_metric is not None:
        shapely.prepare(hazard_metric)
    assembly = _assembly_state(baseline, overrides, hazard_metric)
    open_points = assembly[assembly["available"]]
    covered, nearest = _coverage(baseline.grids, open_points, walking_m)
    grids = baseline.grids[["code", "population"]].assign(
        covered=covered, nearest_m=nearest, in_hazard=_inside(hazard_metric, baseline.grids))
    return Outcome(grids=grids, communities=_community_nearest(baseline, open_points), assembly=assembly,
                   hospitals=_hospital_state(baseline, overrides, hazard_metric),
                   stock=_stock_state(baseline, overrides, hazard_metric),
                   incidents=_scaled_incidents(baseline, overrides), hazard=hazard)


def _key(codes: pd.Series, level: str, scope_code: str) -> pd.Series:
    """The code of the area at `level` that each (grid or community) code lies in: a code prefix."""
    if level == "city":
        return pd.Series(scope_code, index=codes.index)
    return codes.astype("string").str.slice(0, CODE_LENGTH[level])


def _sum_by(frame: pd.DataFrame, codes: pd.Series, values: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame(values).assign(code=codes.to_numpy()).dropna(subset=["code"]).groupby("code").sum()


def summarise(baseline: Baseline, outcome: Outcome, level: str, *, target: float = 1.0) -> pd.DataFrame:
    """Metrics per area of one level inside the scope (see the module docstring).

    Columns: code, name, population, covered, coverage, places, places_per_resident, shortfall,
    mean_walk_m, evacuees, free_places, beds_available, beds_per_1000, incidents (and, at
    community level, nearest_code, nearest_name, nearest_m).
    """
    areas = baseline.areas
    rows = areas.loc[areas["level"] == level, ["code", "name"]].set_index("code")
    g = outcome.grids
    walk = g["nearest_m"] * g["population"]
    people = _sum_by(g, _key(g["code"], level, baseline.scope_code), {
        "population": g["population"], "covered": g["population"] * g["covered"],
        "evacuees": g["population"] * g["in_hazard"], "walk_sum": walk.fillna(0),
        "walk_people": g["population"].where(walk.notna(), 0)})
    a = outcome.assembly[outcome.assembly["available"] & outcome.assembly["in_scope"]]
    places = _sum_by(a, _key(a["grid_code"], level, baseline.scope_code),
                     {"places": a["capacity"], "free_places": a["capacity"] - a["occupancy"]})
    h = outcome.hospitals[outcome.hospitals["in_scope"]]
    beds = _sum_by(h, _key(h["grid_code"], level, baseline.scope_code), {"beds_available": h["beds_available"]})
    i = outcome.incidents
    incidents = _sum_by(i, _key(i["community_code"], level, baseline.scope_code), {"incidents": i["n"]})
    table = rows.join([people, places, beds, incidents]).fillna(
        {"population": 0, "covered": 0, "evacuees": 0, "walk_sum": 0, "walk_people": 0, "places": 0,
         "free_places": 0, "beds_available": 0, "incidents": 0}).reset_index()
    return _derived(table, target).pipe(_with_nearest, outcome, level)


def _derived(table: pd.DataFrame, target: float) -> pd.DataFrame:
    residents = table["population"].where(table["population"] > 0)
    table["coverage"] = table["covered"] / residents
    table["places_per_resident"] = table["places"] / residents
    table["shortfall"] = (table["population"] * target - table["places"]).clip(lower=0)
    table["mean_walk_m"] = table["walk_sum"] / table["walk_people"].where(table["walk_people"] > 0)
    table["beds_per_1000"] = table["beds_available"] / residents * 1000
    columns = ["code", "name", "population", "covered", "coverage", "places", "places_per_resident", "shortfall",
               "mean_walk_m", "evacuees", "free_places", "beds_available", "beds_per_1000", "incidents"]
    return table[columns]


def _with_nearest(table: pd.DataFrame, outcome: Outcome, level: str) -> pd.DataFrame:
    if level != "community":
        return table
    nearest = outcome.communities[["code", "nearest_code", "nearest_name", "nearest_m"]]
    return table.merge(nearest, on="code", how="left")


def evacuation(outcome: Outcome, baseline: Baseline) -> dict[str, float]:
    """Evacuees from the hazard zone vs free places outside it, for the whole scope."""
    evacuees = float((outcome.grids["population"] * outcome.grids["in_hazard"]).sum())
    a = outcome.assembly[outcome.assembly["available"] & outcome.assembly["in_scope"]]
    free = float((a["capacity"] - a["occupancy"]).clip(lower=0).sum())
    return {"evacuees": evacuees, "free_places_outside": free, "shortfall": max(0.0, evacuees - free)}


def supply(outcome: Outcome, baseline: Baseline) -> pd.DataFrame:
    """Days of supply per item for the scope's residents (depots inside the hazard zone excluded).

    Columns: item, category, unit, quantity, daily_need, days_of_supply.
    """
    stock = outcome.stock
    usable = stock["quantity"].where(stock["available"], 0.0)
    grouped = stock.assign(usable=usable).groupby(["item", "category", "unit"], sort=False).agg(
        quantity=("usable", "sum"), need=("daily_need_per_1000", "first")).reset_index()
    grouped["daily_need"] = grouped.pop("need") * baseline.population / 1000
    grouped["days_of_supply"] = grouped["quantity"] / grouped["daily_need"].where(grouped["daily_need"] > 0)
    return grouped


def compare(base: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Baseline vs scenario per area: <metric>_base, <metric>_scen, <metric>_delta, worse, better.

    Rows whose metrics got worse come first, the largest coverage loss first, then the largest
    shortfall increase, the longest extra walk and the largest drop in beds per 1,000.
    """
    metrics = list(HIGHER_IS_BETTER)
    merged = base[["code", "name", "population", *metrics]].merge(
        scenario[["code", *metrics]], on="code", suffixes=("_base", "_scen"))
    worse = np.zeros(len(merged), dtype=bool)
    better = np.zeros(len(merged), dtype=bool)
    for metric, higher_better in HIGHER_IS_BETTER.items():
        delta = merged[f"{metric}_scen"] - merged[f"{metric}_base"]
        merged[f"{metric}_delta"] = delta
        sign = delta if higher_better else -delta
        worse |= (sign < -1e-9).fillna(False).to_numpy()
        better |= (sign > 1e-9).fillna(False).to_numpy()
    merged["worse"], merged["better"] = worse, better
    order = merged.assign(_c=merged["coverage_delta"].fillna(0), _s=-merged["shortfall_delta"].fillna(0),
                          _w=-merged["mean_walk_m_delta"].fillna(0), _b=merged["beds_per_1000_delta"].fillna(0))
    order = order.sort_values(["worse", "_c", "_s", "_w", "_b", "code"],
                              ascending=[False, True, True, True, True, True], kind="stable")
    return order.drop(columns=["_c", "_s", "_w", "_b"]).reset_index(drop=True)


def totals(baseline: Baseline, outcome: Outcome, *, target: float = 1.0) -> dict[str, Any]:
    """The scope's own figures (one row of summarise at the scope's level: code and name, then numbers)
    plus the evacuation balance."""
    table = summarise(baseline, outcome, baseline.scope_level, target=target)
    row = table[table["code"] == baseline.scope_code].iloc[0]
    evac = evacuation(outcome, baseline)
    return {**{str(k): v for k, v in row.items()}, "free_places_outside": evac["free_places_outside"],
            "evacuation_shortfall": evac["shortfall"]}
