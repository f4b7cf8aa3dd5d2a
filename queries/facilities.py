"""Emergency resources in a scope: assembly points, supply depots with stock, hospitals with beds."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

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


def _bed_counts_statement(codes: list[str] | None) -> sa.Select[Any]:
    b, h = hospital_beds.c, hospital.c
    statement = (sa.select(b.hospital_code, h.name, b.bed_type, b.total, b.occupied, h.last_updated, h.source)
                 .select_from(hospital_beds.join(hospital, h.code == b.hospital_code))
                 .order_by(b.hospital_code, b.bed_type))
    return statement if codes is None else statement.where(b.hospital_code.in_(codes))


def bed_counts(engine: Engine, codes: list[str] | None = None) -> pd.DataFrame:
    """Bed counts by hospital and type (all hospitals, or those with the given codes).

    Columns: hospital_code, name, bed_type, total, occupied, last_updated, source; by code, type.
    """
    with engine.connect() as conn:
        return frame(conn, _bed_counts_statement(codes))


def _stock_lines_statement(depots: list[str] | None) -> sa.Select[Any]:
    s, d = stock.c, supply_depot.c
    statement = (sa.select(s.depot_code, d.name.label("depot_name"), s.item, s.quantity, s.unit, s.min_level,
                           s.last_updated)
                 .select_from(stock.join(supply_depot, d.code == s.depot_code)).order_by(s.depot_code, s.item))
    return statement if depots is None else statement.where(s.depot_code.in_(depots))


def stock_lines(engine: Engine, depots: list[str] | None = None) -> pd.DataFrame:
    """Every stock line (of all depots, or of the given ones).

    Columns: depot_code, depot_name, item, quantity, unit, min_level, last_updated; by depot, item.
    """
    with engine.connect() as conn:
        return frame(conn, _stock_lines_statement(depots))


def stock_units(engine: Engine) -> dict[tuple[str, str], str]:
    """The unit of every stock line by (depot_code, item): the lines an import may set."""
    with engine.connect() as conn:
        return {(d, i): u for d, i, u in conn.execute(sa.select(stock.c.depot_code, stock.c.item, stock.c.unit))}


# What "changed" means for an imported sheet (one rule for the preview and the write): a line changes
# when one of its figures differs from the database's, or the database has no such line yet. A line
# with today's figures is NOT fresh evidence by itself: the template a department downloads carries
# today's figures, so every line it did not edit comes back the same. Such lines are written nowhere
# and stamp nothing, unless the department confirms them (confirm_unchanged: "these figures are still
# current", which is fresh data too). Facilities and lines not in the sheet are never touched.
BED_KEY, BED_FIGURES = ("hospital_code", "bed_type"), ("total", "occupied")
STOCK_KEY = ("depot_code", "item")


class Applied(NamedTuple):
    """What applying a sheet did: lines whose figures were written, unchanged lines stamped as confirmed
    (0 unless confirmed), lines left as they were, and facilities stamped as updated."""

    changed: int
    confirmed: int
    same: int
    facilities: int


def stock_figures(lines: pd.DataFrame) -> tuple[str, ...]:
    """The figures a stock sheet sets: the quantity, and the minimum when it has that column."""
    return tuple(c for c in ("quantity", "min_level") if c in lines)


def _beside_current(sheet: pd.DataFrame, current: pd.DataFrame, key: tuple[str, ...], figures: tuple[str, ...],
                    described: tuple[str, ...]) -> pd.DataFrame:
    """The sheet's rows with the `described` columns of their current line, <figure>_before (NaN: no such
    line yet), <figure>_changed and changed."""
    merged = sheet.merge(current[[*key, *figures, *described]].rename(columns={f: f"{f}_before" for f in figures}),
                         on=list(key), how="left", validate="one_to_one")
    for figure in figures:
        merged[f"{figure}_changed"] = merged[figure].ne(merged[f"{figure}_before"])  # NaN before: changed
    merged["changed"] = merged[[f"{f}_changed" for f in figures]].any(axis=1)
    return merged


def _bed_changes(conn: sa.Connection, beds: pd.DataFrame) -> pd.DataFrame:
    current = frame(conn, _bed_counts_statement(sorted(beds["hospital_code"].unique())))
    compared = _beside_current(beds, current, BED_KEY, BED_FIGURES, ("name",))
    # a bed type the hospital has no line of yet: its name from the hospital's other lines
    compared["name"] = compared.groupby("hospital_code")["name"].transform("first")
    return compared


def _stock_changes(conn: sa.Connection, lines: pd.DataFrame) -> pd.DataFrame:
    current = frame(conn, _stock_lines_statement(sorted(lines["depot_code"].unique())))
    return _beside_current(lines, current, STOCK_KEY, stock_figures(lines), ("depot_name", "unit"))


def bed_changes(engine: Engine, beds: pd.DataFrame) -> pd.DataFrame:
    """Checked bed lines (hospital_code, bed_type, total, occupied, ...) beside the database's counts.

    Columns: the sheet's, name (the hospital's), total_before, occupied_before (NaN for a bed type the
    hospital has no line of), total_changed, occupied_changed, changed (any figure differs); in the
    sheet's order.
    """
    with engine.connect() as conn:
        return _bed_changes(conn, beds)


def stock_changes(engine: Engine, lines: pd.DataFrame) -> pd.DataFrame:
    """Checked stock lines (depot_code, item, quantity[, min_level], ...) beside the database's.

    Columns: the sheet's, depot_name, unit, <figure>_before, <figure>_changed for quantity (and
    min_level), changed; in the sheet's order.
    """
    with engine.connect() as conn:
        return _stock_changes(conn, lines)


def _stamp(conn: sa.Connection, table: sa.Table, codes: pd.Series, source: str, at: datetime) -> int:
    """Stamp these facilities as updated at `at` by `source`; how many."""
    unique = sorted(set(codes))
    if unique:
        conn.execute(table.update().where(table.c.code.in_(unique)).values(last_updated=at, source=source))
    return len(unique)


def _applied(compared: pd.DataFrame, stamped_lines: pd.DataFrame, facilities: int) -> Applied:
    changed = int(compared["changed"].sum())
    return Applied(changed, len(stamped_lines) - changed, len(compared) - len(stamped_lines), facilities)


def apply_bed_counts(engine: Engine, beds: pd.DataFrame, source: str, at: datetime, *,
                     confirm_unchanged: bool = False) -> Applied:
    """Write the checked rows (hospital_code, bed_type, total, occupied) whose counts differ from the
    database's and stamp their hospitals as updated at `at` by `source`; rows with today's counts are
    written nowhere and stamp their hospitals only when `confirm_unchanged`. One transaction."""
    with engine.begin() as conn:
        compared = _bed_changes(conn, beds)
        changed = compared[compared["changed"]]
        if len(changed):
            statement = for_connection(conn).insert(hospital_beds)
            conn.execute(statement.on_conflict_do_update(
                index_elements=list(BED_KEY),
                set_={"total": statement.excluded.total, "occupied": statement.excluded.occupied}),
                records(changed[[*BED_KEY, *BED_FIGURES]]))
        stamped = compared if confirm_unchanged else changed
        return _applied(compared, stamped, _stamp(conn, hospital, stamped["hospital_code"], source, at))


def _update_stock_lines(conn: sa.Connection, lines: pd.DataFrame, figures: tuple[str, ...], at: datetime) -> None:
    """Set these figures of each line (none: only its stamp) and stamp it as updated at `at`."""
    if lines.empty:
        return
    # the WHERE's parameters may not share a name with a column: SQLAlchemy reserves those for SET
    rows = records(lines[[*STOCK_KEY, *figures]].rename(columns={"depot_code": "d", "item": "i"}))
    s = stock.c
    conn.execute(stock.update().where(s.depot_code == sa.bindparam("d"), s.item == sa.bindparam("i"))
                 .values(**{c: sa.bindparam(c) for c in figures}, last_updated=at), rows)


def apply_stock(engine: Engine, lines: pd.DataFrame, source: str, at: datetime, *,
                confirm_unchanged: bool = False) -> Applied:
    """Set the quantity (and min_level, when the frame has it) of checked stock lines (depot_code, item,
    ...) that differ from the database's, stamp each such line and its depot as updated at `at` by
    `source`; lines with today's figures are stamped (with their depots) only when `confirm_unchanged`.
    One transaction."""
    with engine.begin() as conn:
        compared = _stock_changes(conn, lines)
        changed, same = compared[compared["changed"]], compared[~compared["changed"]]
        _update_stock_lines(conn, changed, stock_figures(lines), at)
        if confirm_unchanged:
            _update_stock_lines(conn, same, (), at)
        stamped = compared if confirm_unchanged else changed
        return _applied(compared, stamped, _stamp(conn, supply_depot, stamped["depot_code"], source, at))
