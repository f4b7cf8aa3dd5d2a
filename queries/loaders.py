"""Bulk writes of the demo city and roll-up rebuilds (used by the seed CLI and the benchmarks)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa

from queries.dialects import for_connection
from queries.rollups import ROLLUP_TABLES, close_bins
from queries.schema import (
    area,
    assembly_point,
    dataset_info,
    hospital,
    hospital_beds,
    incident,
    incident_contact,
    indexes_built_after,
    metadata,
    stock,
    supply_depot,
)


def clear_all(conn: sa.Connection) -> None:
    """Delete every row of every table, keeping the schema; incident ids start again at 1."""
    for_connection(conn).clear_tables(conn, list(reversed(metadata.sorted_tables)))


def write_areas(conn: sa.Connection, areas: gpd.GeoDataFrame) -> None:
    frame = pd.DataFrame(areas.drop(columns="geometry"))
    frame["geom"] = areas.geometry.values
    frame["display_geom"] = areas["display_geometry"].values
    for_connection(conn).bulk_insert(conn, area, frame, chunk=2_000)


def _with_point(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(geom=gpd.points_from_xy(frame["lon"], frame["lat"]))


def write_facilities(conn: sa.Connection, assembly: pd.DataFrame, depots: pd.DataFrame, stocks: pd.DataFrame,
                     hospitals: pd.DataFrame, beds: pd.DataFrame) -> None:
    dialect = for_connection(conn)
    dialect.bulk_insert(conn, assembly_point, _with_point(assembly))
    dialect.bulk_insert(conn, supply_depot, _with_point(depots))
    dialect.bulk_insert(conn, stock, stocks)
    dialect.bulk_insert(conn, hospital, _with_point(hospitals))
    dialect.bulk_insert(conn, hospital_beds, beds)


@contextmanager
def incident_bulk_load(conn: sa.Connection) -> Iterator[None]:
    """Around writing many incidents and recounting the roll-ups: their indexes are built after."""
    with indexes_built_after(conn, [incident, *ROLLUP_TABLES]):
        yield


def write_incidents(conn: sa.Connection, incidents: pd.DataFrame, contacts: pd.DataFrame | None = None) -> None:
    """Append incidents (ids follow the frame order) and their reporter contacts."""
    dialect = for_connection(conn)
    closed = incidents["status"] == "closed"
    incidents = incidents.assign(
        close_bin=pd.Series(close_bins(incidents["close_minutes"]), index=incidents.index).where(closed),
        on_time=(incidents["closed_at"] <= incidents["due_at"]).where(closed),
    )
    dialect.bulk_insert(conn, incident, incidents)
    if contacts is not None and len(contacts):
        dialect.bulk_insert(conn, incident_contact, contacts)


def write_dataset_info(conn: sa.Connection, info: Mapping[str, object]) -> None:
    dialect = for_connection(conn)
    for key, value in info.items():
        statement = dialect.insert(dataset_info).values(key=key, value=str(value))
        conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": str(value)}))


def analyze(conn: sa.Connection) -> None:
    for_connection(conn).analyze(conn)
