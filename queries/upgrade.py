"""Bringing a database built by an earlier version up to date: the one schema upgrade (cli.py upgrade)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from errors import DatabaseUnavailable
from queries.rollups import ROLLUP_TABLES, rollups_current, upgrade_rollups
from queries.schema import metadata

UPGRADE_HINT = "run `python cli.py upgrade` (scripts/run-app does it on every start)"


def missing_tables(engine: Engine) -> list[str]:
    """Tables of this version that the database does not have yet."""
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    return [t.name for t in metadata.sorted_tables if t.name not in present]


def _sync_indexes(engine: Engine) -> list[str]:
    """Create this version's indexes that are missing; drop our (ix_) indexes it no longer has."""
    done = []
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        for table in metadata.sorted_tables:
            present = {i["name"] for i in inspector.get_indexes(table.name)}
            # ix_ only: GeoAlchemy2's spatial indexes (idx_) are its own business (R*Tree tables on SpatiaLite)
            wanted = {i.name: i for i in table.indexes if i.name.startswith("ix_")}
            for name in sorted(n for n in present - set(wanted) if n and n.startswith("ix_")):
                conn.execute(sa.text(f"DROP INDEX {name}"))
                done.append(f"dropped index {name}")
            for name in sorted(set(wanted) - present):
                wanted[name].create(conn)
                done.append(f"created index {name}")
    return done


def upgrade(engine: Engine, city_code: str) -> list[str]:
    """Create the tables and indexes an earlier version lacked, recount roll-ups whose shape changed; what
    was done.

    A no-op (empty list) on a current database. Roll-ups are recounted in one transaction.
    """
    missing = missing_tables(engine)
    # Roll-ups first: created empty by create_all, new roll-up tables would look current and never be counted.
    done = ["recounted the roll-ups into this version's tables"] if upgrade_rollups(engine, city_code) else []
    metadata.create_all(engine)  # only the missing ones (checkfirst)
    rollup_names = {t.name for t in ROLLUP_TABLES}
    return [f"created table {name}" for name in missing if name not in rollup_names] + done + _sync_indexes(engine)


def require_current(engine: Engine) -> None:
    """DatabaseUnavailable naming the upgrade command when the database is from an earlier version.

    Writers call this at start: writing this version's roll-up rows into an older table shape would fail
    on every request, or worse, count into the wrong keys.
    """
    missing = missing_tables(engine)
    with engine.connect() as conn:
        current = rollups_current(conn)
    if missing or not current:
        what = f"tables {', '.join(missing)} are missing" if missing else "its roll-up tables are of an older shape"
        raise DatabaseUnavailable(f"The database was built by an earlier version ({what}): {UPGRADE_HINT}.")
