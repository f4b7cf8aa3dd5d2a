"""Helpers shared by the dialect modules: turning a DataFrame into plain rows for a table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from geoalchemy2 import Geometry

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def table_columns(table: sa.Table, frame: pd.DataFrame) -> list[sa.Column]:
    """The table's columns that the frame provides, in table order."""
    return [c for c in table.columns if c.name in frame.columns]


def plain_column(column: sa.Column, values: pd.Series) -> list:
    """Python values (None for missing) in the text form both databases parse the same way."""
    if isinstance(column.type, Geometry):
        return [None if g is None else f"SRID=4326;{g.wkt}" for g in values]
    if isinstance(column.type, sa.DateTime):
        stamps = pd.to_datetime(values)
        text = stamps.dt.strftime(TIME_FORMAT).to_numpy(dtype=object)
        return list(np.where(stamps.isna().to_numpy(), None, text))
    if isinstance(column.type, sa.Boolean):
        return [None if pd.isna(v) else bool(v) for v in values]
    if isinstance(column.type, sa.Integer):
        return [None if pd.isna(v) else int(v) for v in values]
    if isinstance(column.type, sa.Float):
        return [None if pd.isna(v) else float(v) for v in values]
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def plain_rows(table: sa.Table, frame: pd.DataFrame) -> tuple[list[sa.Column], list[tuple]]:
    columns = table_columns(table, frame)
    data = [plain_column(c, frame[c.name]) for c in columns]
    return columns, list(zip(*data, strict=True))
