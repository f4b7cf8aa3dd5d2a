"""Schema revisions (Alembic) on SpatiaLite and PostGIS: new, current, concurrent and pre-Alembic databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from demo.city import build_areas
from demo.incidents import generate_incidents
from errors import DatabaseUnavailable
from queries import loaders, upgrade
from queries.dialects import for_connection
from queries.engine import make_engine
from queries.intake import rollup_drift
from queries.migrations import BASELINE
from settings import PROJECT_ROOT
from tests.support import new_database

CITY = "330200"
OLD_CLOSE_ROLLUP = sa.text(  # before close-time bins were kept per category and source
    "CREATE TABLE incident_close_rollup (area_code VARCHAR(15) NOT NULL, hour INTEGER NOT NULL, "
    "close_bin INTEGER NOT NULL, on_time BOOLEAN NOT NULL, parent_code VARCHAR(15), n INTEGER NOT NULL, "
    "PRIMARY KEY (area_code, hour, close_bin, on_time))"
)


def version_rows(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


def test_an_empty_database_upgraded_to_head_has_the_schema_and_a_second_upgrade_does_nothing(backend, tmp_path):
    engine = make_engine(new_database(backend, tmp_path), create=True)
    with pytest.raises(DatabaseUnavailable, match="no schema revision.*cli.py upgrade"):
        upgrade.require_current(engine)
    done = upgrade.upgrade(engine, CITY)
    assert done[0].startswith(f"applied revision {BASELINE}: Baseline")
    assert all(step.startswith("applied revision ") for step in done)  # and the revisions after it, if any
    with engine.connect() as conn:
        assert upgrade.schema_differences(conn) == []  # tables, columns, types, indexes (spatial ones too)
        assert upgrade.database_revision(conn) == upgrade.head_revision()
    assert upgrade.upgrade(engine, CITY) == []
    upgrade.require_current(engine)
    assert version_rows(engine) == [upgrade.head_revision()]


def test_the_comparison_sees_a_missing_spatial_index(backend, tmp_path):
    """A guard on the test above: an empty list must mean "equal", not "spatial indexes not compared"."""
    engine = make_engine(new_database(backend, tmp_path), create=True)
    upgrade.upgrade(engine, CITY)
    with engine.begin() as conn:
        if backend == "sqlite":
            conn.execute(sa.text("SELECT DisableSpatialIndex('hospital', 'geom')"))
        else:
            conn.execute(sa.text("DROP INDEX idx_hospital_geom"))
    with engine.connect() as conn:
        differences = upgrade.schema_differences(conn)
    assert [(kind, index.name) for kind, index in differences] == [("add_index", "idx_hospital_geom")]


def _wait_until_queued(conn: sa.Connection, runs: list[subprocess.Popen], database: str | None) -> None:
    """Until every process waits for the schema-change lock the test holds (at most a minute)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert all(run.poll() is None for run in runs), "an upgrade ended while the lock was held"
        if database:  # SQLite shows no waiters: a process that has the file open is at its BEGIN IMMEDIATE
            queued = sum(any(os.path.realpath(fd) == database for fd in Path(f"/proc/{run.pid}/fd").iterdir())
                         for run in runs)
        else:
            queued = conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                          "AND NOT granted")).scalar_one()
        if queued == len(runs):
            return
        time.sleep(0.1)
    pytest.fail("the upgrades did not reach the lock within a minute")


def test_upgrades_started_at_once_on_a_new_database_all_succeed_and_one_applies(backend, tmp_path):
    url = new_database(backend, tmp_path)
    engine = make_engine(url, create=True)
    database = os.path.realpath(engine.url.database) if backend == "sqlite" else None
    command = [sys.executable, "cli.py", "upgrade", "--database-url", url]
    with engine.connect() as conn, for_connection(conn).schema_change(conn):  # all three queue behind it
        runs = [subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,  # noqa: S603 - our CLI
                                 stderr=subprocess.PIPE, text=True) for _ in range(3)]
        _wait_until_queued(conn, runs, database)
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _, err in outputs]
    printed = sorted("applied revision" if "applied revision" in out else out.split(" is ")[-1].strip()
                     for out, _ in outputs)
    head = upgrade.head_revision()
    assert printed == ["applied revision", f"current (schema revision {head})", f"current (schema revision {head})"]
    assert version_rows(engine) == [head]


def test_the_demo_seed_leaves_the_database_at_head(engine):
    with engine.connect() as conn:
        assert upgrade.database_revision(conn) == upgrade.head_revision()
    assert upgrade.upgrade(engine, CITY) == []


def _database_of_the_old_code(backend: str, tmp_path: Path):
    """A database as the code before schema revisions left it: no alembic_version, the baseline's tables (not
    queries/schema.py's, which moves on), with an older close roll-up and no daily roll-ups."""
    engine = make_engine(new_database(backend, tmp_path), create=True)
    baseline = upgrade.baseline_metadata()
    baseline.create_all(engine)
    areas_ = build_areas(7)
    end = datetime(2026, 3, 1, 12, 30)
    incidents = generate_incidents(areas_[areas_["level"] == "grid"].reset_index(drop=True),
                                   end - timedelta(days=2), end, seed=5).head(300)
    with engine.begin() as conn:
        loaders.write_incidents(conn, incidents)
        for name in ("incident_close_rollup", "incident_rollup_day", "incident_close_rollup_day"):
            baseline.tables[name].drop(conn)
        conn.execute(OLD_CLOSE_ROLLUP)
    return engine, len(incidents)


def test_a_database_built_before_schema_revisions_is_adopted_and_recounted(backend, tmp_path):
    engine, incidents = _database_of_the_old_code(backend, tmp_path)
    with pytest.raises(DatabaseUnavailable, match="cli.py upgrade"):
        upgrade.require_current(engine)
    done = upgrade.upgrade(engine, CITY)
    assert f"adopted a database built before schema revisions as revision {BASELINE}" in done
    assert done[-1] == "recounted the roll-ups into this version's tables"
    upgrade.require_current(engine)
    with engine.connect() as conn:
        assert upgrade.schema_differences(conn) == []
        counted = conn.execute(sa.text("SELECT sum(n) FROM incident_rollup_day WHERE category = '*'")).scalar()
    assert counted == 5 * incidents  # each incident once per level: grid, community, street, district, city
    assert rollup_drift(engine, CITY).empty
    assert upgrade.upgrade(engine, CITY) == []
    assert version_rows(engine) == [upgrade.head_revision()]


def test_a_database_upgraded_by_a_newer_version_is_refused(backend, tmp_path):
    engine = make_engine(new_database(backend, tmp_path), create=True)
    upgrade.upgrade(engine, CITY)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseUnavailable, match="revision 9999, which this version does not know"):
        upgrade.require_current(engine)


def test_revision_writes_nothing_when_the_schema_and_the_revisions_agree():
    versions = sorted((PROJECT_ROOT / "queries" / "migrations" / "versions").glob("*.py"))
    result = subprocess.run([sys.executable, "cli.py", "revision", "-m", "nothing to change"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "no revision written" in result.stdout
    assert sorted((PROJECT_ROOT / "queries" / "migrations" / "versions").glob("*.py")) == versions
