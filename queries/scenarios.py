"""Saved what-if scenarios (the `scenario` table) and the baseline inputs their metrics read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clock import now_utc
from errors import InvalidInput, Message, Problems, Text
from queries.areas import area_geometries, areas_at_level, scope_of
from queries.facilities import assembly_points_in_scope, hospitals_in_scope, stock_in_scope
from queries.frames import frame
from queries.incidents import Window, rollup_sum
from queries.rollups import STATUS_ROLLUP
from queries.schema import (
    area,
    assembly_point,
    hospital,
    scenario,
    stock,
    supply_depot,
)
from queries.scope import LEVEL_COLUMN, Scope
from scenario_model import BaselineFacts, Overrides, parse_overrides
from vocab import BED_TYPE_CODES

NAME_MAX, AUTHOR_MAX = 100, 64
AREA_FIELDS = ("code", "name", "level", "parent_code", "population", "centroid_lon", "centroid_lat")
ASSEMBLY_FIELDS = ("code", "name", "kind", "capacity", "occupancy", "status", "lon", "lat", "grid_code")


def _hospital_fields() -> list[str]:
    beds = [f"{bed}_{measure}" for bed in BED_TYPE_CODES for measure in ("total", "occupied")]
    return ["code", "name", "lon", "lat", "grid_code", *beds]


@dataclass(frozen=True)
class SavedScenario:
    id: int
    name: str
    author: str
    created_at: datetime
    overrides: Overrides


@dataclass(frozen=True)
class OverrideNames:
    """The database's names of what some overrides name, by code; a code it does not know is absent."""

    assembly_points: dict[str, str]
    hospitals: dict[str, str]
    depots: dict[str, str]
    areas: dict[str, str]


