"""Incident figures for a scope and time window, read from the roll-ups (never raw scans)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clock import epoch_hour, hour_start, now_utc
from errors import InvalidInput, Message, Problems, Text
from privacy import mask_description, mask_name, mask_number
from queries.dialects.membership import InSubquery
from queries.frames import frame
from queries.rollups import CLOSE_ROLLUP, HOURS_PER_DAY, STATUS_ROLLUP, Rollup, medians_by_area
from queries.schema import ANY, area, incident, incident_contact, incident_rollup
from queries.scope import Scope, inside, resolve
from vocab import CATEGORY_CODES, HELD_STATUSES, LIVE_STATUSES, OPEN_STATUSES, SOURCE_CODES, STATUS_CODES


@dataclass(frozen=True)
class Window:
    """A time window [start, end) in naive UTC, widened to whole hours (the roll-up bucket)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput(Message("window.ends_before_start"))

    @property
    def hours(self) -> tuple[int, int]:
        last = epoch_hour(self.end)
        return epoch_hour(self.start), last + (hour_start(last) < self.end)


@dataclass(frozen=True)
class Filters:
    """Optional filters; an empty tuple means no filter on that field."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems: list[Text] = [
            Message(f"filter.unknown_{kind}", value=value)
            for kind, values, known in (
                ("category", self.categories, CATEGORY_CODES),
                ("source", self.sources, SOURCE_CODES),
                ("status", self.statuses, STATUS_CODES),
            )
            for value in values
            if value not in known
        ]
        if problems:
            raise InvalidInput(Message("filter.not_understood", problems=Problems(problems)), problems)

    @property
    def any(self) -> bool:
        return bool(self.categories or self.sources or self.statuses)

    def conditions(self, table: sa.Table) -> list[sa.ColumnElement[bool]]:
        """IN conditions on the filtered fields the table has (the close roll-ups have no status)."""
        pairs = (("category", self.categories), ("source", self.sources), ("status", self.statuses))
        return [table.c[name].in_(values) for name, values in pairs if values and name in table.c]


NO_FILTERS = Filters()


def _day_conditions(daily: sa.Table, filters: Filters, group: list[str]) -> list[sa.ColumnElement[bool]]:
    statuses = [daily.c.status.in_(filters.statuses)] if filters.statuses and "status" in daily.c else []
    if not (filters.categories or filters.sources or {"category", "source"} & set(group)):
        return [daily.c.category == ANY, daily.c.source == ANY, *statuses]  # the day's totals over both
    # explicit lists, so the ANY rows stay out and each (category, source) is one index seek
    return [daily.c.category.in_(filters.categories or CATEGORY_CODES),
            daily.c.source.in_(filters.sources or SOURCE_CODES), *statuses]


def _pieces(window: Window) -> list[tuple[str, int, int, int]]:
    """(grain, from, to, sign) spans whose signed sum is the window: whole UTC days from the daily
    table; a ragged edge of up to 12 hours from the hourly one, a longer edge as its whole day minus
    the hours outside the window (so an edge never reads more than 12 hours of hourly rows)."""
    h0, h1 = window.hours
    d0, d1 = -(-h0 // HOURS_PER_DAY), h1 // HOURS_PER_DAY
    if d1 < d0:  # inside one UTC day
        return [("hour", h0, h1, 1)]
    half_day = HOURS_PER_DAY // 2
    head, tail = d0 * HOURS_PER_DAY - h0, h1 - d1 * HOURS_PER_DAY
    first, last = d0 - (head > half_day), d1 + (tail > half_day)
    pieces = [("day", first, last, 1)] if last > first else []
    if 0 < head <= half_day:
        pieces.append(("hour", h0, d0 * HOURS_PER_DAY, 1))
    elif head > half_day:
        pieces.append(("hour", first * HOURS_PER_DAY, h0, -1))
    if 0 < tail <= half_day:
        pieces.append(("hour", d1 * HOURS_PER_DAY, h1, 1))
    elif tail > half_day:
        pieces.append(("hour", h1, last * HOURS_PER_DAY, -1))
    return pieces


def _children_of(parent: str | list[str]) -> sa.Select[Any]:
    """The codes of a parent's children (or of several parents'), from the area table: a read of the
    children seeks each child in the roll-up's key (area first), so no parent-ordered second copy of
    the roll-up is kept."""
    a = area.c
    return sa.select(a.code).where(a.parent_code.in_(parent) if isinstance(parent, list) else a.parent_code == parent)


def rollup_sum(rollup: Rollup, group: list[str], where: tuple[str, str | list[str]], window: Window,
               filters: Filters = NO_FILTERS) -> sa.Select[Any]:
    """SUM(n) by the group columns over the window (see _pieces), of the areas where names: where[0]
    "area_code", the area(s) where[1] (a code or a list); "parent_code", the children of where[1]
    (read by their own codes: the roll-ups' key starts with area_code). rollup: rollups.STATUS_ROLLUP or
    CLOSE_ROLLUP."""
    hourly, daily, _ = rollup
    parts = []
    for grain, start, end, sign in _pieces(window):
        table, conditions = (daily, _day_conditions(daily, filters, group)) if grain == "day" else \
            (hourly, filters.conditions(hourly))
        c = table.c
        column, value = where
        if column == "area_code":
            match = c.area_code.in_(value) if isinstance(value, list) else c.area_code == value
        else:
            match = InSubquery(c.area_code, _children_of(value))
        parts.append(sa.select(*(c[g] for g in group), (c.n * sign).label("n")).where(
            match, c[grain] >= start, c[grain] < end, *conditions))
    rows = sa.union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    keys = [rows.c[g] for g in group]
    total = sa.func.sum(rows.c.n)
    # a group whose rows all lie in a subtracted span sums to zero: leave it out, as before
    return sa.select(*keys, total.label("n")).group_by(*keys).having(total != 0)


def _children(conn: sa.Connection, scope: Scope) -> pd.DataFrame:
    condition = area.c.parent_code == scope.code if scope.child_level else area.c.code == scope.code
    return frame(conn, sa.select(area.c.code, area.c.name, area.c.population).where(condition)
                 .order_by(area.c.code))


def incident_counts_by_child(
    engine: Engine, scope_code: str, *, window: Window, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Incidents reported in the window per child area of the scope (zeros included).

    Columns: code, name, population, incidents, per_10k (per 10,000 residents). A grid scope
    has no children: its one row is the grid itself.
    """
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        children = _children(conn, scope)
        where = ("parent_code", scope.code) if scope.child_level else ("area_code", scope.code)
        counts = frame(conn, rollup_sum(STATUS_ROLLUP, ["area_code"], where, window, filters))
    counts = counts.rename(columns={"area_code": "code", "n": "incidents"})
    result = children.merge(counts, on="code", how="left")
    result["incidents"] = result["incidents"].fillna(0).astype(int)
    result["per_10k"] = result["incidents"] / result["population"].clip(lower=1) * 1e4
    return result


def incident_counts_by(
    engine: Engine, scope_code: str, dimension: str, *, window: Window, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Incidents in the scope and window per category, source or status. Columns: <dimension>, incidents."""
    if dimension not in ("category", "source", "status"):
        raise InvalidInput(f"Cannot count by '{dimension}': use category, source or status.")
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = rollup_sum(STATUS_ROLLUP, [dimension], ("area_code", scope.code), window, filters)
        counts = frame(conn, statement.order_by(sa.desc("n")))
    return counts.rename(columns={"n": "incidents"}).astype({"incidents": int})


def hourly_counts(
    engine: Engine, scope_code: str, *, window: Window, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Incidents per hour of the window (every hour listed). Columns: hour_start (naive UTC), incidents."""
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        h0, h1 = window.hours
        r = incident_rollup.c
        statement = sa.select(r.hour, sa.func.sum(r.n).label("n")).where(
            r.area_code == scope.code, r.hour >= h0, r.hour < h1, *filters.conditions(incident_rollup)
        ).group_by(r.hour)
        counts = frame(conn, statement)
    hours = pd.DataFrame({"hour": np.arange(h0, h1)})
    result = hours.merge(counts, on="hour", how="left").fillna({"n": 0})
    result["hour_start"] = [hour_start(int(h)) for h in result["hour"]]
    return result.rename(columns={"n": "incidents"}).astype({"incidents": int})[["hour_start", "incidents"]]


def _status_totals(conn: sa.Connection, where: tuple[str, str], keys: list[str], window: Window,
                   filters: Filters) -> pd.DataFrame:
    counts = frame(conn, rollup_sum(STATUS_ROLLUP, [*keys, "status"], where, window, filters))
    if counts.empty:
        return pd.DataFrame(columns=[*keys, "incidents", "closed", "voided", "open"])
    table = counts.groupby([*keys, "status"])["n"].sum().unstack("status", fill_value=0) \
        if keys else counts.groupby("status")["n"].sum().to_frame().T
    table = table.reindex(columns=list(STATUS_CODES), fill_value=0)
    result = pd.DataFrame(index=table.index)
    result["incidents"] = table.sum(axis=1)
    result["closed"] = table["closed"]
    result["voided"] = table["voided"]
    result["open"] = table[list(OPEN_STATUSES)].sum(axis=1)
    return result.reset_index() if keys else result.reset_index(drop=True)


def _close_figures(conn: sa.Connection, scope: Scope, by_child: bool, window: Window, filters: Filters) -> pd.DataFrame:
    """Median hours to close (from the close-time bins) and on-time rate, of the scope or per child."""
    empty = pd.DataFrame(columns=["code", "median_hours", "on_time_rate"])
    if filters.statuses and "closed" not in filters.statuses:
        return empty  # only closed incidents have a close time
    where = ("parent_code", scope.code) if by_child else ("area_code", scope.code)
    group = ["area_code", "close_bin", "on_time"] if by_child else ["close_bin", "on_time"]
    bins = frame(conn, rollup_sum(CLOSE_ROLLUP, group, where, window, filters))
    if bins.empty:
        return empty
    if not by_child:
        bins["area_code"] = scope.code
    closed = bins.groupby("area_code")["n"].sum()
    on_time = bins[bins["on_time"].astype(bool)].groupby("area_code")["n"].sum().reindex(closed.index, fill_value=0)
    result = pd.DataFrame({"median_hours": medians_by_area(bins).reindex(closed.index) / 60,
                           "on_time_rate": (on_time / closed.where(closed > 0)).astype(float)})
    return result.rename_axis("code").reset_index()


def _overdue(scope: Scope, at: datetime | None) -> sa.ColumnElement[bool]:
    """Overdue: in the live backlog (open, neither parked nor escalated) and past its due time."""
    i = incident.c
    return sa.and_(i.status.in_(LIVE_STATUSES), i.due_at < (at or now_utc()), inside(incident, scope))


def overdue_count(engine: Engine, scope_code: str, *, at: datetime | None = None) -> int:
    """Incidents of the live backlog in the scope past their due time now, whenever reported."""
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        return int(conn.execute(sa.select(sa.func.count()).where(_overdue(scope, at))).scalar_one())


def held_count(engine: Engine, scope_code: str) -> int:
    """Open incidents in the scope parked (挂账) or escalated (督查), whenever reported or due."""
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = sa.select(sa.func.count()).where(incident.c.status.in_(HELD_STATUSES), inside(incident, scope))
        return int(conn.execute(statement).scalar_one())


OVERDUE_LIMIT = 1000


def overdue_incidents(engine: Engine, scope_code: str, *, at: datetime | None = None,
                      limit: int = OVERDUE_LIMIT) -> pd.DataFrame:
    """The items overdue_count counts, longest overdue first (at most `limit`, up to OVERDUE_LIMIT).

    Columns: id, category, area_name (the incident's community), reported_at, due_at (naive UTC),
    hours_overdue (at the moment asked, default now), status.
    """
    moment, i = at or now_utc(), incident.c
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = (
            sa.select(i.id, i.category, area.c.name.label("area_name"), i.reported_at, i.due_at, i.status)
            .select_from(incident.outerjoin(area, area.c.code == i.community_code))
            .where(_overdue(scope, moment))
            .order_by(i.due_at, i.id)
            .limit(max(1, min(int(limit), OVERDUE_LIMIT)))
        )
        rows = frame(conn, statement)
    rows["hours_overdue"] = (moment - pd.to_datetime(rows["due_at"])).dt.total_seconds() / 3600
    return rows[["id", "category", "area_name", "reported_at", "due_at", "hours_overdue", "status"]]


def incident_totals(
    engine: Engine, scope_code: str, *, window: Window, filters: Filters = NO_FILTERS
) -> dict[str, float | None]:
    """Closed-loop figures of the scope for the window.

    Keys: incidents, open, closed, voided, disposal_rate (closed / (incidents - voided)),
    median_hours (report to close), on_time_rate (closed by due time); and, whatever the window:
    overdue (the live backlog past due now, see overdue_count), held (parked or escalated now).
    """
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        totals = _status_totals(conn, ("area_code", scope.code), [], window, filters)
        close = _close_figures(conn, scope, False, window, filters)
    first = totals.iloc[0].to_dict() if len(totals) else {"incidents": 0, "closed": 0, "voided": 0, "open": 0}
    counts = {str(k): int(v) for k, v in first.items()}
    counted = counts["incidents"] - counts["voided"]
    row: dict[str, float | None] = {**counts, "disposal_rate": counts["closed"] / counted if counted else None}
    for key in ("median_hours", "on_time_rate"):
        value = close[key].iloc[0] if len(close) else None
        row[key] = None if value is None or pd.isna(value) else float(value)
    row["overdue"] = overdue_count(engine, scope_code)
    row["held"] = held_count(engine, scope_code)
    return row


def closed_loop_by_child(
    engine: Engine, scope_code: str, *, window: Window, filters: Filters = NO_FILTERS
) -> pd.DataFrame:
    """Closed-loop figures per child area.

    Columns: code, name, incidents, open, closed, voided, disposal_rate, on_time_rate,
    median_hours. Children with no incidents have zeros and empty rates.
    """
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        children = _children(conn, scope)[["code", "name"]]
        if not scope.child_level:
            return children.assign(incidents=0, open=0, closed=0, voided=0, disposal_rate=None,
                                   on_time_rate=None, median_hours=None).iloc[0:0]
        totals = _status_totals(conn, ("parent_code", scope.code), ["area_code"], window, filters)
        close = _close_figures(conn, scope, True, window, filters)
    totals = totals.rename(columns={"area_code": "code"})
    result = children.merge(totals, on="code", how="left").merge(close, on="code", how="left")
    for column in ("incidents", "open", "closed", "voided"):
        result[column] = result[column].fillna(0).astype(int)
    counted = (result["incidents"] - result["voided"]).replace(0, np.nan)
    result["disposal_rate"] = result["closed"] / counted
    # numbers even when nothing closed in the window (the merge then leaves objects): tables sort them as such
    result[["median_hours", "on_time_rate"]] = result[["median_hours", "on_time_rate"]].astype(float)
    return result


def latest_incidents(engine: Engine, scope_code: str, *, limit: int = 50, unmasked: bool = False) -> pd.DataFrame:
    """The most recently reported incidents in the scope, reporter contact masked by default (the
    description too: callers put phone numbers and names in it).

    Columns: id, external_id, reported_at, category, source, priority, status, due_at, lon, lat,
    grid_code, community_code, street_code, district_code, grid_name, community_name, address,
    description, reporter, phone.
    """
    i = incident.c
    grid, community = area.alias("grid"), area.alias("community")
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = (
            sa.select(i.id, i.external_id, i.reported_at, i.category, i.source, i.priority, i.status,
                      i.due_at, i.lon, i.lat, i.grid_code, i.community_code, i.street_code,
                      i.district_code, grid.c.name.label("grid_name"), community.c.name.label("community_name"),
                      i.address, i.description, incident_contact.c.name.label("reporter"), incident_contact.c.phone)
            .select_from(incident.outerjoin(incident_contact, incident_contact.c.incident_id == i.id)
                         .outerjoin(grid, grid.c.code == i.grid_code)
                         .outerjoin(community, community.c.code == i.community_code))
            .where(inside(incident, scope))
            .order_by(i.reported_at.desc())
            .limit(max(1, min(int(limit), 1000)))
        )
        rows = frame(conn, statement)
    if not unmasked:
        rows["description"] = [mask_description(text, name) for text, name in
                               zip(rows["description"], rows["reporter"], strict=True)]
        rows["reporter"] = rows["reporter"].map(mask_name)
        rows["phone"] = rows["phone"].map(mask_number)
    return rows


def recent_incident_points(engine: Engine, scope_code: str, *, since: datetime) -> pd.DataFrame:
    """Incidents reported since a time in the scope (for the live map). Columns: id, lon, lat,
    category, priority, status, reported_at."""
    i = incident.c
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        statement = (
            sa.select(i.id, i.lon, i.lat, i.category, i.priority, i.status, i.reported_at)
            .where(inside(incident, scope), i.reported_at >= since)
            .order_by(i.reported_at.desc())
            .limit(2000)
        )
        return frame(conn, statement)
