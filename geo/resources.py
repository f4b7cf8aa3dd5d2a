"""Pure summaries of emergency resources for a scope (capacities, beds, days of supply)."""

from __future__ import annotations

import pandas as pd

from vocab import BED_TYPE_CODES


def assembly_summary(points: pd.DataFrame, population: int) -> dict[str, float | None]:
    """Open capacity and places per 100 residents (closed and full points offer no places)."""
    usable = points[points["status"] == "open"]
    capacity = int(usable["capacity"].sum())
    return {
        "points": len(points),
        "open_points": len(usable),
        "capacity_open": capacity,
        "places_per_100": capacity / population * 100 if population else None,
    }


def assembly_by_kind(points: pd.DataFrame) -> pd.DataFrame:
    """Columns: kind, points, capacity, open_capacity."""
    if points.empty:
        return pd.DataFrame(columns=["kind", "points", "capacity", "open_capacity"])
    frame = points.assign(open_capacity=points["capacity"].where(points["status"] == "open", 0))
    return (frame.groupby("kind").agg(points=("code", "count"), capacity=("capacity", "sum"),
                                      open_capacity=("open_capacity", "sum"))
            .reset_index().sort_values("capacity", ascending=False))


def beds_by_type(hospitals: pd.DataFrame) -> pd.DataFrame:
    """Columns: bed_type, total, occupied, available, occupancy (one row per EDXL-HAVE type)."""
    rows = []
    for bed in BED_TYPE_CODES:
        total = int(hospitals[f"{bed}_total"].sum()) if len(hospitals) else 0
        occupied = int(hospitals[f"{bed}_occupied"].sum()) if len(hospitals) else 0
        rows.append({"bed_type": bed, "total": total, "occupied": occupied, "available": total - occupied,
                     "occupancy": occupied / total if total else None})
    return pd.DataFrame(rows)


def bed_summary(hospitals: pd.DataFrame) -> dict[str, float | None]:
    total = int(hospitals["beds_total"].sum()) if len(hospitals) else 0
    occupied = int(hospitals["beds_occupied"].sum()) if len(hospitals) else 0
    return {
        "hospitals": len(hospitals),
        "beds_total": total,
        "beds_occupied": occupied,
        "beds_available": total - occupied,
        "occupancy": occupied / total if total else None,
        "convertible": int(hospitals["convertible_beds"].sum()) if len(hospitals) else 0,
        "icu_available": int((hospitals["icu_total"] - hospitals["icu_occupied"]).sum()) if len(hospitals) else 0,
    }


def stock_by_item(stock: pd.DataFrame, population: int) -> pd.DataFrame:
    """Stock summed per item over the scope's depots, with days of supply for its population.

    Columns: item, category, unit, quantity, min_level (both summed), below_min (the sum is below the
    summed minimum), depots_below_min (how many depots hold less than their own minimum),
    depots_below (their names, sorted), days_of_supply. A city total can be above its minimum while a
    depot is short: the two are told apart, as the briefing's chart colours them.
    """
    if stock.empty:
        return pd.DataFrame(columns=["item", "category", "unit", "quantity", "min_level", "below_min",
                                     "depots_below_min", "depots_below", "days_of_supply"])
    short = stock["depot_name"].where(stock["below_min"]) if "depot_name" in stock else None
    grouped = stock.assign(short_depot=short).groupby(["item", "category", "unit"], sort=False).agg(
        quantity=("quantity", "sum"), min_level=("min_level", "sum"),
        depots_below_min=("below_min", "sum"), need=("daily_need_per_1000", "first"),
        depots_below=("short_depot", lambda names: tuple(sorted(names.dropna())))).reset_index()
    daily = grouped["need"] * population / 1000
    grouped["days_of_supply"] = grouped["quantity"] / daily.where(daily > 0)
    grouped["below_min"] = grouped["quantity"] < grouped["min_level"]
    return grouped.drop(columns="need")[["item", "category", "unit", "quantity", "min_level", "below_min",
                                         "depots_below_min", "depots_below", "days_of_supply"]]


def items_below_minimum(stock: pd.DataFrame) -> int:
    """Stock lines (depot x item) whose quantity is below the depot's minimum."""
    return int(stock["below_min"].sum()) if len(stock) else 0
