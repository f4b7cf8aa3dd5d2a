"""Pure pydeck layer builders: GeoDataFrame in, layer out; layer ids are constants for tests."""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize
from shapely.ops import polylabel

from geo.geojson_io import GeoJSON

AREAS_LAYER = "areas"
GRIDS_LAYER = "grids"
ASSEMBLY_LAYER = "assembly"
DEPOTS_LAYER = "depots"
HOSPITALS_LAYER = "hospitals"
RECENT_LAYER = "recent"
LABELS_LAYER = "labels"

# ColorBrewer YlOrRd, five classes: light = few incidents, dark red = many.
ZERO_COLOR = (229, 231, 235)  # a light neutral grey: no incidents, not a low count
SEQUENTIAL = [(255, 255, 178), (254, 204, 92), (253, 141, 60), (240, 59, 32), (189, 0, 38)]
STATUS_COLORS = {"open": (34, 197, 94), "full": (245, 158, 11), "closed": (120, 120, 120)}
NO_BASEMAP = "__MAP_STYLE__"
# Fonts the machine has (Debian fonts-noto-cjk, fonts-wqy-zenhei; Windows and macOS walls have the others):
# deck.gl draws the labels' glyph atlas with the browser's canvas, so nothing is fetched from anywhere.
LABEL_FONT = '"Noto Sans CJK SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "PingFang SC", sans-serif'
LABEL_SIZE_PX = 14
COORDINATE_PRECISION = 1e-5  # about a metre: enough for a screen, a third of the bytes


def class_breaks(values: pd.Series, classes: int = 5) -> list[float]:
    """Upper bounds of the classes: 0 first (zero is a class of its own, drawn as nothing happened), then up
    to `classes` quantile classes of the positive values, rounded to readable numbers."""
    clean = pd.to_numeric(values, errors="coerce").dropna()
    positive = clean[clean > 0]
    if positive.empty:
        return [0.0]
    raw = np.quantile(positive, np.linspace(0, 1, classes + 1)[1:])
    rounded = [_nice(v) for v in raw]
    rounded[-1] = max(rounded[-1], float(positive.max()))
    return [0.0, *sorted(set(rounded))]


def _nice(value: float) -> float:
    if value <= 0:
        return 0.0
    step = 10 ** max(0, math.floor(math.log10(value)) - 1)
    return float(math.ceil(value / step) * step)


def class_index(values: pd.Series | Sequence[float], breaks: list[float]) -> np.ndarray:
    """The class of each value: the first break at or above it (missing counts as 0; above the last -> last)."""
    numbers = pd.to_numeric(pd.Series(values), errors="coerce").fillna(0).to_numpy(float)
    return np.minimum(np.searchsorted(np.array(breaks), numbers, side="left"), max(len(breaks) - 1, 0))


def class_palette(breaks: list[float]) -> list[tuple[int, int, int]]:
    """One colour per class: zero in a neutral grey, the others spread over the ramp from its lightest end,
    so that few classes are light-to-dark too (not the ramp's dark end alone)."""
    zero = breaks[:1] == [0.0]
    shaded = len(breaks) - zero
    steps = np.round(np.linspace(0, len(SEQUENTIAL) - 1, shaded)).astype(int) if shaded > 1 else [0] * shaded
    return [ZERO_COLOR] * zero + [SEQUENTIAL[i] for i in steps]


def class_colors(values: pd.Series, breaks: list[float]) -> list[list[int]]:
    """The colour of each value's class (RGBA)."""
    palette = class_palette(breaks)
    return [[*palette[i], 190] for i in class_index(values, breaks)]


def class_labels(breaks: list[float]) -> list[str]:
    """Legend text per class of whole counts: the first class holds 0..b0, class i (b[i-1], b[i]]; the
    ranges never overlap."""
    labels, lower = [], 0
    for i, upper in enumerate(int(b) for b in breaks):
        first = lower if i == 0 else lower + 1
        labels.append(f"{first:,}" if first >= upper else f"{first:,} – {upper:,}")
        lower = upper
    return labels


def legend_entries(breaks: list[float]) -> list[tuple[str, tuple[int, int, int]]]:
    """(range label, colour) per class, for the legend drawn beside the map, lightest first."""
    return list(zip(class_labels(breaks), class_palette(breaks), strict=True))


def feature_collection(geometry: gpd.GeoSeries, properties: pd.DataFrame) -> GeoJSON:
    """A GeoJSON FeatureCollection: one feature per geometry, with the properties row at the same position;
    coordinates rounded to COORDINATE_PRECISION."""
    rounded = geometry.set_precision(COORDINATE_PRECISION)
    features = [{"type": "Feature", "geometry": geom.__geo_interface__, "properties": props}
                for geom, props in zip(rounded, properties.to_dict("records"), strict=True)]
    return {"type": "FeatureCollection", "features": features}


