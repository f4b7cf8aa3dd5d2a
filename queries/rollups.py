"""Roll-up maintenance: the counts kept in step with every incident write, and their rebuild."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import sqlalchemy as sa

from queries.dialects import for_connection
from queries.schema import (
    ANY,
    incident,
    incident_close_rollup,
    incident_close_rollup_day,
    incident_rollup,
    incident_rollup_day,
)

# Upper edges (minutes) of the close-time bins: 10-minute steps to 2 h, 30 to 8 h, 2 h to 48 h,
# 12 h to a week; the last bin is open-ended. Medians are interpolated within a bin.
CLOSE_BIN_EDGES = np.array(
    [*range(10, 121, 10), *range(150, 481, 30), *range(600, 2881, 120), *range(3600, 10081, 720)]
)

# An incident's column -> value: a dict, a pandas record (whose keys pandas types as Hashable) or a RowMapping.
Row = Mapping[Any, Any]

# (area column, parent column) of the incident row at each level, finest first; the city last.
LEVEL_KEYS = (
    ("grid_code", "community_code"),
    ("community_code", "street_code"),
    ("street_code", "district_code"),
    ("district_code", "city"),
    ("city", None),
)


def close_bins(minutes: pd.Series | Sequence[float | None]) -> np.ndarray:
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


def bin_bounds_of(indexes: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """bin_bounds for an array of bin indexes: (lower, upper) minutes arrays."""
    index = np.asarray(indexes, dtype=int)
    edges = CLOSE_BIN_EDGES.astype(float)
    lower = np.where(index == 0, 0.0, edges[np.clip(index - 1, 0, len(edges) - 1)])
    last_width = edges[-1] - edges[-2]
    upper = np.where(index < len(edges), edges[np.clip(index, 0, len(edges) - 1)], lower + last_width)
    return lower, upper


def medians_by_area(bins: pd.DataFrame) -> pd.Series:
    """Median minutes per area_code from counts per (area_code, close_bin, n), interpolating linearly
    inside each median's bin; one numpy pass for all areas (pandas per child cost more than the SQL)."""
    bins = bins[bins["close_bin"] >= 0]
    if bins.empty:
        return pd.Series(dtype=float)
    codes, row = np.unique(bins["area_code"].to_numpy(), return_inverse=True)
    counts = np.zeros((len(codes), len(CLOSE_BIN_EDGES) + 1))
    np.add.at(counts, (row, bins["close_bin"].to_numpy(int)), bins["n"].to_numpy(float))
    seen = counts.cumsum(axis=1)
    half = seen[:, -1] / 2
    median_bin = (seen >= half[:, None]).argmax(axis=1)  # the first bin reaching half the count
    areas = np.arange(len(codes))
    in_bin = counts[areas, median_bin]
    before = seen[areas, median_bin] - in_bin
    lower, upper = bin_bounds_of(median_bin)
    with np.errstate(invalid="ignore", divide="ignore"):
        minutes = lower + (upper - lower) * (half - before) / in_bin
    counted = half > 0
    return pd.Series(minutes[counted], index=codes[counted])


def _level_values(row: Row, city_code: str) -> list[tuple[str, str | None]]:
    codes = {**row, "city": city_code}
    return [(codes[a], codes[p] if p else None) for a, p in LEVEL_KEYS]


HOURS_PER_DAY = 24
STATUS_KEYS = ("category", "source", "status")
CLOSE_KEYS = ("category", "source", "close_bin", "on_time")
# (hourly table, daily table, the key columns besides area and time) of each roll-up
Rollup = tuple[sa.Table, sa.Table, tuple[str, ...]]
STATUS_ROLLUP: Rollup = (incident_rollup, incident_rollup_day, STATUS_KEYS)
CLOSE_ROLLUP: Rollup = (incident_close_rollup, incident_close_rollup_day, CLOSE_KEYS)
ROLLUP_TABLES = (incident_rollup, incident_rollup_day, incident_close_rollup, incident_close_rollup_day)

# conn.info key of the deltas collected by batched_counts: {table: {key items: delta}}
_PENDING = "cityops.rollup_deltas"
Deltas = defaultdict[tuple[tuple[str, Any], ...], int]  # the key's (column, value) pairs -> delta of n


@contextmanager
def batched_counts(conn: sa.Connection) -> Iterator[None]:
    """Collect the roll-up deltas of the writes inside and write them summed when the block ends.

    Every incident write moves up to 30 roll-up counts (5 levels x hourly and daily x status and
    close): one upsert per table for a whole batch of writes costs far less than one per write,
    above all on PostgreSQL, where each statement is a round trip. Deltas to the same key are
    summed first (an upsert may not touch a row twice). An exception inside writes nothing.
    """
    pending: dict[sa.Table, Deltas] = {}
    conn.info[_PENDING] = pending
    try:
        yield
        for table, deltas in pending.items():
            # one key order for every writer process, so two batches never lock rows crosswise
            rows = [{**dict(key), "n": n} for key, n in sorted(deltas.items(), key=repr) if n]
            if rows:
                for_connection(conn).add_counts(conn, table, rows)
    finally:
        del conn.info[_PENDING]


