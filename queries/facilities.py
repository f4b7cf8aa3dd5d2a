"""Emergency resources in a scope: assembly points, supply depots with stock, hospitals with beds."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from queries.dialects import for_connection
from queries.frames import frame, records
from queries.schema import assembly_point, hospital, hospital_beds, stock, supply_depot
from queries.scope import inside, resolve
from vocab import BED_TYPE_CODES

LOCATION_COLUMNS = ("lon", "lat", "grid_code", "community_code", "street_code", "district_code",
                    "last_updated", "source")


def _points(rows: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326")


def _select_in_scope(engine: Engine, scope_code: str, table: sa.Table, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = sa.select(*(table.c[c] for c in columns)).where(inside(table, scope)).order_by(table.c.code)
        return frame(conn, statement)


def assembly_points_in_scope(engine: Engine, scope_code: str) -> gpd.GeoDataFrame:
    """Assembly points inside the scope (EPSG:4326 points).

    Columns: code, name, kind, capacity, occupancy, status, lon, lat, grid_code, community_code,
    street_code, district_code, last_updated, source, geometry.
    """
    columns = ["code", "name", "kind", "capacity", "occupancy", "status", *LOCATION_COLUMNS]
    return _points(_select_in_scope(engine, scope_code, assembly_point, columns))


def depots_in_scope(engine: Engine, scope_code: str) -> gpd.GeoDataFrame:
    """Supply depots inside the scope. Columns: code, name, lon, lat, <ancestor codes>,
    last_updated, source, geometry."""
    return _points(_select_in_scope(engine, scope_code, supply_depot, ["code", "name", *LOCATION_COLUMNS]))


def stock_in_scope(engine: Engine, scope_code: str) -> pd.DataFrame:
    """Stock lines of the depots inside the scope.

    Columns: depot_code, depot_name, lon, lat, grid_code (of the depot), item, category, quantity, unit,
    min_level, daily_need_per_1000, last_updated, below_min.
    """
    s, d = stock.c, supply_depot.c
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = (
            sa.select(s.depot_code, d.name.label("depot_name"), d.lon, d.lat, d.grid_code, s.item, s.category,
                      s.quantity, s.unit, s.min_level, s.daily_need_per_1000, s.last_updated)
            .select_from(stock.join(supply_depot, supply_depot.c.code == s.depot_code))
            .where(inside(supply_depot, scope))
            .order_by(s.depot_code, s.item)
        )
        rows = frame(conn, statement)
    rows["below_min"] = rows["quantity"] < rows["min_level"]
    return rows


def hospitals_in_scope(engine: Engine, scope_code: str) -> gpd.GeoDataFrame:
    """Hospitals inside the scope with beds by type (EDXL-HAVE style).

    Columns: code, name, grade, fever_clinic, convertible_beds, lon, lat, <ancestor codes>,
    last_updated, source, then <type>_total and <type>_occupied for general, icu, emergency,
    isolation, and beds_total, beds_occupied, beds_available, occupancy, geometry.
    """
    columns = ["code", "name", "grade", "fever_clinic", "convertible_beds", *LOCATION_COLUMNS]
    hospitals = _select_in_scope(engine, scope_code, hospital, columns)
    b = hospital_beds.c
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        beds = frame(conn, sa.select(b.hospital_code, b.bed_type, b.total, b.occupied)
                     .select_from(hospital_beds.join(hospital, hospital.c.code == b.hospital_code))
                     .where(inside(hospital, scope)))
    wide = beds.pivot_table(index="hospital_code", columns="bed_type", values=["total", "occupied"],
                            aggfunc="sum", fill_value=0)
    for bed in BED_TYPE_CODES:
        for measure in ("total", "occupied"):
            key = (measure, bed)
            hospitals[f"{bed}_{measure}"] = (
                hospitals["code"].map(wide[key]).fillna(0).astype(int) if key in wide else 0
            )
    hospitals["beds_total"] = hospitals[[f"{t}_total" for t in BED_TYPE_CODES]].sum(axis=1)
    hospitals["beds_occupied"] = hospitals[[f"{t}_occupied" for t in BED_TYPE_CODES]].sum(axis=1)
    hospitals["beds_available"] = hospitals["beds_total"] - hospitals["beds_occupied"]
    hospitals["occupancy"] = hospitals["beds_occupied"] / hospitals["beds_total"].where(hospitals["beds_total"] > 0)
    return _points(hospitals)


def hospital_codes(engine: Engine) -> set[str]:
    """Codes of every hospital (what an import may refer to)."""
    with engine.connect() as conn:
        return set(conn.execute(sa.select(hospital.c.code)).scalars())


def apply_bed_counts(engine: Engine, beds: pd.DataFrame, source: str, at: datetime) -> int:
    """Set the bed counts of checked rows (hospital_code, bed_type, total, occupied) and stamp their
    hospitals as updated at `at` by `source`. One transaction: all of them or, on an error, none."""
    rows = records(beds[["hospital_code", "bed_type", "total", "occupied"]])
    if not rows:
        return 0
    with engine.begin() as conn:
        statement = for_connection(conn).insert(hospital_beds)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["hospital_code", "bed_type"],
            set_={"total": statement.excluded.total, "occupied": statement.excluded.occupied}), rows)
        conn.execute(hospital.update().where(hospital.c.code.in_(sorted({r["hospital_code"] for r in rows})))
                     .values(last_updated=at, source=source))
    return len(rows)


def bed_counts(engine: Engine, codes: list[str] | None = None) -> pd.DataFrame:
    """Bed counts by hospital and type (all hospitals, or those with the given codes).

    Columns: hospital_code, name, bed_type, total, occupied, last_updated, source; by code, type.
    """
    b, h = hospital_beds.c, hospital.c
    statement = (sa.select(b.hospital_code, h.name, b.bed_type, b.total, b.occupied, h.last_updated, h.source)
                 .select_from(hospital_beds.join(hospital, h.code == b.hospital_code))
                 .order_by(b.hospital_code, b.bed_type))
    if codes is not None:
        statement = statement.where(b.hospital_code.in_(codes))
    with engine.connect() as conn:
        return frame(conn, statement)


def stock_lines(engine: Engine, depots: list[str] | None = None) -> pd.DataFrame:
    """Every stock line (of all depots, or of the given ones).

    Columns: depot_code, depot_name, item, quantity, unit, min_level, last_updated; by depot, item.
    """
    s, d = stock.c, supply_depot.c
    statement = (sa.select(s.depot_code, d.name.label("depot_name"), s.item, s.quantity, s.unit, s.min_level,
                           s.last_updated)
                 .select_from(stock.join(supply_depot, d.code == s.depot_code)).order_by(s.depot_code, s.item))
    if depots is not None:
        statement = statement.where(s.depot_code.in_(depots))
    with engine.connect() as conn:
        return frame(conn, statement)


def apply_stock(engine: Engine, lines: pd.DataFrame, source: str, at: datetime) -> int:
    """Set the quantity (and min_level, when the frame has it) of checked stock lines (depot_code,
    item, ...), stamp each line and its depot as updated at `at` by `source`. One transaction."""
    values = [c for c in ("quantity", "min_level") if c in lines]
    # the WHERE's parameters may not share a name with a column: SQLAlchemy reserves those for SET
    rows = records(lines[["depot_code", "item", *values]].rename(columns={"depot_code": "d", "item": "i"}))
    if not rows:
        return 0
    s = stock.c
    with engine.begin() as conn:
        conn.execute(stock.update().where(s.depot_code == sa.bindparam("d"), s.item == sa.bindparam("i"))
                     .values(**{c: sa.bindparam(c) for c in values}, last_updated=at), rows)
        conn.execute(supply_depot.update().where(supply_depot.c.code.in_(sorted({r["d"] for r in rows})))
                     .values(last_updated=at, source=source))
    return len(rows)


def stock_units(engine: Engine) -> dict[tuple[str, str], str]:
    """The unit of every stock line by (depot_code, item): the lines an import may set."""
    with engine.connect() as conn:
        return {(d, i): u for d, i, u in conn.execute(sa.select(stock.c.depot_code, stock.c.item, stock.c.unit))}
