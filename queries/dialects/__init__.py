"""Database differences behind one lookup on the dialect name (as GeoAlchemy2 does)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Insert as PostgresInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

from queries.dialects import postgresql, sqlite


class Dialect(Protocol):
    """What each dialect module provides under the same names: mypy checks both modules against it."""

    def insert(self, table: sa.Table) -> SqliteInsert | PostgresInsert:
        """INSERT with .on_conflict_do_update / .on_conflict_do_nothing, the same API in both."""
        ...

    def bulk_insert(self, conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, chunk: int = ...) -> None:
        """Insert every row of a frame (the columns the table has), the database's fastest way."""
        ...

    def add_counts(self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Add each row's n to the count with its key, inserting the keys not there yet; a count that
        falls to zero is deleted (no zero rows are kept)."""
        ...

    def clear_tables(self, conn: sa.Connection, tables: list[sa.Table]) -> None:
        """Empty the tables (given children first), new ids starting at 1 again."""
        ...

    def analyze(self, conn: sa.Connection) -> None:
        """Refresh the planner's statistics after a bulk load."""
        ...

    def schema_change(self, conn: sa.Connection) -> AbstractContextManager[None]:
        """One transaction holding the database's schema-change lock: a second upgrade waits for it."""
        ...

    def transaction_token(self, conn: sa.Connection) -> str | None:
        """What to ask transaction_committed about the open transaction if its COMMIT fails; None when a
        failed COMMIT on this database never committed."""
        ...

    def transaction_committed(self, conn: sa.Connection, token: str) -> bool | None:
        """Whether the transaction of the token committed; None when the database cannot tell yet."""
        ...


_DIALECTS: dict[str, Dialect] = {"sqlite": sqlite, "postgresql": postgresql}


def for_connection(conn: sa.Connection | sa.Engine) -> Dialect:
    """The module with this database's versions of bulk_insert, add_counts and friends."""
    return _DIALECTS[conn.dialect.name]
