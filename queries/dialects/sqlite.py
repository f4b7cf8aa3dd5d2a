"""SpatiaLite versions of the dialect-specific operations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.dialects.sqlite import insert as _insert

from queries.dialects.common import driver_cursor, plain_rows

insert = _insert  # INSERT ... ON CONFLICT DO UPDATE, same API as PostgreSQL's


def _placeholder(column: sa.Column[Any]) -> str:
    return "GeomFromEWKT(?)" if isinstance(column.type, Geometry) else "?"


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int = 50_000) -> None:
    """Insert a frame with the driver's executemany (SQLAlchemy Core per row is 10x slower)."""
    columns, rows = plain_rows(table, frame)
    names = ", ".join(c.name for c in columns)
    marks = ", ".join(_placeholder(c) for c in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"  # noqa: S608 - names from schema
    cursor = driver_cursor(conn)
    for start in range(0, len(rows), chunk):
        cursor.executemany(sql, rows[start : start + chunk])


_ADD_COUNTS: dict[str, sa.Insert] = {}
_DROP_ZEROS: dict[str, sa.Delete] = {}


def _statements(table: sa.Table) -> tuple[sa.Insert, sa.Delete]:
    """The table's upsert and its delete of one key at zero, built once (building costs more than running)."""
    if table.name not in _ADD_COUNTS:
        statement = _insert(table)
        key = list(table.primary_key.columns)
        _ADD_COUNTS[table.name] = statement.on_conflict_do_update(
            index_elements=[c.name for c in key], set_={"n": table.c.n + statement.excluded.n})
        _DROP_ZEROS[table.name] = table.delete().where(*(c == sa.bindparam(f"key_{c.name}") for c in key),
                                                       table.c.n == 0)
    return _ADD_COUNTS[table.name], _DROP_ZEROS[table.name]


def add_counts(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Add each row's n to the count with its key, inserting the keys not there yet, and delete the
    counts that fell to zero (only a negative delta can), so no zero row is kept.

    INSERT ... ON CONFLICT DO UPDATE, then DELETE ... WHERE n = 0 for the keys that fell, each run as
    an executemany (in-process, so no round trips).
    """
    add, drop = _statements(table)
    conn.execute(add, rows)
    fallen = [{f"key_{c.name}": row[c.name] for c in table.primary_key.columns} for row in rows if row["n"] < 0]
    if fallen:
        conn.execute(drop, fallen)


def clear_tables(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Empty the tables (given children first). SQLite numbers new ids from the largest one left,
    so an emptied table starts again at 1."""
    for table in tables:
        conn.execute(table.delete())


def analyze(conn: sa.Connection) -> None:
    """Refresh the planner's statistics (SQLite can otherwise pick a slow index)."""
    conn.exec_driver_sql("ANALYZE")


@contextmanager
def schema_change(conn: sa.Connection) -> Iterator[None]:
    """One transaction holding the write lock from its BEGIN: a second schema change waits (busy_timeout)."""
    conn.execution_options(sqlite_immediate=True)
    with conn.begin():
        yield


def transaction_token(conn: sa.Connection) -> str | None:
    """None: SQLite runs in this process, so a COMMIT that reports an error did not commit (the transaction
    is still open or rolled back); there is no answer that can be lost on the way."""
    return None


def transaction_committed(conn: sa.Connection, token: str) -> bool | None:
    """Never asked (transaction_token gives no token); False to say so if it were."""
    return False
