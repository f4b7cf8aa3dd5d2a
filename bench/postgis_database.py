"""A benchmark's own database on a PostGIS server, shared by the bench scripts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def postgis_database(base_url: str, name: str, *, fresh: bool = True) -> str:
    """The URL of database `name` on the server of base_url, with postgis: dropped and re-created when
    fresh, else created only when missing (so a built benchmark city can be measured again)."""
    base = make_url(base_url)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if fresh and exists:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        if fresh or not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = base.set(database=name)
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    return url.render_as_string(hide_password=False)