def color_column(colors: list[list[int]], frame: pd.DataFrame) -> pd.Series:
    """One colour list per row as an object column of the frame (a bare list of lists is not typed as one)."""
    return pd.Series(colors, index=frame.index, dtype=object)


def choropleth_layer(areas: gpd.GeoDataFrame, value: str, tooltip: pd.Series, breaks: list[float],
                     layer_id: str = AREAS_LAYER) -> pdk.Layer:
    """Child areas filled by class of `value`; pickable so a click drills down."""
    frame = areas.assign(fill=color_column(class_colors(areas[value], breaks), areas), tip=tooltip.values)
    data = feature_collection(frame.geometry, frame[["code", "name", value, "fill", "tip"]])
    return pdk.Layer(
        "GeoJsonLayer", data=data, id=layer_id, pickable=True, stroked=True, filled=True,
        get_fill_color="properties.fill", get_line_color=[40, 40, 40, 220], line_width_min_pixels=1.5,
        auto_highlight=True, highlight_color=[0, 120, 255, 90],
    )


def label_points(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Where each area's name goes: the pole of inaccessibility of its largest part (the point deepest
    inside, as map makers place names; a centroid can fall outside a bent area). Columns: name, lon, lat."""
    spots = [polylabel(max(getattr(g, "geoms", [g]), key=lambda part: part.area), tolerance=1e-4)
             for g in areas.geometry]
    return pd.DataFrame({"name": areas["name"].to_numpy(), "lon": [round(p.x, 6) for p in spots],
                         "lat": [round(p.y, 6) for p in spots]})


def label_layer(areas: gpd.GeoDataFrame, size_px: float = LABEL_SIZE_PX, layer_id: str = LABELS_LAYER) -> pdk.Layer:
    """The areas' names in dark text with a white halo, not pickable (a click on a name drills into its area).
    deck.gl's atlas holds printable ASCII unless told the characters: the names' own are given."""
    spots = label_points(areas)
    characters = "".join(sorted(set("".join(spots["name"]))))
    return pdk.Layer(
        "TextLayer", data=spots.to_dict("records"), id=layer_id, pickable=False, get_position=["lon", "lat"],
        get_text="name", get_size=size_px, size_units=pdk.types.String("pixels"), get_color=[17, 24, 39, 255],
        # pdk.types.String: pydeck would send any other string as an expression to evaluate.
        font_family=pdk.types.String(LABEL_FONT), font_weight=600, character_set=pdk.types.String(characters),
        font_settings={"sdf": True}, outline_width=6, outline_color=[255, 255, 255, 235],
        get_text_anchor=pdk.types.String("middle"), get_alignment_baseline=pdk.types.String("center"),
    )


def outline_layer(areas: gpd.GeoDataFrame, layer_id: str = GRIDS_LAYER) -> pdk.Layer:
    """Thin outlines (grid cells) drawn over the choropleth, not pickable."""
    data = feature_collection(areas.geometry, areas[["code"]])
    return pdk.Layer("GeoJsonLayer", data=data, id=layer_id, pickable=False, stroked=True, filled=False,
                     get_line_color=[30, 64, 175, 160], line_width_min_pixels=0.6)


def scoped_id(layer: str, scope: str) -> str:
    """A layer's id on the map of one scope: the browser keeps a selection by layer id and row index, so a
    scope's own ids keep a click on the parent's map from selecting a row of the child's."""
    return f"{layer}-{scope}"


def layer_of(layer_id: str) -> str:
    """The layer an id of scoped_id names."""
    return layer_id.rsplit("-", 1)[0]


def _points(frame: pd.DataFrame, columns: list[str]) -> list[dict[Hashable, Any]]:
    return frame[columns].round({"lon": 6, "lat": 6}).to_dict("records")


def assembly_layer(points: pd.DataFrame, tooltip: pd.Series, layer_id: str = ASSEMBLY_LAYER) -> pdk.Layer:
    """Assembly points sized by capacity (area ~ people) and coloured by status."""
    frame = points.assign(
        radius=np.sqrt(points["capacity"].clip(lower=1)) * 6,
        color=color_column([[*STATUS_COLORS.get(s, (120, 120, 120)), 220] for s in points["status"]], points),
        tip=tooltip.values,
    )
    return pdk.Layer("ScatterplotLayer", data=_points(frame, ["code", "lon", "lat", "radius", "color", "tip"]),
                     id=layer_id, pickable=True, get_position=["lon", "lat"], get_radius="radius",
                     radius_min_pixels=3, radius_max_pixels=40, get_fill_color="color",
                     stroked=True, get_line_color=[255, 255, 255], line_width_min_pixels=1)


