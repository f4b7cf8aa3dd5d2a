"""The big-screen wall: URL config, rotation, last-good figures, dark CSS, clock and HTML panels."""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st

from clock import now_utc, to_local
from errors import InvalidInput, UnknownArea
from geo import layers as build
from geo.layers import CompactDeck
from geo.resources import assembly_summary, bed_summary, items_below_minimum
from queries.incidents import NO_FILTERS
from settings import Settings
from texts import LANGUAGES
from ui import data
from ui.i18n import current_language, t, term
from ui.state import ViewState
from ui.widgets import fmt_int, fmt_num, fmt_pct

log = logging.getLogger("cityops.wall")

PROFILES = ("picker", "window")
MIN_ROTATION = 5  # seconds: the settings' own floor, also applied to ?rotate=
RECENT_MINUTES = 10  # incidents this recent pulse on the map
TOP_CATEGORIES = 6
DEFAULT_VIEWPORT = (1920, 1080)
# Share of the viewport the map panel takes (see WALL_CSS: column widths and the map height).
MAP_WIDTH_SHARE, MAP_HEIGHT_SHARE = 0.45, 0.82
LAST_GOOD_KEY, FAILING_KEY = "_wall_last_good", "_wall_failing"


@dataclass(frozen=True)
class WallConfig:
    playlist: tuple[str, ...]
    rotation_seconds: int
    refresh_seconds: int
    pinned: str | None = None  # a scope in the URL stops the rotation on it
    profiles: frozenset[str] = field(default_factory=frozenset)

    @property
    def period(self) -> float:
        """Fragment period: at most the live refresh, and a whole fraction of the rotation."""
        if self.pinned or len(self.playlist) < 2:
            return float(self.refresh_seconds)
        return self.rotation_seconds / math.ceil(self.rotation_seconds / self.refresh_seconds)

    def scope_at(self, epoch_seconds: float) -> tuple[str, int]:
        """The scope on screen at a moment and its playlist position (clock-based: walls agree)."""
        if self.pinned:
            return self.pinned, -1
        index = int(epoch_seconds // self.rotation_seconds) % len(self.playlist)
        return self.playlist[index], index


def _codes(raw: str | None) -> tuple[str, ...]:
    codes = tuple(c.strip() for c in (raw or "").split(",") if c.strip())
    return tuple(c for c in codes if c.isdigit() and len(c) in (6, 9, 12, 15))


def wall_config(params: Mapping[str, str], settings: Settings) -> WallConfig:
    """The wall's configuration: settings, overridden by ?rotate=, ?playlist=, ?scope=, ?profile=."""
    playlist = _codes(params.get("playlist")) or _codes(settings.wall_playlist) or (settings.city_code,)
    rotate = params.get("rotate", "")
    rotation = max(MIN_ROTATION, int(rotate)) if rotate.isdigit() else settings.wall_rotation_seconds
    pinned = _codes(params.get("scope"))
    profiles = frozenset(p for p in (params.get("profile") or "").split(",") if p in PROFILES)
    return WallConfig(playlist, rotation, settings.live_refresh_seconds, pinned[0] if pinned else None,
                      profiles)


# ---------------------------------------------------------------- figures, kept when the DB fails


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
    since = (now_utc() - timedelta(minutes=RECENT_MINUTES)).replace(second=0, microsecond=0)
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

    The third value is a problem with the wall's own configuration (an unknown scope in the URL),
    which no waiting will cure, so it is said on screen instead of showing other figures.
    """
    kept: dict[tuple[str, str], Figures] = st.session_state.setdefault(LAST_GOOD_KEY, {})
    try:
        figures = load_figures(code, window_key)
    except (UnknownArea, InvalidInput) as exc:
        return None, None, str(exc)
    except Exception:  # the wall must stay up whatever fails: database down, network, bad data
        if not st.session_state.get(FAILING_KEY):
            log.warning("wall: figures for %s could not be loaded; showing the last good ones", code,
                        exc_info=True)
        st.session_state[FAILING_KEY] = True
        last = kept.get((code, window_key)) or max(kept.values(), key=lambda f: f.as_of, default=None)
        return last, (last.as_of if last else None), None
    if st.session_state.pop(FAILING_KEY, None):
        log.warning("wall: figures are loading again")
    kept[(code, window_key)] = figures
    return figures, None, None


# ---------------------------------------------------------------- map


def _still(deck: CompactDeck) -> CompactDeck:
    deck.views = [pdk.View(type="MapView", controller=False)]  # nobody pans a wall
    return deck


def map_view(children: gpd.GeoDataFrame, viewport: tuple[int, int]) -> pdk.ViewState:
    """The view fitting the scope's children in the map panel (depends on scope and screen only)."""
    width, height = viewport
    return build.view_for_bounds(tuple(children.total_bounds), width_px=int(width * MAP_WIDTH_SHARE),
                                 height_px=int(height * MAP_HEIGHT_SHARE))


def _scaled(layer: pdk.Layer, scale: float, **pixels: float) -> pdk.Layer:
    """Pixel sizes grown with the screen, so lines and dots look the same at 1080p and at 4K."""
    for name, value in pixels.items():
        setattr(layer, name, round(value * scale, 1))
    return layer


def base_deck(figures: Figures, view: pdk.ViewState, scale: float = 1.0) -> tuple[CompactDeck, list[float]]:
    """The choropleth; its spec changes only when an area changes class (so it is rarely re-sent)."""
    children = figures.children
    breaks = build.class_breaks(children["incidents"])
    upper = np.array(breaks)[build.class_index(children["incidents"], breaks)]
    shaded = children.assign(shade=upper)
    layer = build.choropleth_layer(shaded, "shade", shaded["name"], breaks)
    return _still(build.deck([_scaled(layer, scale, line_width_min_pixels=1.5)], view)), breaks


def live_deck(figures: Figures, view: pdk.ViewState, scale: float = 1.0) -> CompactDeck:
    """The recent incidents alone, on a transparent deck laid over the choropleth (it pulses)."""
    recent = figures.recent
    tips = recent["category"].map(lambda c: term("category", c)) if len(recent) else pd.Series(dtype=str)
    layer = _scaled(build.recent_layer(recent, tips), scale, radius_min_pixels=7, line_width_min_pixels=2)
    return _still(build.deck([layer], view))


# ---------------------------------------------------------------- HTML panels


def _e(text) -> str:
    return html.escape(str(text))


def _tile(key: str, label: str, value: str, raw, extra: str = "", css: str = "") -> str:
    return (f'<div class="wall-tile {css}" data-kpi="{key}" data-value="{_e(raw)}">'
            f'<div class="wall-label">{_e(label)}</div><div class="wall-value">{_e(value)}</div>'
            f'{f"<div class=wall-extra>{_e(extra)}</div>" if extra else ""}</div>')


def _raw(value) -> str:
    return "" if value is None or pd.isna(value) else repr(value)


def incidents_label(window: str) -> str:
    return t("incidents_today") if window == "today" else f"{t('incidents')} · {t(window)}"


def _column(parts: list[str], css: str = "") -> str:
    return f'<div class="wall-col {css}">{"".join(parts)}</div>'


def kpi_panel(figures: Figures) -> str:
    totals, recent = figures.totals, len(figures.recent)
    overdue = totals["overdue"]
    return _column([
        _tile("incidents", incidents_label(figures.window), fmt_int(totals["incidents"]), totals["incidents"],
              t("wall_recent").format(minutes=RECENT_MINUTES, count=recent), "wall-primary"),
        _tile("open", t("open"), fmt_int(totals["open"]), totals["open"]),
        _tile("overdue", t("overdue"), fmt_int(overdue), overdue, css="wall-alert" if overdue else ""),
        _tile("disposal_rate", t("disposal_rate"), fmt_pct(totals["disposal_rate"]),
              _raw(totals["disposal_rate"])),
        f'<span hidden data-kpi="recent" data-value="{recent}"></span>',
    ], "wall-kpis")


def category_panel(figures: Figures) -> str:
    """Incidents by category as bars: the largest few, then the rest together."""
    counts = figures.by_category.sort_values("incidents", ascending=False)
    counts = counts[counts["incidents"] > 0]
    top, rest = counts.head(TOP_CATEGORIES), int(counts["incidents"].iloc[TOP_CATEGORIES:].sum())
    rows = [(term("category", c), n, c) for c, n in zip(top["category"], top["incidents"], strict=True)]
    if rest:
        rows.append((t("wall_other_categories"), rest, "_rest"))
    biggest = max((n for _, n, _ in rows), default=1)
    bars = "".join(
        f'<div class="wall-bar" data-category="{_e(code)}" data-value="{int(n)}">'
        f'<span class="wall-bar-label">{_e(label)}</span><span class="wall-bar-track">'
        f'<span class="wall-bar-fill" style="width:{100 * n / biggest:.1f}%"></span></span>'
        f'<span class="wall-bar-value">{fmt_int(n)}</span></div>'
        for label, n, code in rows)
    title = f"{incidents_label(figures.window)} · {t('by_category')}"
    bars = f'<div class="wall-bars">{bars}</div>' if bars else _e(t("no_data"))
    return f'<div class="wall-panel"><div class="wall-title">{_e(title)}</div>{bars}</div>'


def side_panel(figures: Figures) -> str:
    """The right column: incidents by category above the three resource tiles."""
    return _column([category_panel(figures), *resource_tiles(figures)])


def resource_tiles(figures: Figures) -> list[str]:
    beds, places = figures.beds, figures.assembly
    items = "、".join(figures.short_items[:3]) + ("…" if len(figures.short_items) > 3 else "")
    return [
        _tile("bed_occupancy", t("bed_occupancy"), fmt_pct(beds["occupancy"]), _raw(beds["occupancy"]),
              f"{t('beds_available')} {fmt_int(beds['beds_available'])}",
              "wall-alert" if (beds["occupancy"] or 0) >= 0.9 else ""),
        _tile("assembly_capacity", t("wall_assembly_capacity"), fmt_int(places["capacity_open"]),
              places["capacity_open"],
              t("wall_assembly_extra").format(open=places["open_points"], points=places["points"],
                                              per_100=fmt_num(places["places_per_100"]))),
        _tile("items_below_min", t("items_below_min"), fmt_int(figures.below_min), figures.below_min,
              items, "wall-alert" if figures.below_min else ""),
    ]


def header_panel(figures: Figures | None, config: WallConfig, index: int, stale_since: datetime | None) -> str:
    name = figures.name if figures else "—"
    code = figures.code if figures else ""
    dots = "".join(f'<span class="wall-dot{" on" if i == index else ""}"></span>'
                   for i in range(len(config.playlist))) if index >= 0 and len(config.playlist) > 1 else ""
    if figures is None:
        status = ""  # nothing to show yet: the waiting panel below says so
    elif stale_since is not None:
        status = (f'<div class="wall-stale" data-stale-since="{to_local(stale_since):%H:%M}">'
                  f'{_e(t("stale_since"))} {to_local(stale_since):%H:%M}</div>')
    else:
        status = f'<div class="wall-asof">{_e(t("updated_at"))} {to_local(figures.as_of):%H:%M:%S}</div>'
    return (f'<div class="wall-header"><div class="wall-brand">{_e(t("app_title"))} · {_e(t("wall"))}</div>'
            f'<div class="wall-scope" data-scope="{_e(code)}">{_e(name)}</div>'
            f'<div class="wall-dots">{dots}</div>{status}</div>')


def waiting_panel(problem: str | None = None) -> str:
    return f'<div class="wall-waiting">{_e(problem or t("wall_waiting"))}</div>'


def legend_panel(breaks: list[float]) -> str:
    swatches = "".join(f'<span class="wall-swatch"><i style="background:rgb{color}"></i>{_e(label)}</span>'
                       for label, color in build.legend_entries(breaks))
    recent = (f'<span class="wall-swatch"><i class="wall-recent-dot"></i>'
              f'{_e(t("wall_recent_legend").format(minutes=RECENT_MINUTES))}</span>')
    return f'<div class="wall-legend"><b>{_e(t("legend_incidents"))}</b>{swatches}{recent}</div>'


# ---------------------------------------------------------------- clock and screen size

CLOCK_HTML = '<div class="clock"><div class="time">--:--:--</div><div class="date"></div></div>'
CLOCK_CSS = """
.clock { text-align: right; color: #e5e7eb; font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif;
         line-height: 1.05; }
.time { font-size: clamp(26px, 2.7vw, 210px); font-weight: 700; font-variant-numeric: tabular-nums;
        letter-spacing: 0.02em; }
.date { font-size: clamp(12px, 1vw, 76px); color: #94a3b8; }
"""
# Ticks every second in the browser (no server round trip) and reports the screen size once,
# so the map's zoom fits the panel at 1080p and at 4K alike.
CLOCK_JS = """
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  const time = parentElement.querySelector('.time');
  const date = parentElement.querySelector('.date');
  const clock = new Intl.DateTimeFormat(data.locale, { timeZone: data.tz, hour: '2-digit',
    minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const day = new Intl.DateTimeFormat(data.locale, { timeZone: data.tz, year: 'numeric',
    month: 'long', day: 'numeric', weekday: 'short' });
  const tick = () => { const now = new Date(); time.textContent = clock.format(now);
    date.textContent = day.format(now); };
  tick();
  const timer = setInterval(tick, 1000);
  const report = () => {
    const size = { width: window.innerWidth, height: window.innerHeight };
    if (size.width + 'x' + size.height !== data.known) setStateValue('viewport', size);
  };
  report();
  let pending = null;
  const onResize = () => { clearTimeout(pending); pending = setTimeout(report, 500); };
  window.addEventListener('resize', onResize);
  return () => { clearInterval(timer); clearTimeout(pending); window.removeEventListener('resize', onResize); };
}
"""
_clock_component = st.components.v2.component("cityops_wall_clock", html=CLOCK_HTML, css=CLOCK_CSS,
                                               js=CLOCK_JS)


def clock(timezone: str, key: str = "wall-clock") -> tuple[int, int]:
    """Draw the live clock; return the browser's viewport size (a default until it is known)."""
    known = (st.session_state.get(key) or {}).get("viewport") or {}
    size = (int(known.get("width") or 0), int(known.get("height") or 0))
    _clock_component(key=key, data={"tz": timezone, "locale": LANGUAGES[current_language()].browser_locale,
                                    "known": f"{size[0]}x{size[1]}"},
                     on_viewport_change=lambda: None, width="content")
    return size if all(size) else DEFAULT_VIEWPORT


# ---------------------------------------------------------------- CSS

WALL_CSS = """
<style>
html, body { overflow: hidden !important; background: #050a16 !important; }
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stMainMenu"], [data-testid="stAppDeployButton"],
[data-testid="stBottom"], [data-testid="stSidebarNav"], footer { display: none !important; }
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
  background: radial-gradient(ellipse at top, #0d1a33 0%, #050a16 70%) !important; color: #e5e7eb;
  height: 100vh !important; overflow: hidden !important; }
[data-testid="stMainBlockContainer"] { padding: 1.2vh 1.2vw !important; max-width: none !important;
  height: 100vh; box-sizing: border-box; overflow: hidden; }
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] { gap: 1vh; }
[data-testid="stHorizontalBlock"] { gap: 1.2vw !important; flex-wrap: nowrap !important; }
[data-testid="stColumn"] { min-width: 0 !important; }
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
.wall-header { display: flex; align-items: baseline; gap: 2vw; height: 8.5vh; padding-right: 22vw;
  border-bottom: 0.2vh solid #1e3a8a; box-sizing: border-box; white-space: nowrap; overflow: hidden; }
.wall-brand { font-size: clamp(14px, 1.2vw, 90px); color: #60a5fa; letter-spacing: 0.1em; }
.wall-scope { font-size: clamp(28px, 3.1vw, 240px); font-weight: 800; color: #f8fafc; line-height: 1.1; }
.wall-dots { display: flex; gap: 0.5vw; align-self: center; }
.wall-dot { width: 0.7vw; height: 0.7vw; border-radius: 50%; background: #1e3a8a; }
.wall-dot.on { background: #60a5fa; }
.wall-asof { font-size: clamp(12px, 0.95vw, 72px); color: #64748b; }
.wall-stale { font-size: clamp(16px, 1.5vw, 110px); font-weight: 700; color: #111827; background: #f59e0b;
  padding: 0.3vh 0.8vw; border-radius: 0.4vw; animation: wall-blink 1.6s ease-in-out infinite; }
.st-key-wall-clock { position: fixed !important; top: 0.8vh; right: 1.4vw; z-index: 10; width: auto !important; }
.st-key-wall-controls { position: fixed !important; top: 1.2vh; right: 16vw; z-index: 10; width: auto !important; }
.wall-col { height: 87vh; display: flex; flex-direction: column; gap: 1.4vh; }
.st-key-wall-controls { gap: 0.8vw !important; align-items: center; }
.st-key-wall-controls [data-testid="stElementContainer"] { width: auto !important; flex: 0 0 auto; }
.st-key-wall-controls [data-testid="stSelectbox"] { width: 11vw !important; }
.st-key-wall-controls [data-testid="stSelectbox"] div:has(> input), .st-key-wall-controls button {
  background: #0f1d3a !important; color: #e5e7eb !important; border-color: #1e3a8a !important; }
.st-key-wall-controls input, .st-key-wall-controls button * {
  color: #e5e7eb !important; font-size: clamp(12px, 0.85vw, 64px) !important; }
.st-key-wall-controls button[aria-checked="true"] { background: #1d4ed8 !important; }
.wall-tile { background: linear-gradient(180deg, #0f1d3a 0%, #0a1428 100%); border: 0.12vw solid #1e3a8a;
  border-radius: 0.6vw; padding: 1vh 1.2vw; box-sizing: border-box; flex: 1 1 0; min-height: 0;
  display: flex; flex-direction: column; justify-content: center; overflow: hidden; }
.wall-label { font-size: clamp(14px, min(1.3vw, 2.4vh), 100px); color: #93c5fd; }
.wall-value { font-size: clamp(32px, min(3.9vw, 7vh), 300px); font-weight: 800; color: #f8fafc; line-height: 1.1;
  font-variant-numeric: tabular-nums; }
.wall-kpis .wall-value { font-size: clamp(36px, min(4.6vw, 9vh), 360px); }
.wall-kpis .wall-primary .wall-value { font-size: clamp(40px, min(5.6vw, 10vh), 420px); color: #fde047; }
.wall-extra { font-size: clamp(12px, min(1.1vw, 2vh), 84px); color: #94a3b8; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.wall-alert { border-color: #f59e0b; animation: wall-glow 1.6s ease-in-out infinite; }
.wall-alert .wall-value { color: #fbbf24; }
@keyframes wall-glow { 50% { box-shadow: 0 0 1.6vw #f59e0b; } }
@keyframes wall-blink { 50% { opacity: 0.55; } }
.wall-panel { background: #0a1428; border: 0.12vw solid #1e3a8a; border-radius: 0.6vw;
  padding: 1vh 1.2vw; box-sizing: border-box; flex: 0 0 auto; }
.wall-title { font-size: clamp(14px, 1.3vw, 100px); color: #93c5fd; margin-bottom: 0.8vh; }
.wall-bars { display: grid; grid-template-columns: minmax(0, max-content) 1fr max-content;
  grid-auto-rows: 3.9vh; column-gap: 0.8vw; align-items: center; font-size: clamp(13px, min(1.2vw, 2.2vh), 92px); }
.wall-bar { display: contents; }
.wall-bar-label { max-width: 13vw; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: #e2e8f0; }
.wall-bar-track { height: 1.8vh; background: #111c33; border-radius: 0.3vw; overflow: hidden; }
.wall-bar-fill { display: block; height: 100%; background: linear-gradient(90deg, #2563eb, #38bdf8); }
.wall-bar[data-category="_rest"] .wall-bar-fill { background: #475569; }
.wall-bar-value { min-width: 3.5vw; text-align: right; font-weight: 700; font-variant-numeric: tabular-nums; }
div.st-key-wall-map { position: relative; height: 82vh !important; flex: 0 0 82vh !important;
  border: 0.12vw solid #1e3a8a; border-radius: 0.6vw; overflow: hidden; background: #081226; box-sizing: border-box; }
div.st-key-wall-map > [data-testid="stElementContainer"] { position: absolute !important; inset: 0;
  height: 100% !important; width: 100% !important; }
div.st-key-wall-map [data-testid="stFullScreenFrame"], div.st-key-wall-map [data-testid="stDeckGlJsonChart"],
div.st-key-wall-map [data-testid="stDeckGlJsonChart"] > div { height: 100% !important; width: 100% !important; }
div.st-key-wall-map [data-testid="stElementToolbar"] { display: none !important; }
div.st-key-wall-map > [data-testid="stElementContainer"]:last-child { pointer-events: none;
  animation: wall-pulse 1.4s ease-in-out infinite; filter: drop-shadow(0 0 0.5vw #ff0050); }
@keyframes wall-pulse { 50% { opacity: 0.25; } }
.wall-legend { display: flex; flex-wrap: nowrap; align-items: center; gap: 0.7vw; height: 4vh;
  overflow: hidden; white-space: nowrap; font-size: clamp(11px, min(0.82vw, 1.55vh), 64px); color: #cbd5e1; }
.wall-swatch { display: inline-flex; align-items: center; gap: 0.4vw; white-space: nowrap; }
.wall-swatch i { display: inline-block; width: 1.4vw; height: 1.6vh; border: 1px solid #334155; }
.wall-swatch i.wall-recent-dot { width: 1.2vh; height: 1.2vh; border-radius: 50%; background: #ff0050;
  border: 2px solid #fff; }
.wall-waiting { font-size: clamp(20px, 2.2vw, 160px); color: #94a3b8; padding: 30vh 0; text-align: center; }
</style>
"""


def apply_css() -> None:
    st.html(WALL_CSS)
