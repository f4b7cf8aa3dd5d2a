"""PostGIS versions of the dialect-specific operations."""

from __future__ import annotations

import csv
import io

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as _insert

from queries.dialects.common import plain_rows

insert = _insert  # INSERT ... ON CONFLICT DO UPDATE, same API as SQLite's


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int = 200_000) -> None:
    """Insert a frame with COPY FROM STDIN (PostGIS parses EWKT text into geometry)."""
    columns, rows = plain_rows(table, frame)
    names = ", ".join(c.name for c in columns)
    cursor = conn.connection.driver_connection.cursor()
    for start in range(0, len(rows), chunk):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows[start : start + chunk]:
            writer.writerow([r"\N" if v is None else v for v in row])
        buffer.seek(0)
        cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def analyze(conn: sa.Connection) -> None:
    """Refresh the planner's statistics after a bulk load."""
    conn.exec_driver_sql("ANALYZE")
