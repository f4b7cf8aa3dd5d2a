"""Synthetic incidents: daily rhythm, hotspots, category/source mix and lifecycle times."""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd

from clock import local_zone
from geo.sampling import points_in_polygons
from vocab import DUE_HOURS, STATUS_TIME_COLUMN

EVENTS_PER_DAY = 10_700  # Ningbo handled 3.9 million governance events in 2019

# Relative report volume by local hour of day (quiet nights, morning and afternoon peaks).
HOURLY_RHYTHM = np.array(
    [0.25, 0.18, 0.14, 0.12, 0.14, 0.25, 0.55, 0.95, 1.35, 1.6, 1.65, 1.5,
     1.2, 1.3, 1.5, 1.55, 1.45, 1.3, 1.15, 1.05, 0.95, 0.8, 0.6, 0.4]
)
CATEGORY_MIX = {
    "city_appearance": 0.22, "street_order": 0.14, "construction": 0.06,
    "illegal_advertising": 0.07, "public_utilities": 0.10, "roads_traffic": 0.09,
    "greening": 0.05, "disputes": 0.07, "public_security": 0.04, "fire": 0.02,
    "public_health": 0.03, "environment": 0.04, "hazardous_chemicals": 0.003,
    "flood_typhoon": 0.012, "group_rental": 0.025, "other": 0.02,
}
SOURCE_MIX = {
    "hotline_12345": 0.38, "grid_patrol": 0.40, "video_ai": 0.12,
    "iot_sensor": 0.05, "link_110": 0.03, "department": 0.02,
}
PRIORITY_MIX = {"routine": 0.90, "urgent": 0.085, "critical": 0.015}
# Median hours from start of handling to resolution, by priority.
HANDLING_MEDIAN_HOURS = {"routine": 2.5, "urgent": 1.2, "critical": 0.6}
SIDE_STATE_SHARE = {"voided": 0.002, "parked": 0.0004, "escalated": 0.0003}
HOTSPOT_SHARE, HOTSPOT_BOOST = 0.03, 6.0


# Mean hours of a lifecycle step after the one before it (exponential delays); the resolve step
# is lognormal around the priority's HANDLING_MEDIAN_HOURS. The simulator draws the same ones.
STEP_MEAN_HOURS = {"dispatch": 0.15, "handle": 0.35, "close": 1.2, "void": 0.5, "park": 2.0, "resolve_escalated": 1.0}
RESOLVE_SIGMA = 0.8
NORMAL_PATH = ("dispatch", "handle", "resolve", "close")


def draw(mix: dict, count: int, rng) -> np.ndarray:
    """`count` keys of a {key: share} mix drawn at random."""
    keys = np.array(list(mix))
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(keys.size, size=count, p=p / p.sum())]


def _report_times(start: datetime, end: datetime, rng) -> np.ndarray:
    """Poisson arrivals with the daily rhythm between start and end (naive UTC), sorted."""
    hours = pd.date_range(start.replace(minute=0, second=0, microsecond=0), end, freq="h")
    local_hour = hours.tz_localize("UTC").tz_convert(local_zone()).hour
    rate = EVENTS_PER_DAY * HOURLY_RHYTHM[local_hour] / HOURLY_RHYTHM.sum()
    counts = rng.poisson(rate)
    base = np.repeat(hours.values, counts)
    offsets = rng.uniform(0, 3600, base.size) * 1e9
    times = base + offsets.astype("timedelta64[ns]")
    times = times[(times >= np.datetime64(start)) & (times < np.datetime64(end))]
    return np.sort(times)


def grid_weights(population, rng) -> np.ndarray:
    """How likely each grid is to report an incident: its population, a few hotspots boosted."""
    weight = np.asarray(population, dtype=float)
    hotspot = rng.random(weight.size) < HOTSPOT_SHARE
    return weight * np.where(hotspot, HOTSPOT_BOOST, 1.0)


def side_state_mix() -> dict[str, float]:
    """Shares of incidents that leave the normal path (voided, parked, escalated) and of those that do not."""
    return {"none": 1 - sum(SIDE_STATE_SHARE.values()), **SIDE_STATE_SHARE}


def normal_path_hours(priority, rng) -> dict[str, np.ndarray]:
    """Hours after the report at which each incident is dispatched, handled, resolved and closed."""
    n = len(priority)
    dispatch = rng.exponential(STEP_MEAN_HOURS["dispatch"], n)
    handle = dispatch + rng.exponential(STEP_MEAN_HOURS["handle"], n)
    median = np.array([HANDLING_MEDIAN_HOURS[p] for p in priority])
    resolve = handle + median * rng.lognormal(0.0, RESOLVE_SIGMA, n)
    close = resolve + rng.exponential(STEP_MEAN_HOURS["close"], n)
    return {"dispatch": dispatch, "handle": handle, "resolve": resolve, "close": close}