def _write_counts(conn: sa.Connection, table: sa.Table, counts: list[dict[str, Any]]) -> None:
    """Upsert the counts now, or add them to the batch of an enclosing batched_counts."""
    pending: dict[sa.Table, Deltas] | None = conn.info.get(_PENDING)
    if pending is None:
        for_connection(conn).add_counts(conn, table, counts)
        return
    deltas = pending.setdefault(table, defaultdict(int))
    for count in counts:
        deltas[tuple((k, v) for k, v in count.items() if k != "n")] += count["n"]


def _add(conn: sa.Connection, rollup: Rollup, keys: Mapping[str, Any], row: Row, delta: int,
         city_code: str) -> None:
    """Add delta to the keyed count of the hour and of the day, at every level."""
    hourly, daily, _ = rollup
    hour = int(row["report_hour"])
    counts = [{"area_code": area_code, "parent_code": parent, "n": delta, **keys}
              for area_code, parent in _level_values(row, city_code)]
    _write_counts(conn, hourly, [{**c, "hour": hour} for c in counts])
    daily_counts = [{**c, "day": hour // HOURS_PER_DAY} for c in counts]
    daily_counts += [{**c, "category": ANY, "source": ANY} for c in daily_counts]  # the day's totals
    _write_counts(conn, daily, daily_counts)


def count_status(conn: sa.Connection, row: Row, status: str, delta: int, city_code: str) -> None:
    """Add delta to the incident's (category, source, status) count at every level."""
    keys = {"category": row["category"], "source": row["source"], "status": status}
    _add(conn, STATUS_ROLLUP, keys, row, delta, city_code)


def count_close(conn: sa.Connection, row: Row, delta: int, city_code: str) -> None:
    """Add delta to the incident's close-time bin at every level (row has close_bin, on_time)."""
    keys = {"category": row["category"], "source": row["source"], "close_bin": int(row["close_bin"]),
            "on_time": bool(row["on_time"])}
    _add(conn, CLOSE_ROLLUP, keys, row, delta, city_code)


def _rebuild_hourly(conn: sa.Connection, table: sa.Table, keys: tuple[str, ...], city_code: str,
                    where: sa.ColumnElement[bool] | None = None) -> None:
    for column, parent in LEVEL_KEYS:
        area_col = incident.c[column] if column != "city" else sa.literal(city_code, sa.String)
        parent_col = (
            sa.literal(city_code, sa.String) if parent == "city"
            else incident.c[parent] if parent else sa.literal(None, sa.String)
        )
        key_cols = [area_col, incident.c.report_hour, *(incident.c[k] for k in keys)]
        # PostgreSQL rejects constants in GROUP BY: group by the real columns only.
        grouped = [c for c in (*key_cols, parent_col) if isinstance(c, sa.Column)]
        # in key order: the B-tree pages fill one after another instead of at random (a third faster on PostGIS)
        ordered = [c for c in key_cols if isinstance(c, sa.Column)]
        select = sa.select(*key_cols, parent_col, sa.func.count()).group_by(*grouped).order_by(*ordered)
        if where is not None:
            select = select.where(where)
        conn.execute(table.insert().from_select(["area_code", "hour", *keys, "parent_code", "n"], select))


def _rebuild_daily(conn: sa.Connection, hourly: sa.Table, daily: sa.Table, keys: tuple[str, ...],
                   any_of: tuple[str, ...] = ()) -> None:
    """Sum the hourly counts into days; any_of: key columns summed over into ANY rows."""
    h = hourly.c
    kept = [h[k] if k not in any_of else sa.literal(ANY, sa.String).label(k) for k in keys]
    day = (h.hour // HOURS_PER_DAY).label("day")
    grouped = [h.area_code, day, h.parent_code, *(h[k] for k in keys if k not in any_of)]
    key_order = [h.area_code, *(h[k] for k in ("category", "source") if k not in any_of), day,
                 *(h[k] for k in keys if k not in ("category", "source"))]
    select = sa.select(h.area_code, day, *kept, h.parent_code, sa.func.sum(h.n)).group_by(*grouped).order_by(*key_order)
    conn.execute(daily.insert().from_select(["area_code", "day", *keys, "parent_code", "n"], select))


def rebuild(conn: sa.Connection, city_code: str) -> None:
    """Recount every roll-up from the raw incidents (after a bulk load; also an audit)."""
    for table in ROLLUP_TABLES:
        conn.execute(table.delete())
    _rebuild_hourly(conn, incident_rollup, STATUS_KEYS, city_code)
    _rebuild_hourly(conn, incident_close_rollup, CLOSE_KEYS, city_code, where=incident.c.status == "closed")
    _rebuild_daily(conn, incident_rollup, incident_rollup_day, STATUS_KEYS)
    _rebuild_daily(conn, incident_rollup, incident_rollup_day, STATUS_KEYS, any_of=("category", "source"))
    _rebuild_daily(conn, incident_close_rollup, incident_close_rollup_day, CLOSE_KEYS)
    _rebuild_daily(conn, incident_close_rollup, incident_close_rollup_day, CLOSE_KEYS, any_of=("category", "source"))
