"""Helpers of the intake tests: the service over a demo city copy, reports inside the city, what was written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from intake.process import ServiceProcess
from queries.areas import area_geometries
from queries.rollups import ROLLUP_TABLES
from queries.schema import incident, incident_contact, incident_step
from settings import get_settings

CITY = get_settings().city_code
BASE = "/open311/v2"


@dataclass
class Live:
    backend: str
    engine: Engine
    service: ServiceProcess
    client: httpx.Client
    points: list[tuple[float, float]]  # (long, lat) inside the city, one per sample grid


@contextmanager
def live_service(backend: str, engine: Engine, folder: Path, env: dict[str, str] | None = None) -> Iterator[Live]:
    """The intake service (settings env on top of ours) on a free port in front of engine's database.

    At the end its log must hold no traceback: every answer, even to an attack, was a planned one."""
    grids = area_geometries(engine, CITY, "grid")
    sample = grids.sample(40, random_state=3).geometry.representative_point()
    url = engine.url.render_as_string(hide_password=False)
    log_path = folder / "service.log"
    with (
        ServiceProcess(url, log_path=log_path, env=env) as service,
        httpx.Client(base_url=service.url, timeout=30) as client,
    ):
        yield Live(backend, engine, service, client, list(zip(sample.x, sample.y, strict=True)))
    log = log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


def report(live: Live, i: int = 0, **fields: Any) -> dict[str, Any]:
    """A valid report at sample point i (fields override or add)."""
    lon, lat = live.points[i % len(live.points)]
    return {"service_code": "greening", "lat": lat, "long": lon, "description": "路边树枝折断", **fields}


def post(live: Live, body: dict[str, Any], *, key: str | None = None, form: bool = False) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    if form:
        return live.client.post(f"{BASE}/requests.json", data=body, headers=headers)
    return live.client.post(f"{BASE}/requests.json", json=body, headers=headers)


def incident_count(engine: Engine, condition: sa.ColumnElement[bool] | None = None) -> int:
    statement = sa.select(sa.func.count()).select_from(incident)
    with engine.connect() as conn:
        return int(conn.execute(statement if condition is None else statement.where(condition)).scalar_one())


def written(engine: Engine) -> dict[str, tuple[int, int]]:
    """What the writes touch: rows of incidents, contacts and steps, (rows, sum of n) of each roll-up table."""
    with engine.connect() as conn:
        counts = {
            table.name: (int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()), 0)
            for table in (incident, incident_contact, incident_step)
        }
        for table in ROLLUP_TABLES:
            rows, total = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(table.c.n), 0))).one()
            counts[table.name] = (int(rows), int(total))
    return counts


@contextmanager
def write_lock_held(engine: Engine) -> Iterator[None]:
    """Another client holds the database's write lock (readers go on): the service's writer has to wait."""
    if engine.dialect.name == "sqlite":
        assert engine.url.database, engine.url
        holder = sqlite3.connect(engine.url.database, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        return
    with engine.connect() as conn, conn.begin() as transaction:
        # EXCLUSIVE blocks every INSERT/UPDATE of incident (ROW EXCLUSIVE) and lets SELECTs through.
        conn.exec_driver_sql("LOCK TABLE incident IN EXCLUSIVE MODE")
        yield
        transaction.rollback()
