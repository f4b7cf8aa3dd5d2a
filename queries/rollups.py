"""Roll-up maintenance: the counts kept in step with every incident write, and their rebuild."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import sqlalchemy as sa

from queries.dialects import for_connection
from queries.schema import incident, incident_close_rollup, incident_rollup

# Upper edges (minutes) of the close-time bins: 10-minute steps to 2 h, 30 to 8 h, 2 h to 48 h,
# 12 h to a week; the last bin is open-ended. Medians are interpolated within a bin.
CLOSE_BIN_EDGES = np.array(
    [*range(10, 121, 10), *range(150, 481, 30), *range(600, 2881, 120), *range(3600, 10081, 720)]
)

# (area column, parent column) of the incident row at each level, finest first; the city last.
LEVEL_KEYS = (
    ("grid_code", "community_code"),
    ("community_code", "street_code"),
    ("street_code", "district_code"),
    ("district_code", "city"),
    ("city", None),
)


def close_bins(minutes) -> np.ndarray:
    """Bin index of each close time in minutes (NaN/None -> -1)."""
    values = pd.to_numeric(pd.Series(minutes), errors="coerce").to_numpy(float)
    bins = np.searchsorted(CLOSE_BIN_EDGES, values, side="left")
    return np.where(np.isnan(values), -1, bins)


def bin_bounds(index: int) -> tuple[float, float]:
    """Lower and upper minutes of a bin (the open last bin is given the width of the one before)."""
    lower = 0.0 if index == 0 else float(CLOSE_BIN_EDGES[index - 1])
    if index < len(CLOSE_BIN_EDGES):
        return lower, float(CLOSE_BIN_EDGES[index])
    return lower, lower + float(CLOSE_BIN_EDGES[-1] - CLOSE_BIN_EDGES[-2])


def median_from_bins(counts: Mapping[int, int]) -> float | None:
    """Median minutes from counts per bin, interpolating linearly inside the median's bin."""
    total = sum(counts.values())
    if total == 0:
        return None
    half, seen = total / 2, 0
    for index in sorted(counts):
        n = counts[index]
        if seen + n >= half:
            lower, upper = bin_bounds(index)
            return lower + (upper - lower) * (half - seen) / n
        seen += n
    return None


def _level_values(row: Mapping, city_code: str) -> list[tuple[str, str | None]]:
    codes = {**row, "city": city_code}
    return [(codes[a], codes[p] if p else None) for a, p in LEVEL_KEYS]


_UPSERTS: dict[tuple[str, str], sa.Insert] = {}


def _upsert(conn: sa.Connection, table: sa.Table, keys: tuple[str, ...]) -> sa.Insert:
    """INSERT ... ON CONFLICT DO UPDATE n = n + excluded.n, built once per dialect and table.

    Building the statement costs more than running it (the intake service calls this for every
    write), so it is cached and run with one parameter set per level.
    """
    cache_key = (conn.dialect.name, table.name)
    if cache_key not in _UPSERTS:
        statement = for_connection(conn).insert(table)
        _UPSERTS[cache_key] = statement.on_conflict_do_update(
            index_elements=list(keys), set_={"n": table.c.n + statement.excluded.n})
    return _UPSERTS[cache_key]


def count_status(conn: sa.Connection, row: Mapping, status: str, delta: int, city_code: str) -> None:
    """Add delta to the incident's (hour, category, source, status) count at every level."""
    rows = [{"area_code": area_code, "hour": row["report_hour"], "category": row["category"],
             "source": row["source"], "status": status, "parent_code": parent, "n": delta}
            for area_code, parent in _level_values(row, city_code)]
    conn.execute(_upsert(conn, incident_rollup, ("area_code", "hour", "category", "source", "status")), rows)


def count_close(conn: sa.Connection, row: Mapping, delta: int, city_code: str) -> None:
    """Add delta to the incident's close-time bin at every level (row has close_bin, on_time)."""
    rows = [{"area_code": area_code, "hour": row["report_hour"], "close_bin": row["close_bin"],
             "on_time": bool(row["on_time"]), "parent_code": parent, "n": delta}
            for area_code, parent in _level_values(row, city_code)]
    conn.execute(_upsert(conn, incident_close_rollup, ("area_code", "hour", "close_bin", "on_time")), rows)


def _rebuild(conn, table, keys: list[str], city_code: str, where=None) -> None:
    for column, parent in LEVEL_KEYS:
        area_col = incident.c[column] if column != "city" else sa.literal(city_code, sa.String)
        parent_col = (
            sa.literal(city_code, sa.String) if parent == "city"
            else incident.c[parent] if parent else sa.literal(None, sa.String)
        )
        key_cols = [area_col, *(incident.c[k] for k in keys)]
        # PostgreSQL rejects constants in GROUP BY: group by the real columns only.
        grouped = [c for c in (*key_cols, parent_col) if isinstance(c, sa.Column)]
        select = sa.select(*key_cols, parent_col, sa.func.count()).group_by(*grouped)
        if where is not None:
            select = select.where(where)
        targets = ["area_code", *("hour" if k == "report_hour" else k for k in keys), "parent_code", "n"]
        conn.execute(table.insert().from_select(targets, select))


def rebuild(conn: sa.Connection, city_code: str) -> None:
    """Recount both roll-ups from the raw incidents (after a bulk load; also an audit)."""
    conn.execute(incident_rollup.delete())
    conn.execute(incident_close_rollup.delete())
    _rebuild(conn, incident_rollup, ["report_hour", "category", "source", "status"], city_code)
    _rebuild(conn, incident_close_rollup, ["report_hour", "close_bin", "on_time"], city_code,
             where=incident.c.status == "closed")

