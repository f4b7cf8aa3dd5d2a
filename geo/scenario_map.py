"""Pure pydeck builders for the scenario difference map: frames in, layers out (ids are constants)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from shapely.geometry.base import BaseGeometry

from geo.layers import color_column, feature_collection

DIFF_LAYER = "scenario-diff"
HAZARD_LAYER = "scenario-hazard"
CHANGES_LAYER = "scenario-changes"
PICK_LAYER = "scenario-pick"

# Coverage change in percentage points: class upper bounds and a diverging red-grey-green palette.
DELTA_BREAKS = (-20.0, -5.0, -0.05, 0.05, 5.0, 20.0, float("inf"))
DELTA_COLORS = ((165, 0, 38), (215, 48, 39), (244, 165, 130), (224, 224, 224), (166, 219, 160),
                (90, 174, 97), (27, 120, 55))
DELTA_LABELS = ("< -20", "-20 – -5", "-5 – 0", "0", "0 – 5", "5 – 20", "> 20")
CHANGE_COLORS = {"lost": (120, 120, 120), "gained": (22, 163, 74), "new": (37, 99, 235),
                 "field_hospital": (219, 39, 119)}


def delta_colors(points: pd.Series) -> list[list[int]]:
    """RGBA per coverage change (percentage points); no residents -> transparent grey."""
    values = pd.to_numeric(points, errors="coerce")
    index = np.searchsorted(np.array(DELTA_BREAKS), values.fillna(0).to_numpy(), side="left")
    return [[*DELTA_COLORS[i], 200] if pd.notna(v) else [200, 200, 200, 80] for i, v in zip(index, values, strict=True)]


def legend_entries() -> list[tuple[str, tuple[int, int, int]]]:
    return list(zip(DELTA_LABELS, DELTA_COLORS, strict=True))


def difference_layer(areas: gpd.GeoDataFrame, diff: pd.DataFrame, tooltip: pd.Series) -> pdk.Layer:
    """Areas filled by their coverage change; each feature carries a point inside it for picking.

    areas: code, geometry (EPSG:4326); diff: code, coverage_delta (0-1); tooltip aligned with areas.
    """
    frame = areas[["code", "geometry"]].merge(diff[["code", "coverage_delta"]], on="code", how="left")
    inner = shapely.point_on_surface(frame.geometry.values)
    props = pd.DataFrame({
        "code": frame["code"], "pp": (frame["coverage_delta"] * 100).round(1),
        "fill": delta_colors(frame["coverage_delta"] * 100), "tip": tooltip.to_numpy(),
        "lon": np.round(shapely.get_x(inner), 6), "lat": np.round(shapely.get_y(inner), 6)})
    return pdk.Layer("GeoJsonLayer", data=feature_collection(frame.geometry, props), id=DIFF_LAYER,
                     pickable=True, stroked=True, filled=True, get_fill_color="properties.fill",
                     get_line_color=[60, 60, 60, 200], line_width_min_pixels=1, auto_highlight=True,
                     highlight_color=[0, 120, 255, 80])


def hazard_layer(zone: BaseGeometry, tooltip: str) -> pdk.Layer:
    """The hazard zone: a translucent purple fill with a thick outline, drawn over the areas."""
    data = feature_collection(gpd.GeoSeries([zone]), pd.DataFrame({"tip": [tooltip]}))
    return pdk.Layer("GeoJsonLayer", data=data, id=HAZARD_LAYER,
                     pickable=False, stroked=True, filled=True, get_fill_color=[124, 58, 237, 60],
                     get_line_color=[91, 33, 182, 255], line_width_min_pixels=3)


def facility_changes(base_points: pd.DataFrame, scen_points: pd.DataFrame,
                     field_hospitals: pd.DataFrame) -> pd.DataFrame:
    """Points whose availability the scenario changed, plus new points and field hospitals.

    Columns: code, name, lon, lat, change ('lost', 'gained', 'new', 'field_hospital'), capacity.
    """
    was = base_points.set_index("code")["available"]
    now = scen_points.set_index("code")
    before = was.reindex(now.index).fillna(False).astype(bool)
    change = np.select([now["is_new"].astype(bool), before & ~now["available"], ~before & now["available"]],
                       ["new", "lost", "gained"], default="")
    rows = now.assign(change=change).reset_index()
    rows = rows.loc[rows["change"] != "", ["code", "name", "lon", "lat", "change", "capacity"]]
    hospitals = field_hospitals.assign(change="field_hospital", capacity=field_hospitals["general_total"])
    return pd.concat([rows, hospitals[["code", "name", "lon", "lat", "change", "capacity"]]], ignore_index=True)


def changes_layer(changes: pd.DataFrame, tooltip: pd.Series) -> pdk.Layer:
    colors = [[*CHANGE_COLORS[c], 235] for c in changes["change"]]
    frame = changes.assign(color=color_column(colors, changes), tip=tooltip.to_numpy())
    data = frame[["code", "lon", "lat", "color", "tip"]].round({"lon": 6, "lat": 6}).to_dict("records")
    return pdk.Layer("ScatterplotLayer", data=data, id=CHANGES_LAYER, pickable=True, get_position=["lon", "lat"],
                     get_radius=250, radius_min_pixels=6, radius_max_pixels=22, get_fill_color="color",
                     stroked=True, get_line_color=[255, 255, 255], line_width_min_pixels=2)


def pick_layer(points: pd.DataFrame, tooltip: str = "") -> pdk.Layer:
    """Small clickable dots (grid cells' representative points) to pick a location; tip: its lon, lat."""
    frame = points[["lon", "lat"]].round(6)
    frame = frame.assign(tip=tooltip + frame["lon"].map("{:.5f}".format) + ", " + frame["lat"].map("{:.5f}".format))
    data = frame.to_dict("records")
    return pdk.Layer("ScatterplotLayer", data=data, id=PICK_LAYER, pickable=True, get_position=["lon", "lat"],
                     get_radius=40, radius_min_pixels=2, radius_max_pixels=5, get_fill_color=[30, 64, 175, 150])


def picked_location(selection: Mapping[str, Any] | None) -> tuple[float, float] | None:
    """The lon/lat of what was clicked on the map: a dot, a changed facility or an area (a point inside it)."""
    for layer in (PICK_LAYER, CHANGES_LAYER, DIFF_LAYER):
        objects = (selection or {}).get(layer) or []
        if objects:
            item = objects[0].get("properties") or objects[0]
            if "lon" in item and "lat" in item:
                return float(item["lon"]), float(item["lat"])
    return None
