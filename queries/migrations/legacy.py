"""Databases built before schema revisions: brought once to the baseline's shape, then stamped (queries.upgrade).

CityOps up to commit 6829207 kept no schema revision: `cli.py upgrade` looked at the tables instead. Such a
database has our tables but no alembic_version. What an older one may lack is what that command fixed: tables
added since (the step log, the daily roll-ups), roll-up tables of an older shape (dropped here, recounted from
the raw incidents once the database is at head), ix_ indexes added or renamed since. It is measured against the
frozen baseline, never queries/schema.py, so the revisions after the baseline apply to it as to any database.
"""

from __future__ import annotations

import sqlalchemy as sa

ROLLUP_TABLES = ("incident_rollup", "incident_rollup_day", "incident_close_rollup", "incident_close_rollup_day")


def is_legacy(conn: sa.Connection, baseline: sa.MetaData) -> bool:
    """Whether the database has tables of ours but no schema revision."""
    present = set(sa.inspect(conn).get_table_names())
    return "alembic_version" not in present and bool(present & set(baseline.tables))


def _rollups_of_baseline_shape(conn: sa.Connection) -> bool:
    """The old check: daily tables present, categories in the close roll-up, days keyed area, category, source."""
    inspector = sa.inspect(conn)
    if not set(ROLLUP_TABLES) <= set(inspector.get_table_names()):
        return False
    if "category" not in {c["name"] for c in inspector.get_columns("incident_close_rollup")}:
        return False
    key = inspector.get_pk_constraint("incident_rollup_day")["constrained_columns"]
    return key[:4] == ["area_code", "category", "source", "day"]


def _sync_indexes(conn: sa.Connection, baseline: sa.MetaData) -> list[str]:
    """Create the baseline's ix_ indexes that are missing; drop our (ix_) indexes it does not have."""
    done = []
    inspector = sa.inspect(conn)
    for table in baseline.sorted_tables:
        present = {i["name"] for i in inspector.get_indexes(table.name)}
        # ix_ only: GeoAlchemy2's spatial indexes (idx_) are its own business (R*Tree tables on SpatiaLite)
        wanted = {str(i.name): i for i in table.indexes if i.name and i.name.startswith("ix_")}
        for name in sorted(n for n in present - set(wanted) if n and n.startswith("ix_")):
            conn.execute(sa.text(f"DROP INDEX {name}"))
            done.append(f"dropped index {name}")
        for name in sorted(set(wanted) - present):
            wanted[name].create(conn)
            done.append(f"created index {name}")
    return done


def to_baseline(conn: sa.Connection, baseline: sa.MetaData) -> tuple[list[str], bool]:
    """Give a legacy database the baseline's tables and indexes: what was done, and whether to recount roll-ups."""
    recount = not _rollups_of_baseline_shape(conn)
    if recount:  # derived data: an older shape is dropped and counted again from the incidents
        for name in ROLLUP_TABLES:
            baseline.tables[name].drop(conn, checkfirst=True)
    present = set(sa.inspect(conn).get_table_names())
    created = [table for table in baseline.sorted_tables if table.name not in present]
    for table in created:
        table.create(conn)
    done = [f"created table {table.name}" for table in created if table.name not in ROLLUP_TABLES]
    return done + _sync_indexes(conn, baseline), recount
