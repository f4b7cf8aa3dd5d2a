"""Test helpers: fresh demo databases on SpatiaLite files and on the test PostGIS server."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from demo.build import build_demo
from queries.engine import make_engine

POSTGRES_ENV = "CITYOPS_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgis")


def postgres_url_or_skip() -> str:
    """The test server's URL; a missing server skips locally but fails under CI=true."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set: run the suite with ./scripts/run-tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


def new_database(backend: str, tmp_dir: Path) -> str:
    """The URL of a new, empty database on the backend (PostGIS: a new database with postgis)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'cityops-{uuid.uuid4().hex[:8]}.sqlite'}"
    base = make_url(postgres_url_or_skip())
    name = f"cityops_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = base.set(database=name)
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    return url.render_as_string(hide_password=False)


def demo_engine(backend: str, tmp_dir: Path, days: float = 2, seed: int = 7) -> Engine:
    """A new database on the backend holding the demo city with `days` of incidents."""
    engine = make_engine(new_database(backend, tmp_dir))
    build_demo(engine, days=days, seed=seed)
    return engine
