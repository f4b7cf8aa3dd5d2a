"""What Alembic compares and how it writes revisions: GeoAlchemy2's helpers for spatial columns and indexes."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers  # also registers the geospatial operations revisions use

from queries.schema import fresh_metadata

# SpatiaLite 5's own tables that GeoAlchemy2's include_object does not know (KNN2 replaced KNN in 5.1).
SPATIALITE_TABLES = frozenset({"data_licenses", "sql_statements_log", "ElementaryGeometries", "SpatialIndex", "KNN",
                               "KNN2"})


def include_object(obj: object, name: str | None, obj_type: str, reflected: bool, compare_to: object) -> bool:
    """Leave the spatial extension's own tables out: GeoAlchemy2's list, and SpatiaLite's that it misses."""
    if obj_type == "table" and reflected and name in SPATIALITE_TABLES:
        return False
    return bool(alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to))


def context_options() -> dict[str, Any]:
    """MigrationContext options for running, comparing and autogenerating, the same on SpatiaLite and PostGIS."""
    return {
        "target_metadata": fresh_metadata(),
        "include_object": include_object,
        "render_item": alembic_helpers.render_item,
        "process_revision_directives": alembic_helpers.writer,
        # SQLite alters a column by copying its table: batch operations do that there, plain ALTERs elsewhere.
        "render_as_batch": True,
        "compare_type": True,
        # DDL is transactional on both: an upgrade is one transaction (queries.upgrade takes the lock on it).
        "transactional_ddl": True,
    }
