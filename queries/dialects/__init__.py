"""Database differences behind one lookup on the dialect name (as GeoAlchemy2 does)."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

import sqlalchemy as sa

_MODULES = {"sqlite": "queries.dialects.sqlite", "postgresql": "queries.dialects.postgresql"}


def for_connection(conn: sa.Connection | sa.Engine) -> ModuleType:
    """The module with this database's versions of bulk_insert, upsert and friends."""
    return import_module(_MODULES[conn.dialect.name])
