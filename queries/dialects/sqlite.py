"""SpatiaLite versions of the dialect-specific operations."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.sqlite import insert as _insert

from queries.dialects.common import plain_rows

insert = _insert  # INSERT ... ON CONFLICT DO UPDATE, same API as PostgreSQL's


def _placeholder(column: sa.Column) -> str:
    return "GeomFromEWKT(?)" if isinstance(column.type, Geometry) else "?"


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int = 50_000) -> None:
    """Insert a frame with the driver's executemany (SQLAlchemy Core per row is 10x slower)."""
    columns, rows = plain_rows(table, frame)
    names = ", ".join(c.name for c in columns)
    marks = ", ".join(_placeholder(c) for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - names from schema
    cursor = conn.connection.driver_connection.cursor()
    for start in range(0, len(rows), chunk):
        cursor.executemany(sql, rows[start : start + chunk])


def analyze(conn: sa.Connection) -> None:
    """Refresh the planner's statistics (SQLite can otherwise pick a slow index)."""
    conn.exec_driver_sql("ANALYZE")