def depot_layer(depots: pd.DataFrame, tooltip: pd.Series, layer_id: str = DEPOTS_LAYER) -> pdk.Layer:
    frame = depots.assign(tip=tooltip.values)
    return pdk.Layer("ScatterplotLayer", data=_points(frame, ["code", "lon", "lat", "tip"]), id=layer_id,
                     pickable=True, get_position=["lon", "lat"], get_radius=300, radius_min_pixels=7,
                     get_fill_color=[124, 58, 237, 230], stroked=True, get_line_color=[255, 255, 255],
                     line_width_min_pixels=2)


def occupancy_color(occupancy: float) -> list[int]:
    """Green below 75 %, amber to 90 %, red above."""
    if pd.isna(occupancy):
        return [150, 150, 150, 220]
    if occupancy < 0.75:
        return [22, 163, 74, 230]
    return [245, 158, 11, 230] if occupancy < 0.9 else [220, 38, 38, 230]


def hospital_layer(hospitals: pd.DataFrame, tooltip: pd.Series, layer_id: str = HOSPITALS_LAYER) -> pdk.Layer:
    frame = hospitals.assign(color=color_column([occupancy_color(o) for o in hospitals["occupancy"]], hospitals),
                             radius=np.sqrt(hospitals["beds_total"].clip(lower=1)) * 15, tip=tooltip.values)
    return pdk.Layer("ScatterplotLayer", data=_points(frame, ["code", "lon", "lat", "color", "radius", "tip"]),
                     id=layer_id, pickable=True, get_position=["lon", "lat"], get_radius="radius",
                     radius_min_pixels=4, radius_max_pixels=30, get_fill_color="color", stroked=True,
                     get_line_color=[255, 255, 255], line_width_min_pixels=2)


def recent_layer(points: pd.DataFrame, tooltip: pd.Series) -> pdk.Layer:
    """Incidents of the last minutes: bright rings that stand out from the choropleth."""
    frame = points.assign(tip=tooltip.values)
    return pdk.Layer("ScatterplotLayer", data=_points(frame, ["lon", "lat", "tip"]), id=RECENT_LAYER,
                     pickable=True, get_position=["lon", "lat"], get_radius=120, radius_min_pixels=5,
                     filled=True, get_fill_color=[255, 0, 80, 200], stroked=True,
                     get_line_color=[255, 255, 255, 255], line_width_min_pixels=2)


def view_for_bounds(bounds: Sequence[float], width_px: int = 900, height_px: int = 620) -> pdk.ViewState:
    """A view that fits the bounds (minx, miny, maxx, maxy) in a map of the given size."""
    minx, miny, maxx, maxy = bounds
    lat = (miny + maxy) / 2
    # Web Mercator: 512 * 2**zoom pixels per 360 degrees; latitude is stretched by 1/cos(lat).
    span_x = max(maxx - minx, 1e-4)
    span_y = max(maxy - miny, 1e-4) / math.cos(math.radians(lat))
    zoom_x = math.log2(360 * width_px / 512 / span_x)
    zoom_y = math.log2(360 * height_px / 512 / span_y)
    zoom = round(min(zoom_x, zoom_y) - 0.2, 2)
    return pdk.ViewState(longitude=round((minx + maxx) / 2, 5), latitude=round(lat, 5), zoom=zoom,
                         pitch=0, bearing=0)


class CompactDeck(pdk.Deck):  # type: ignore[misc]  # pydeck has no type information
    """A deck serialised without pydeck's indentation (which puts every coordinate on its own
    indented line: about 3.6 times the bytes sent for a map with boundaries)."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"),
                          ensure_ascii=False)


def deck(layers: list[pdk.Layer], view: pdk.ViewState, style_url: str | None = None) -> pdk.Deck:
    """A deck with no basemap by default (works offline); a map style URL only if configured."""
    # Streamlit fills a missing map style with an online Carto basemap; its own "no style"
    # marker keeps the map free of external requests.
    # A text tooltip: Streamlit HTML-escapes values put into an "html" one, so tips break lines with "\n".
    return CompactDeck(layers=layers, initial_view_state=view, map_provider="carto" if style_url else None,
                       map_style=style_url or NO_BASEMAP, tooltip={"text": "{tip}", "style": {"fontSize": "14px"}})
