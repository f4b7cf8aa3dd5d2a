"""The figures a wall shows for one scope, and the last good ones while they cannot be loaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import pandas as pd

from clock import now_utc, recent_since
from errors import DatabaseUnavailable, InvalidInput, UnknownArea
from geo.resources import assembly_summary, bed_summary, items_below_minimum
from queries.incidents import NO_FILTERS
from ui import data
from ui.i18n import say
from ui.live import last_good
from ui.state import ViewState

SHELF = "wall"  # the wall's own shelf of last good figures (see ui.live.last_good)


@dataclass(frozen=True)
class Figures:
    code: str
    name: str
    window: str
    totals: dict
    by_category: pd.DataFrame  # category, incidents
    recent: pd.DataFrame  # id, lon, lat, category, ...
    beds: dict
    assembly: dict
    below_min: int
    short_items: tuple[str, ...]
    children: gpd.GeoDataFrame  # child areas with an `incidents` column
    as_of: datetime  # naive UTC


def load_figures(code: str, window_key: str) -> Figures:
    """Every figure the wall shows for a scope, through the cached query loaders."""
    window = ViewState(scope=code, window=window_key).time_window()
    scope = data.scope(code)
    counts = data.counts_by_child(code, window, NO_FILTERS)
    children = data.children(code).merge(counts[["code", "incidents"]], on="code", how="left")
    children["incidents"] = children["incidents"].fillna(0).astype(int)
    stock = data.stock(code)
    # A minute-aligned start keeps the cache key stable between refreshes.
    since = recent_since()
    return Figures(
        code=code, name=scope.name, window=window_key,
        totals=data.totals(code, window, NO_FILTERS),
        by_category=data.counts_by(code, "category", window, NO_FILTERS),
        recent=data.recent_points(code, since),
        beds=bed_summary(data.hospitals(code)),
        assembly=assembly_summary(data.assembly_points(code), scope.population),
        below_min=items_below_minimum(stock),
        short_items=tuple(dict.fromkeys(stock.loc[stock["below_min"], "item"])),
        children=children, as_of=now_utc(),
    )


def figures_or_last_good(code: str, window_key: str) -> tuple[Figures | None, datetime | None, str | None]:
    """Fresh figures, or on any failure the last good ones and the time they were current.

    A scope the wall has not shown yet falls back to the newest figures it has. The third value is
    a problem with the wall's own configuration (an unknown scope in the URL), which no waiting
    will cure, so it is said on screen instead of showing other figures.
    """
    try:
        # Exception, not only outages: the wall must stay up whatever fails (database, network, bad data).
        figures, stale_since = last_good(f"{code}-{window_key}", lambda: load_figures(code, window_key),
                                         shelf=SHELF, errors=(Exception,), any_key=True)
    except (UnknownArea, InvalidInput) as exc:
        return None, None, say(exc.message)  # drawn in the wall's language (its page set it)
    except DatabaseUnavailable:  # nothing kept yet: the waiting panel says so
        return None, None, None
    return figures, stale_since, None
