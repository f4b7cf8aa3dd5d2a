"""Helpers shared by the dialect modules: turning a DataFrame into plain rows for a table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from geoalchemy2 import Geometry

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def table_columns(table: sa.Table, frame: pd.DataFrame) -> list[sa.Column[Any]]:
    """The table's columns that the frame provides, in table order."""
    return [c for c in table.columns if c.name in frame.columns]


def plain_column(column: sa.Column[Any], values: pd.Series) -> list[object]:
    """Python values (None for missing) in the text form both databases parse the same way."""
    if isinstance(column.type, Geometry):
        return [None if g is None else f"SRID=4326;{g.wkt}" for g in values]
    if isinstance(column.type, sa.DateTime):
        stamps = pd.to_datetime(values)
        text = stamps.dt.strftime(TIME_FORMAT).to_numpy(dtype=object)
        text[stamps.isna().to_numpy()] = None
        return list(text)
    if isinstance(column.type, sa.Boolean):
        return [None if pd.isna(v) else bool(v) for v in values]
    if isinstance(column.type, sa.Integer):
        return [None if pd.isna(v) else int(v) for v in values]
    if isinstance(column.type, sa.Float):
        return [None if pd.isna(v) else float(v) for v in values]
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def driver_cursor(conn: sa.Connection) -> Any:
    """A cursor of the driver's own connection (sqlite3 or psycopg2), for executemany and COPY."""
    driver = conn.connection.driver_connection
    if driver is None:  # only after the connection was invalidated
        raise sa.exc.InvalidRequestError("the connection has no driver connection")
    return driver.cursor()


def plain_rows(table: sa.Table, frame: pd.DataFrame) -> tuple[list[sa.Column[Any]], list[tuple[object, ...]]]:
    columns = table_columns(table, frame)
    data = [plain_column(c, frame[c.name]) for c in columns]
    return columns, list(zip(*data, strict=True))
