"""Areas: a scope's details, its ancestors (breadcrumbs) and its children with geometry."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from codes import ancestor_codes
from queries.frames import GEOMETRY_WKB, frame, geoframe
from queries.schema import area, dataset_info
from queries.scope import Scope, resolve

AREA_COLUMNS = ("code", "name", "level", "parent_code", "population", "households", "area_km2",
                "centroid_lon", "centroid_lat")


def scope_of(engine: Engine, code: str) -> Scope:
    """The scope for an area code (raises UnknownArea)."""
    with engine.connect() as conn:
        return resolve(conn, code)


def ancestors_of(engine: Engine, code: str) -> pd.DataFrame:
    """The path from the city down to the area itself. Columns: code, name, level."""
    with engine.connect() as conn:
        scope = resolve(conn, code)
        codes = ancestor_codes(scope.code)
        rows = frame(conn, sa.select(area.c.code, area.c.name, area.c.level)
                     .where(area.c.code.in_(codes)).order_by(sa.func.length(area.c.code)))
        if scope.level != "city":
            city = frame(conn, sa.select(area.c.code, area.c.name, area.c.level)
                         .where(area.c.level == "city"))
            rows = pd.concat([city, rows], ignore_index=True)
    return rows


def children_of(engine: Engine, code: str, *, display: bool = True) -> gpd.GeoDataFrame:
    """The child areas of a scope with geometry (EPSG:4326).

    Columns: code, name, level, parent_code, population, households, area_km2, centroid_lon,
    centroid_lat, geometry. `display=True` returns the per-level simplified outline meant for
    the browser; False the exact polygon. A grid (no children) returns itself.
    """
    geom = area.c.display_geom if display else area.c.geom
    with engine.connect() as conn:
        scope = resolve(conn, code)
        condition = area.c.parent_code == scope.code if scope.child_level else area.c.code == scope.code
        statement = (
            sa.select(*(area.c[c] for c in AREA_COLUMNS), geom.ST_AsBinary().label(GEOMETRY_WKB))
            .where(condition)
            .order_by(area.c.code)
        )
        return geoframe(conn, statement)


def areas_at_level(engine: Engine, code: str, level: str | None = None) -> pd.DataFrame:
    """All areas of one level inside a scope (every level, the scope's own row included, when level is
    None), without geometry. Columns as AREA_COLUMNS."""
    with engine.connect() as conn:
        scope = resolve(conn, code)
        where = [area.c.code.like(f"{scope.prefix}%")] + ([area.c.level == level] if level else [])
        statement = sa.select(*(area.c[c] for c in AREA_COLUMNS)).where(*where).order_by(area.c.code)
        return frame(conn, statement)


def area_geometries(engine: Engine, code: str, level: str, *, display: bool = False) -> gpd.GeoDataFrame:
    """Areas of one level inside a scope with geometry. Columns: AREA_COLUMNS + geometry."""
    geom = area.c.display_geom if display else area.c.geom
    with engine.connect() as conn:
        scope = resolve(conn, code)
        statement = (
            sa.select(*(area.c[c] for c in AREA_COLUMNS), geom.ST_AsBinary().label(GEOMETRY_WKB))
            .where(area.c.level == level, area.c.code.like(f"{scope.prefix}%"))
            .order_by(area.c.code)
        )
        return geoframe(conn, statement)


def dataset_facts(engine: Engine) -> dict[str, str]:
    """Key/value facts about the loaded data (built_at, seed, days, note)."""
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(dataset_info.c.key, dataset_info.c.value)).all())
