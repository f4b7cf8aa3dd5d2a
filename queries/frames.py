"""The one read path for query results: rows to DataFrame, WKB geometry to GeoDataFrame."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

GEOMETRY_WKB = "geometry_wkb"


def frame(conn: sa.Connection, statement, columns: list[str] | None = None) -> pd.DataFrame:
    """Run a statement and return its rows (an empty result keeps its column names)."""
    result = conn.execute(statement)
    return pd.DataFrame(result.fetchall(), columns=columns or list(result.keys()))


def geoframe(conn: sa.Connection, statement) -> gpd.GeoDataFrame:
    """Rows with a `geometry_wkb` column (ST_AsBinary) decoded into an EPSG:4326 GeoDataFrame."""
    rows = frame(conn, statement)
    geometry = shapely.from_wkb(rows.pop(GEOMETRY_WKB).map(bytes).to_numpy()) if len(rows) else []
    return gpd.GeoDataFrame(rows, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"), crs="EPSG:4326")
