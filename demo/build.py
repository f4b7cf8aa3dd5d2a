"""Build the whole demo city into a database, deterministically from a seed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import geopandas as gpd
from sqlalchemy.engine import Engine

from clock import now_utc
from demo.city import build_areas
from demo.facilities import build_assembly_points, build_depots, build_hospitals
from demo.incidents import generate_incidents, synthetic_contacts
from queries import loaders, rollups
from queries.upgrade import upgrade

Progress = Callable[[str], None]


def _grids(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return areas[areas["level"] == "grid"].reset_index(drop=True)


def build_demo(
    engine: Engine,
    days: float = 30,
    seed: int = 7,
    *,
    progress: Progress = lambda step: None,
    with_contacts: bool = True,
    end=None,
) -> dict[str, int]:
    """Replace the database's contents with the demo city; returns row counts per table."""
    import numpy as np

    end = end or now_utc()
    progress("areas")
    areas = build_areas(seed)
    grids = _grids(areas)
    rng = np.random.default_rng(seed + 100)
    names = dict(zip(areas["code"], areas["name"], strict=True))
    progress("facilities")
    assembly = build_assembly_points(grids, names, end, rng)
    depots, stocks = build_depots(grids, areas[areas["level"] == "district"], end, rng)
    hospitals, beds = build_hospitals(grids, end, rng)
    progress("incidents")
    incidents = generate_incidents(grids, end - timedelta(days=days), end, seed)
    upgrade(engine, areas["code"].iloc[0])  # the tables of this version, stamped at head: nothing left to upgrade
    with engine.begin() as conn:  # one transaction: a failed build leaves the old data intact
        progress("writing")
        loaders.clear_all(conn)
        loaders.write_areas(conn, areas)
        loaders.write_facilities(conn, assembly, depots, stocks, hospitals, beds)
        contacts = synthetic_contacts(incidents, 1, seed) if with_contacts else None
        with loaders.incident_bulk_load(conn):
            loaders.write_incidents(conn, incidents, contacts)
            progress("roll-ups")
            rollups.rebuild(conn, areas["code"].iloc[0])
        loaders.write_dataset_info(
            conn,
            {"built_at": end.isoformat(), "seed": seed, "days": days, "note": "synthetic"},
        )
    with engine.begin() as conn:
        progress("analyze")
        loaders.analyze(conn)
    return {"areas": len(areas), "assembly_points": len(assembly), "supply_depots": len(depots),
            "stock": len(stocks), "hospitals": len(hospitals), "incidents": len(incidents)}