def _names(conn: sa.Connection, table: sa.Table, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = conn.execute(sa.select(table.c.code, table.c.name).where(table.c.code.in_(sorted(codes))))
    return {code: name for code, name in rows}


def override_names(engine: Engine, overrides: Overrides) -> OverrideNames:
    """Names of the assembly points, hospitals, depots and areas the overrides refer to, city-wide (a
    saved scenario may name places outside the scope on screen)."""
    with engine.connect() as conn:
        return OverrideNames(
            _names(conn, assembly_point, {*overrides.close, *overrides.reopen, *overrides.capacities}),
            _names(conn, hospital, {b.hospital_code for b in overrides.beds}),
            _names(conn, supply_depot, {s.depot_code for s in overrides.stock}),
            _names(conn, area, {m.area_code for m in overrides.multipliers if m.area_code is not None}))


def _header_problems(name: str, author: str) -> list[Text]:
    problems: list[Text] = []
    if not name or len(name) > NAME_MAX:
        problems.append(Message("scn.bad_name", most=NAME_MAX))
    if not author or len(author) > AUTHOR_MAX:
        problems.append(Message("scn.bad_author", most=AUTHOR_MAX))
    return problems


def _validated(name: str, author: str, overrides: Mapping[str, Any] | Overrides, facts: BaselineFacts) -> Overrides:
    """The overrides checked against the city; InvalidInput listing header and override problems together."""
    problems = _header_problems(name, author)
    try:
        checked = parse_overrides(overrides, facts)
    except InvalidInput as exc:
        problems += exc.messages
    if problems:
        raise InvalidInput(Message("scn.cannot_save", n=len(problems), problems=Problems(problems)), problems)
    return checked


def save_scenario(engine: Engine, name: str, author: str, overrides: Overrides | Mapping[str, Any], *,
                  facts: BaselineFacts, replace: bool = False) -> int:
    """Validate and store a scenario; InvalidInput (nothing written) on any problem or a taken name.

    Only the `scenario` table is written. Returns the scenario's id.
    """
    name, author = (name or "").strip(), (author or "").strip()
    checked = _validated(name, author, overrides, facts)
    values = {"author": author, "created_at": now_utc(), "overrides": checked.model_dump_json()}
    with engine.begin() as conn:
        existing = conn.execute(sa.select(scenario.c.id).where(scenario.c.name == name)).scalar()
        if existing is not None and not replace:
            raise InvalidInput(Message("scn.name_taken", name=name))
        if existing is not None:
            conn.execute(scenario.update().where(scenario.c.id == existing).values(**values))
            return int(existing)
        return int(conn.execute(scenario.insert().values(name=name, **values).returning(scenario.c.id)).scalar_one())


def list_scenarios(engine: Engine) -> pd.DataFrame:
    """Saved scenarios, newest first. Columns: id, name, author, created_at (naive UTC)."""
    s = scenario.c
    with engine.connect() as conn:
        return frame(conn, sa.select(s.id, s.name, s.author, s.created_at).order_by(s.created_at.desc(), s.id.desc()))


def load_scenario(engine: Engine, name: str) -> SavedScenario:
    """A saved scenario by name; InvalidInput when there is none."""
    s = scenario.c
    with engine.connect() as conn:
        row = conn.execute(sa.select(s.id, s.name, s.author, s.created_at, s.overrides)
                           .where(s.name == name.strip())).first()
    if row is None:
        raise InvalidInput(Message("scn.no_such_scenario", name=name))
    return SavedScenario(row.id, row.name, row.author, row.created_at, parse_overrides(row.overrides))


def delete_scenario(engine: Engine, name: str) -> bool:
    """Delete a saved scenario; False when there was none."""
    with engine.begin() as conn:
        return conn.execute(scenario.delete().where(scenario.c.name == name.strip())).rowcount > 0


def _in_scope(rows: pd.DataFrame, scope: Scope) -> pd.Series:
    """Whether each facility row lies inside the scope, by its ancestor codes (queries.scope.inside)."""
    if scope.level == "city":
        return pd.Series(True, index=rows.index)
    return rows[LEVEL_COLUMN[scope.level]] == scope.code


def _incidents(conn: sa.Connection, scope: Scope, areas: pd.DataFrame, window: Window | None) -> pd.DataFrame:
    """Incidents per community and category in the window, from the roll-up (parent = street)."""
    if window is None:
        return pd.DataFrame({"community_code": pd.Series(dtype=str), "category": pd.Series(dtype=str),
                             "n": pd.Series(dtype=float)})
    streets = list(areas.loc[areas["level"] == "street", "code"]) or [scope.code[:9]]
    counts = frame(conn, rollup_sum(STATUS_ROLLUP, ["area_code", "category"], ("parent_code", streets), window))
    counts = counts[counts["area_code"].str.startswith(scope.prefix)]  # a community scope: only itself
    return counts.rename(columns={"area_code": "community_code"}).astype({"n": float}).reset_index(drop=True)


def _facts(conn: sa.Connection, city_code: str) -> dict[str, Any]:
    """City-wide codes and outline: validation must know the whole city, whatever the scope."""
    a = area.c
    outline = conn.execute(sa.select(a.geom.ST_AsBinary()).where(a.code == city_code)).scalar_one()
    return {
        "city_code": city_code,
        "city": shapely.from_wkb(bytes(outline)),
        "assembly_codes": frozenset(conn.execute(sa.select(assembly_point.c.code)).scalars()),
        "hospital_codes": frozenset(conn.execute(sa.select(hospital.c.code)).scalars()),
        "stock_lines": frozenset(tuple(r) for r in conn.execute(sa.select(stock.c.depot_code, stock.c.item))),
        "area_codes": frozenset(conn.execute(sa.select(a.code).where(a.level != "grid")).scalars()),
    }


class BaselineInputs(TypedDict):
    """The keyword arguments of geo.scenario.prepare_baseline, as baseline_inputs reads them."""

    scope_code: str
    areas: pd.DataFrame
    grids: gpd.GeoDataFrame
    assembly: pd.DataFrame
    hospitals: pd.DataFrame
    stock: pd.DataFrame
    incidents: pd.DataFrame
    facts: dict[str, Any]


def baseline_inputs(engine: Engine, scope_code: str, *, city_code: str,
                    window: Window | None = None) -> BaselineInputs:
    """Everything the scenario metrics read for a scope (keyword arguments of geo.scenario.prepare_baseline).

    areas: code, name, level, parent_code, population, centroid_lon, centroid_lat (scope and below);
    grids: code, population, geometry (EPSG:4326); assembly: code, name, kind, capacity, occupancy,
    status, lon, lat, grid_code, in_scope; hospitals: code, name, lon, lat, grid_code, in_scope,
    <bed type>_total/_occupied; stock: depot_code, depot_name, lon, lat, grid_code, item,
    category, unit, quantity, daily_need_per_1000; incidents: community_code, category, n;
    facts: city-wide codes and outline. Assembly points come from the whole city (a resident's
    nearest point may lie outside the scope: 1,500 rows, cheap), flagged in_scope.
    """
    scope = scope_of(engine, scope_code)
    areas = areas_at_level(engine, scope.code)[list(AREA_FIELDS)]
    grids = area_geometries(engine, scope.code, "grid")[["code", "population", "geometry"]]
    city_points = assembly_points_in_scope(engine, city_code)
    hospitals = hospitals_in_scope(engine, scope.code)
    with engine.connect() as conn:
        return {
            "scope_code": scope.code,
            "areas": areas,
            "grids": grids,
            "assembly": pd.DataFrame(city_points[list(ASSEMBLY_FIELDS)]).assign(
                in_scope=_in_scope(city_points, scope)),
            "hospitals": pd.DataFrame(hospitals[_hospital_fields()]).assign(in_scope=True),
            "stock": stock_in_scope(engine, scope.code),
            "incidents": _incidents(conn, scope, areas, window),
            "facts": _facts(conn, city_code),
        }
