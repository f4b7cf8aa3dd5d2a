"""The wall's HTML panels, rendered from templates/panels.html with their figures formatted here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from clock import to_local
from geo import layers as build
from settings import get_settings
from ui.i18n import t, term
from ui.wall.config import WallConfig
from ui.wall.figures import Figures
from ui.widgets import fmt_int, fmt_num, fmt_pct

TOP_CATEGORIES = 6
# Autoescape on: area and item names come from outside the app and must show as text, never as HTML.
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                         trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
_TEMPLATES.globals["t"] = t
_PANELS = _TEMPLATES.get_template("panels.html").module


def _render(macro: str, *args: object, **kwargs: object) -> str:
    """A macro of templates/panels.html, rendered (a template's macros exist only at run time, untyped)."""
    return str(getattr(_PANELS, macro)(*args, **kwargs))


@dataclass(frozen=True)
class Tile:
    key: str  # data-kpi
    label: str
    value: str  # as shown
    raw: object  # data-value: the figure itself, for tests and scripts
    extra: str = ""
    css: str = ""


def _raw(value) -> str:
    return "" if value is None or pd.isna(value) else repr(value)


def incidents_label(window: str) -> str:
    return t("incidents_today") if window == "today" else f"{t('incidents')} · {t(window)}"


def kpi_panel(figures: Figures) -> str:
    totals, recent = figures.totals, len(figures.recent)
    overdue = totals["overdue"]
    tiles = [
        Tile("incidents", incidents_label(figures.window), fmt_int(totals["incidents"]), totals["incidents"],
             t("wall_recent").format(minutes=get_settings().recent_minutes, count=recent), "wall-primary"),
        Tile("open", t("open"), fmt_int(totals["open"]), totals["open"]),
        # Only the live backlog glows: parked and escalated items are shown beside it, calm.
        Tile("overdue", t("overdue_now"), fmt_int(overdue), overdue, f"{t('held')} {fmt_int(totals['held'])}",
             "wall-alert" if overdue else ""),
        Tile("disposal_rate", t("disposal_rate"), fmt_pct(totals["disposal_rate"]), _raw(totals["disposal_rate"])),
    ]
    return _render("kpi_panel", figures.code, tiles, recent, totals["held"])


def _category_bars(figures: Figures) -> dict:
    """Incidents by category as bars: the largest few, then the rest together."""
    counts = figures.by_category.sort_values("incidents", ascending=False)
    counts = counts[counts["incidents"] > 0]
    top, rest = counts.head(TOP_CATEGORIES), int(counts["incidents"].iloc[TOP_CATEGORIES:].sum())
    rows = [(term("category", c), int(n), c) for c, n in zip(top["category"], top["incidents"], strict=True)]
    if rest:
        rows.append((t("wall_other_categories"), rest, "_rest"))
    biggest = max((n for _, n, _ in rows), default=1)
    bars = [{"code": code, "label": label, "count": n, "shown": fmt_int(n), "percent": 100 * n / biggest}
            for label, n, code in rows]
    return {"title": f"{incidents_label(figures.window)} · {t('by_category')}", "bars": bars}


def category_panel(figures: Figures) -> str:
    return _render("category_panel", **_category_bars(figures))


def resource_tiles(figures: Figures) -> list[Tile]:
    beds, places = figures.beds, figures.assembly
    items = "、".join(figures.short_items[:3]) + ("…" if len(figures.short_items) > 3 else "")
    return [
        Tile("bed_occupancy", t("bed_occupancy"), fmt_pct(beds["occupancy"]), _raw(beds["occupancy"]),
             f"{t('beds_available')} {fmt_int(beds['beds_available'])}",
             "wall-alert" if (beds["occupancy"] or 0) >= 0.9 else ""),
        Tile("assembly_capacity", t("wall_assembly_capacity"), fmt_int(places["capacity_open"]),
             places["capacity_open"],
             t("wall_assembly_extra").format(open=places["open_points"], points=places["points"],
                                             per_100=fmt_num(places["places_per_100"]))),
        Tile("items_below_min", t("items_below_min"), fmt_int(figures.below_min), figures.below_min,
             items, "wall-alert" if figures.below_min else ""),
    ]


def side_panel(figures: Figures) -> str:
    """The right column: incidents by category above the three resource tiles."""
    return _render("side_panel", figures.code, _category_bars(figures), resource_tiles(figures))


def header_panel(figures: Figures | None, config: WallConfig, index: int, stale_since: datetime | None) -> str:
    """Brand, scope name, the playlist's dots, and when the figures date from (amber when stale)."""
    rotating = index >= 0 and len(config.playlist) > 1
    return _render(
        "header_panel",
        code=figures.code if figures else "", name=figures.name if figures else "—",
        dots=len(config.playlist) if rotating else 0, on=index,
        # Without figures there is no time to give: the waiting panel below says why.
        stale_since=f"{to_local(stale_since):%H:%M}" if figures and stale_since else "",
        as_of=f"{to_local(figures.as_of):%H:%M:%S}" if figures else "")


def waiting_panel(problem: str | None = None) -> str:
    return _render("waiting_panel", problem or t("wall_waiting"))


def legend_panel(code: str, breaks: list[float]) -> str:
    recent = t("wall_recent_legend").format(minutes=get_settings().recent_minutes)
    return _render("legend_panel", code, build.legend_entries(breaks), recent)