def _lifecycle(reported: np.ndarray, priority: np.ndarray, now: datetime, rng) -> dict:
    """Timestamps of each step, NaT where the step has not happened (yet) by `now`."""
    n = reported.size
    later = lambda hours: (hours * 3600e9).astype("timedelta64[ns]")  # noqa: E731
    path = normal_path_hours(priority, rng)
    dispatched, handling, resolved, closed = (reported + later(path[step]) for step in NORMAL_PATH)
    due = reported + later(np.array([DUE_HOURS[p] for p in priority]))
    side = draw(side_state_mix(), n, rng)
    nat = np.datetime64("NaT")
    steps = {"dispatched_at": dispatched, "handling_at": handling, "resolved_at": resolved, "closed_at": closed}
    voided = np.where(side == "voided", reported + later(rng.exponential(STEP_MEAN_HOURS["void"], n)), nat)
    parked = np.where(side == "parked", handling + later(rng.exponential(STEP_MEAN_HOURS["park"], n)), nat)
    escalated = np.where(side == "escalated", due, nat)
    for name in steps:  # a voided incident stops at once; a parked one after handling starts
        stop = (side == "voided") | ((side == "parked") & (name in ("resolved_at", "closed_at")))
        stop |= (side == "escalated") & (name == "closed_at")
        steps[name] = np.where(stop, nat, steps[name])
    steps.update(voided_at=voided, parked_at=parked, escalated_at=escalated, due_at=due)
    now64 = np.datetime64(now)
    for name, values in steps.items():
        if name != "due_at":
            steps[name] = np.where(values <= now64, values, nat)
    return steps


def _status(steps: dict, n: int) -> np.ndarray:
    """The state each incident is in now: the latest step that has happened."""
    status = np.full(n, "reported", dtype=object)
    order = ["dispatched", "handling", "parked", "escalated", "resolved", "closed", "voided"]
    latest = np.full(n, np.datetime64("1970-01-01"), dtype="datetime64[ns]")
    for state in order:
        at = steps[STATUS_TIME_COLUMN[state]]
        later = ~np.isnat(at) & (at >= latest)
        status[later], latest[later] = state, at[later]
    return status


def generate_incidents(grids: gpd.GeoDataFrame, start: datetime, end: datetime, seed: int) -> pd.DataFrame:
    """Incidents reported in [start, end) with their whole lifecycle as of `end` (naive UTC)."""
    rng = np.random.default_rng(seed)
    reported = _report_times(start, end, rng)
    n = reported.size
    picked = rng.choice(len(grids), size=n, p=(w := grid_weights(grids["population"], rng)) / w.sum())
    lon, lat = points_in_polygons(grids.geometry.values, picked, rng)
    priority = draw(PRIORITY_MIX, n, rng)
    category = draw(CATEGORY_MIX, n, rng)
    steps = _lifecycle(reported, priority, end, rng)
    frame = pd.DataFrame(
        {
            "external_id": [f"NB-DEMO-{seed}-{i:08d}" for i in range(n)],
            "source": draw(SOURCE_MIX, n, rng),
            "category": category,
            "priority": priority,
            "status": _status(steps, n),
            "lon": lon,
            "lat": lat,
            "grid_code": grids["code"].to_numpy()[picked],
            "community_code": grids["community_code"].to_numpy()[picked],
            "street_code": grids["street_code"].to_numpy()[picked],
            "district_code": grids["district_code"].to_numpy()[picked],
            "reported_at": reported,
            **steps,
        }
    )
    frame["report_hour"] = (reported.astype("datetime64[h]").astype(np.int64)).astype(int)
    close = (frame["closed_at"] - frame["reported_at"]).dt.total_seconds() / 60
    frame["close_minutes"] = close.round().astype("Int64")
    frame["updated_at"] = frame.filter(regex="_at$").drop(columns="due_at").max(axis=1)
    frame["description"] = "合成演示事件 synthetic demo incident"
    frame["synthetic"] = True
    return frame


def synthetic_contacts(incidents: pd.DataFrame, first_id: int, seed: int) -> pd.DataFrame:
    """Reporter contacts for hotline calls (fake names and numbers, stored apart)."""
    rng = np.random.default_rng(seed + 1)
    hotline = np.flatnonzero(incidents["source"].to_numpy() == "hotline_12345")
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"))
    return pd.DataFrame(
        {
            "incident_id": hotline + first_id,
            "name": surnames[rng.integers(0, surnames.size, hotline.size)] + "先生",
            "phone": [f"13{d:09d}" for d in rng.integers(0, 10**9, hotline.size)],
        }
    )


def window(days: float, end: datetime) -> tuple[datetime, datetime]:
    return end - timedelta(days=days), end
