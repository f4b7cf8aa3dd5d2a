"""PostGIS versions of the dialect-specific operations."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from psycopg2.extras import execute_values
from sqlalchemy.dialects.postgresql import insert as _insert

from queries.dialects.common import driver_cursor, plain_rows

insert = _insert  # INSERT ... ON CONFLICT DO UPDATE, same API as SQLite's


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int = 200_000) -> None:
    """Insert a frame with COPY FROM STDIN (PostGIS parses EWKT text into geometry)."""
    columns, rows = plain_rows(table, frame)
    names = ", ".join(c.name for c in columns)
    cursor = driver_cursor(conn)
    for start in range(0, len(rows), chunk):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows[start : start + chunk]:
            writer.writerow([r"\N" if v is None else v for v in row])
        buffer.seek(0)
        cursor.copy_expert(f"COPY {table.name} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def clear_tables(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Empty the tables and restart their id sequences: a rebuilt demo city numbers its incidents
    from 1 again, as its reporter contacts expect (a DELETE would keep the sequence going)."""
    conn.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY")


def analyze(conn: sa.Connection) -> None:
    """Refresh the planner's statistics and the visibility map after a bulk load.

    VACUUM, not only ANALYZE: the roll-up queries are index-only scans, which read the table too
    for every page the visibility map does not mark all-visible (all of them after a bulk load).
    VACUUM cannot run in a transaction, hence a connection of its own.
    """
    with conn.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as own:
        own.exec_driver_sql("VACUUM ANALYZE")


def add_counts(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Add each row's n to the count with its key, inserting the keys not there yet, and delete the
    counts that fell to zero (only a negative delta can), so no zero row is kept.

    One statement for all rows and one for the keys that fell (psycopg2's execute_values): an
    executemany would be a round trip per row, and the intake writes some 30 counts per batch of
    incidents. A concurrent writer's increment is safe: the DELETE rechecks n = 0 on the row it waited for.
    """
    columns = list(rows[0])
    key_columns = [c.name for c in table.primary_key.columns]
    key = ", ".join(key_columns)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES %s "  # noqa: S608 - names from the schema
        f"ON CONFLICT ({key}) DO UPDATE SET n = {table.name}.n + EXCLUDED.n"
    )
    cursor = driver_cursor(conn)
    execute_values(cursor, sql, [tuple(r[c] for c in columns) for r in rows], page_size=len(rows))
    fallen = [tuple(r[c] for c in key_columns) for r in rows if r["n"] < 0]
    if fallen:
        drop = f"DELETE FROM {table.name} WHERE n = 0 AND ({key}) IN (VALUES %s)"  # noqa: S608 - names from the schema
        execute_values(cursor, drop, fallen, page_size=len(fallen))


# pg_advisory_xact_lock key of schema changes (any constant; "CITY" in ASCII).
SCHEMA_CHANGE_LOCK = 0x43495459


@contextmanager
def schema_change(conn: sa.Connection) -> Iterator[None]:
    """One transaction that first takes the schema-change advisory lock, released at its end: a second waits."""
    with conn.begin():
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_CHANGE_LOCK)))
        yield


def transaction_token(conn: sa.Connection) -> str | None:
    """The open transaction's id: after a COMMIT whose answer was lost, transaction_committed tells what happened."""
    return str(conn.execute(sa.select(sa.func.pg_current_xact_id())).scalar_one())


def transaction_committed(conn: sa.Connection, token: str) -> bool | None:
    """Whether the transaction committed (pg_xact_status, made for this): None while it is still running, or
    when it is too old for the server to tell."""
    status = conn.execute(sa.text("SELECT pg_xact_status(CAST(:xid AS xid8))"), {"xid": token}).scalar()
    return {"committed": True, "aborted": False}.get(str(status))
