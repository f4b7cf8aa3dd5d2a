"""The one read path for query results: rows to DataFrame, WKB geometry to GeoDataFrame."""

from __future__ import annotations

from typing import Any, cast

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

GEOMETRY_WKB = "geometry_wkb"


def frame(conn: sa.Connection, statement: sa.Executable, columns: list[str] | None = None) -> pd.DataFrame:
    """Run a statement and return its rows (an empty result keeps its column names)."""
    result = conn.execute(statement)
    return pd.DataFrame(result.fetchall(), columns=columns or list(result.keys()))


def records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts keyed by column name, e.g. the parameters of an executemany."""
    return cast(list[dict[str, Any]], rows.to_dict("records"))  # pandas types column names as Hashable


def geoframe(conn: sa.Connection, statement: sa.Executable) -> gpd.GeoDataFrame:
    """Rows with a `geometry_wkb` column (ST_AsBinary) decoded into an EPSG:4326 GeoDataFrame."""
    rows = frame(conn, statement)
    geometry: npt.NDArray[np.object_] | list[BaseGeometry] = []
    if len(rows):
        geometry = shapely.from_wkb(rows.pop(GEOMETRY_WKB).map(bytes).to_numpy())
    return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"), crs="EPSG:4326")
