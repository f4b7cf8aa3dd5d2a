"""Schema revisions: bring a database to this version's (cli.py upgrade), check it is there, write a new one."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Engine

from errors import DatabaseUnavailable
from queries import rollups
from queries.dialects import for_connection
from queries.migrations import BASELINE, SCRIPT_LOCATION, legacy
from queries.schema import indexes_built_after, metadata

UPGRADE_HINT = "run `python cli.py upgrade` (scripts/run-app does it on every start)"


def alembic_config(conn: sa.Connection | None = None) -> Config:
    """Alembic's configuration, built here instead of an alembic.ini; env.py runs on `conn`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")  # 0002_reshape_rollups.py
    config.attributes["connection"] = conn
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The revision this version of the code needs."""
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError("queries/migrations/versions holds no revision: the checkout is broken")
    return head


def database_revision(conn: sa.Connection) -> str | None:
    """The database's revision; None when it has none (empty, or built before schema revisions)."""
    return MigrationContext.configure(conn).get_current_revision()


def missing_tables(engine: Engine) -> list[str]:
    """Tables of this version that the database does not have."""
    with engine.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
    return [t.name for t in metadata.sorted_tables if t.name not in present]


def baseline_metadata() -> sa.MetaData:
    """The tables of the baseline revision: what the code before schema revisions built (never changes)."""
    revision = _scripts().get_revision(BASELINE)
    if revision is None:
        raise RuntimeError(f"the baseline revision {BASELINE} is missing: the checkout is broken")
    tables: sa.MetaData = revision.module.baseline_metadata()
    return tables


def _adopt_legacy(conn: sa.Connection) -> tuple[list[str], bool]:
    """Bring a database built before schema revisions to the baseline and stamp it; ([], False) for any other."""
    baseline = baseline_metadata()
    if not legacy.is_legacy(conn, baseline):
        return [], False
    done, recount = legacy.to_baseline(conn, baseline)
    command.stamp(alembic_config(conn), BASELINE)
    return [*done, f"adopted a database built before schema revisions as revision {BASELINE}"], recount


def _applied(before: str | None, after: str | None) -> list[str]:
    """One line per revision applied between the two, oldest first."""
    if before == after:
        return []
    scripts: list[Script] = list(_scripts().iterate_revisions(after, before))
    return [f"applied revision {script.revision}: {script.doc}" for script in reversed(scripts)]


def upgrade(engine: Engine, city_code: str) -> list[str]:
    """Run the schema revisions up to head, adopting a database built before them first; what was done.

    [] when the database is current. One transaction that holds the database's lock for schema changes
    (SQLite's write lock, a PostgreSQL advisory lock): a second upgrade started at the same time waits for
    the first, then finds the database at head and does nothing.
    """
    with engine.connect() as conn, for_connection(conn).schema_change(conn):
        done, recount = _adopt_legacy(conn)
        before = database_revision(conn)
        command.upgrade(alembic_config(conn), "head")
        done += _applied(before, database_revision(conn))
        if recount:  # with this version's code, on this version's tables
            with indexes_built_after(conn, rollups.ROLLUP_TABLES):
                rollups.rebuild(conn, city_code)
            done.append("recounted the roll-ups into this version's tables")
    return done


def require_current(engine: Engine) -> None:
    """DatabaseUnavailable naming the upgrade command unless the database is at this version's revision.

    Writers call this at start: writing this version's roll-up rows into an older table shape would fail
    on every request, or worse, count into the wrong keys.
    """
    with engine.connect() as conn:
        current = database_revision(conn)
    head = head_revision()
    if current == head:
        return
    if current is not None and current not in {script.revision for script in _scripts().walk_revisions()}:
        raise DatabaseUnavailable(f"The database is at schema revision {current}, which this version does not know: "
                                  "it was upgraded by a newer version of CityOps; run that version.")
    what = f"schema revision {current}, this version needs {head}" if current else "it has no schema revision"
    raise DatabaseUnavailable(f"The database was built by an earlier version ({what}): {UPGRADE_HINT}.")


def schema_differences(conn: sa.Connection) -> list[Any]:
    """What tells the database from queries/schema.py, as Alembic's autogenerate sees it ([] when they agree)."""
    # Imported here: GeoAlchemy2's alembic_helpers patch SQLite's index reflection for the whole process,
    # which only comparisons need (upgrades import them through env.py).
    from alembic.autogenerate import compare_metadata

    from queries.migrations.autogenerate import context_options

    options = context_options()
    differences: list[Any] = compare_metadata(MigrationContext.configure(conn, opts=options),
                                              options["target_metadata"])
    return differences


def _next_revision_id() -> str:
    numbers = [int(s.revision) for s in _scripts().walk_revisions() if re.fullmatch(r"\d+", s.revision)]
    return f"{max(numbers, default=0) + 1:04d}"


def write_revision(engine: Engine, message: str) -> Path | None:
    """Write the next revision from what queries/schema.py adds to a database at head; None when nothing does.

    The revision is autogenerated (GeoAlchemy2's helpers render spatial columns and indexes): read it, and add
    what no comparison can know, such as recounting derived tables, before committing it.
    """
    require_current(engine)
    with engine.connect() as conn:
        if not schema_differences(conn):
            return None
        config = alembic_config(conn)
        if importlib.util.find_spec("ruff"):  # a dev dependency; autogenerate writes one long line per operation
            for key, value in (("hooks", "ruff"), ("ruff.type", "exec"), ("ruff.executable", sys.executable),
                               ("ruff.options", "-m ruff format REVISION_SCRIPT_FILENAME")):
                config.set_section_option("post_write_hooks", key, value)
        script = command.revision(config, message, autogenerate=True, rev_id=_next_revision_id())
    if not isinstance(script, Script):  # one revision on one head; several heads would be a broken history
        raise RuntimeError(f"alembic wrote {script!r}, not one revision")
    return Path(script.path)
