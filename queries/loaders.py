"""Bulk writes of the demo city and roll-up rebuilds (used by the seed CLI and the benchmarks)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from queries.dialects import for_connection
from queries.schema import (
    area,
    assembly_point,
    dataset_info,
    hospital,
    hospital_beds,
    incident,
    incident_contact,
    incident_rollup,
    metadata,
    stock,
    supply_depot,
)

# (area column, parent column) of the incident row for each roll-up level, finest first.
ROLLUP_LEVELS = (
    ("grid_code", "community_code"),
    ("community_code", "street_code"),
    ("street_code", "district_code"),
    ("district_code", None),
)


def clear_all(conn: sa.Connection) -> None:
    """Delete every row of every table (children first), keeping the schema."""
    for table in reversed(metadata.sorted_tables):
        conn.execute(table.delete())


def write_areas(conn: sa.Connection, areas: gpd.GeoDataFrame) -> None:
    frame = pd.DataFrame(areas.drop(columns="geometry"))
    frame["geom"] = areas.geometry.values
    frame["display_geom"] = areas["display_geometry"].values
    for_connection(conn).bulk_insert(conn, area, frame, chunk=2_000)


def _with_point(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(geom=gpd.points_from_xy(frame["lon"], frame["lat"]))


def write_facilities(conn, assembly, depots, stocks, hospitals, beds) -> None:
    dialect = for_connection(conn)
    dialect.bulk_insert(conn, assembly_point, _with_point(assembly))
    dialect.bulk_insert(conn, supply_depot, _with_point(depots))
    dialect.bulk_insert(conn, stock, stocks)
    dialect.bulk_insert(conn, hospital, _with_point(hospitals))
    dialect.bulk_insert(conn, hospital_beds, beds)


def write_incidents(conn: sa.Connection, incidents: pd.DataFrame, contacts=None) -> None:
    """Append incidents (ids follow the frame order) and their reporter contacts."""
    dialect = for_connection(conn)
    dialect.bulk_insert(conn, incident, incidents)
    if contacts is not None and len(contacts):
        dialect.bulk_insert(conn, incident_contact, contacts)


def next_incident_id(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(incident.c.id), 0))).scalar()) + 1


def rebuild_rollups(conn: sa.Connection, city_code: str) -> None:
    """Recount incident_rollup from the raw incidents at every level (also the audit recount)."""
    conn.execute(incident_rollup.delete())
    for column, parent in ROLLUP_LEVELS + ((None, None),):
        area_col = incident.c[column] if column else sa.literal(city_code)
        parent_col = (
            incident.c[parent] if parent else sa.literal(city_code if column else None, sa.String)
        )
        keys = [area_col, incident.c.report_hour, incident.c.category, incident.c.source, incident.c.status]
        select = sa.select(*keys, parent_col, sa.func.count()).group_by(*keys, parent_col)
        conn.execute(
            incident_rollup.insert().from_select(
                ["area_code", "hour", "category", "source", "status", "parent_code", "n"], select
            )
        )


def write_dataset_info(conn: sa.Connection, info: dict[str, str]) -> None:
    dialect = for_connection(conn)
    for key, value in info.items():
        statement = dialect.insert(dataset_info).values(key=key, value=str(value))
        conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": str(value)}))


def analyze(conn: sa.Connection) -> None:
    for_connection(conn).analyze(conn)
