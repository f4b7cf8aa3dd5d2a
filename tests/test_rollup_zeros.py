"""Roll-ups fed through the intake's write path keep no rows at zero and equal a recount of the raw rows."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from queries import rollups
from queries.engine import make_engine
from queries.intake import IncidentDraft, create_incident, rollup_drift, transition_incident
from queries.schema import create_schema
from tests.support import new_database
from vocab import TRANSITIONS

CITY = "330200"
START = datetime(2026, 3, 1, 8, 0)
# a small city of 8 grids (2 districts x 2 streets x 1 community x 2 grids): many incidents share a key
GRIDS = [(f"3302{d}{s:03d}001{g:03d}", f"3302{d}{s:03d}001", f"3302{d}{s:03d}", f"3302{d}")
         for d in (11, 12) for s in (1, 2) for g in (1, 2)]
CATEGORIES, SOURCES = ("greening", "fire"), ("hotline_12345", "grid_patrol")
LEVELS = ("grid_code", "community_code", "street_code", "district_code", "city")


def _draft(rng: np.random.Generator, n: int) -> IncidentDraft:
    """The n-th report: its own external id, since alike keyless reports within minutes are one (a retry)."""
    grid, community, street, district = GRIDS[rng.integers(len(GRIDS))]
    return IncidentDraft(category=str(rng.choice(CATEGORIES)), source=str(rng.choice(SOURCES)), priority="routine",
                         lon=121.5, lat=29.8, grid_code=grid, community_code=community, street_code=street,
                         district_code=district, external_id=f"zeros-{n}")


def _write_lifecycles(engine, batched: bool, count: int = 120) -> None:
    """Create incidents in a few hours and walk each through random lifecycle steps (reopens included),
    one transaction per write as the intake's writer runs them."""
    rng = np.random.default_rng(3)
    with engine.begin() as conn:
        for n in range(count):
            reported = START + timedelta(minutes=int(rng.integers(0, 180)))
            with rollups.batched_counts(conn) if batched else nullcontext():
                incident_id = create_incident(conn, _draft(rng, n), city_code=CITY, now=reported).row["id"]
            status, at = "reported", reported
            for _ in range(int(rng.integers(0, 8))):
                if not TRANSITIONS[status]:
                    break
                action = str(rng.choice(sorted(TRANSITIONS[status])))
                at += timedelta(minutes=int(rng.integers(1, 600)))
                with rollups.batched_counts(conn) if batched else nullcontext():
                    status = transition_incident(conn, incident_id, action, None, city_code=CITY, now=at)["status"]


def _recount(raw: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The roll-up's rows counted from the raw incidents at every level (grid to city)."""
    raw = raw.assign(city=CITY)
    parts = [raw.groupby([level, "report_hour", *keys]).size().rename("n").reset_index()
             .rename(columns={level: "area_code", "report_hour": "hour"}) for level in LEVELS]
    return pd.concat(parts, ignore_index=True)


def _compare(engine, table: str, expected: pd.DataFrame, keys: list[str]) -> None:
    columns = ["area_code", "hour", *keys]
    with engine.connect() as conn:  # every row, zeros included
        got = pd.read_sql(sa.text(f"SELECT {', '.join(columns)}, n FROM {table}"), conn)  # noqa: S608 - fixed names
    if "on_time" in got:
        got["on_time"] = got["on_time"].astype(bool)
    got, expected = (f.astype({"hour": int, "n": int}).sort_values(columns).reset_index(drop=True)
                     for f in (got, expected))
    pd.testing.assert_frame_equal(got[[*columns, "n"]], expected[[*columns, "n"]], check_dtype=False)


@pytest.mark.parametrize("batched", [False, True], ids=["per-write", "batched"])
def test_lifecycles_written_live_leave_no_zero_rows_and_equal_a_recount(backend, tmp_path, batched):
    engine = make_engine(new_database(backend, tmp_path), create=True)
    create_schema(engine)
    _write_lifecycles(engine, batched)
    with engine.connect() as conn:
        raw = pd.read_sql(sa.text("SELECT grid_code, community_code, street_code, district_code, report_hour, "
                                  "category, source, status, close_bin, on_time FROM incident"), conn)
        zeros = {t.name: conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.n == 0)).scalar_one()
                 for t in rollups.ROLLUP_TABLES}
    assert raw["status"].nunique() >= 5 and len(raw) == 120
    assert zeros == dict.fromkeys(zeros, 0)
    _compare(engine, "incident_rollup", _recount(raw, ["category", "source", "status"]),
             ["category", "source", "status"])
    closed = raw[raw["status"] == "closed"].astype({"close_bin": int, "on_time": bool})
    assert len(closed) > 5
    _compare(engine, "incident_close_rollup", _recount(closed, ["category", "source", "close_bin", "on_time"]),
             ["category", "source", "close_bin", "on_time"])
    assert rollup_drift(engine, CITY).empty  # the daily tables too
