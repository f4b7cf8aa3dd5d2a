"""The wall's pure parts: URL configuration, rotation, compact decks, panels and the stale marker."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd
import pydeck as pdk
import pytest
import sqlalchemy as sa
from shapely.geometry import box

from clock import now_utc, to_local
from geo import layers as build
from queries import facilities
from queries.incidents import incident_counts_by, incident_totals
from queries.intake import transition_incident
from settings import get_settings
from tests.test_pages_apptest import LEVELS, app_on, scope_at_level, today_window  # noqa: F401 - fixture
from ui import wall

SETTINGS = get_settings()


def config(**params: str) -> wall.WallConfig:
    return wall.wall_config(params, SETTINGS)


def test_settings_give_the_default_playlist_and_period():
    default = config()
    assert default.playlist == tuple(SETTINGS.wall_playlist.split(","))
    assert default.rotation_seconds == SETTINGS.wall_rotation_seconds
    assert default.pinned is None and not default.profiles


def test_url_overrides_rotation_playlist_scope_and_profiles():
    given = config(rotate="12", playlist="330200, 330212,bogus,33", scope="330212",
                   profile="picker,window,unknown")
    assert given.rotation_seconds == 12
    assert given.playlist == ("330200", "330212")  # codes that cannot be areas are dropped
    assert given.pinned == "330212"
    assert given.profiles == {"picker", "window"}


@pytest.mark.parametrize("rotate", ["", "abc", "-3", "1.5"])
def test_a_rotation_that_is_not_whole_seconds_falls_back_to_settings(rotate):
    assert config(rotate=rotate).rotation_seconds == SETTINGS.wall_rotation_seconds


def test_a_rotation_below_the_floor_is_raised_to_it():
    assert config(rotate="1").rotation_seconds == wall.MIN_ROTATION


@pytest.mark.parametrize(("rotation", "refresh"), [(30, 10), (25, 10), (5, 10), (7, 3), (60, 60)])
def test_the_refresh_period_divides_the_rotation_and_is_never_slower_than_live(rotation, refresh):
    cfg = wall.WallConfig(("330200", "330212"), rotation, refresh)
    ticks = rotation / cfg.period
    assert cfg.period <= refresh
    assert ticks == pytest.approx(round(ticks))


def test_the_rotation_advances_each_period_and_wraps_round():
    cfg = wall.WallConfig(("330200", "330212", "330203"), 30, 10)
    seen = [cfg.scope_at(1_700_000_000 + step * 10)[0] for step in range(18)]
    changes = [i for i in range(1, len(seen)) if seen[i] != seen[i - 1]]
    assert set(seen) == set(cfg.playlist)
    assert all(b - a == 3 for a, b in zip(changes, changes[1:], strict=False))  # every 30 s
    order = [seen[0]] + [seen[i] for i in changes]
    start = cfg.playlist.index(order[0])
    assert order == [cfg.playlist[(start + k) % 3] for k in range(len(order))]


def test_a_pinned_scope_does_not_rotate():
    cfg = config(scope="330203", rotate="5")
    assert {cfg.scope_at(s)[0] for s in range(0, 60, 5)} == {"330203"}
    assert cfg.period == SETTINGS.live_refresh_seconds


def _figures(counts: list[int], recent: int = 0, overdue: int = 2) -> wall.Figures:
    children = gpd.GeoDataFrame(
        {"code": [f"330212{i:03d}" for i in range(len(counts))], "name": [f"街道{i}" for i in range(len(counts))],
         "incidents": counts},
        geometry=[box(121.5 + i * 0.05, 29.7, 121.54 + i * 0.05, 29.75) for i in range(len(counts))], crs=4326)
    recent_rows = pd.DataFrame({"id": range(recent), "lon": [121.52] * recent, "lat": [29.72] * recent,
                                "category": ["fire"] * recent})
    return wall.Figures(
        code="330212", name="鄞州区", window="today",
        totals={"incidents": sum(counts), "open": 7, "overdue": overdue, "held": 5, "disposal_rate": 0.8136},
        by_category=pd.DataFrame({"category": ["fire", "greening", "other", "disputes", "construction",
                                               "street_order", "public_health", "environment"],
                                  "incidents": [40, 30, 20, 10, 5, 4, 3, 0]}),
        recent=recent_rows, beds={"occupancy": 0.8123, "beds_available": 1234},
        assembly={"capacity_open": 45_600, "open_points": 9, "points": 10, "places_per_100": 12.34},
        below_min=4, short_items=("帐篷", "饮用水", "棉被", "救生衣"), children=children,
        as_of=datetime(2026, 11, 23, 2, 14, 5),
    )


def test_the_compact_deck_is_the_same_spec_in_a_fraction_of_the_bytes():
    figures = _figures([1, 5, 9, 20])
    view = wall.map_view(figures.children, (1920, 1080))
    deck, _ = wall.base_deck(figures, view)
    pydeck_json = pdk.Deck.to_json(deck)  # pydeck's own, indented serialisation of the same deck
    compact = json.loads(deck.to_json())
    assert compact == json.loads(pydeck_json)
    # The saving is in the boundaries' coordinates: measured on the choropleth (these test areas are tiny
    # squares, beside which the names layer's fixed size would dominate).
    areas_only = build.deck(deck.layers[:1], view)
    assert len(areas_only.to_json()) * 3 < len(pdk.Deck.to_json(areas_only))
    assert compact["views"] == [{"@@type": "MapView", "controller": False}]


def test_the_choropleth_spec_changes_only_when_an_area_changes_class():
    before = _figures([1, 5, 9, 20], recent=0)
    after = _figures([1, 5, 9, 20], recent=3, overdue=9)  # new incidents nearby, other figures moved
    view = wall.map_view(before.children, (1920, 1080))
    assert wall.base_deck(before, view)[0].to_json() == wall.base_deck(after, view)[0].to_json()
    assert wall.live_deck(before, view).to_json() != wall.live_deck(after, view).to_json()
    moved = _figures([1, 5, 30, 20])
    assert wall.base_deck(moved, view)[0].to_json() != wall.base_deck(before, view)[0].to_json()


def test_choropleth_colours_are_the_classes_of_the_counts():
    figures = _figures([0, 3, 8, 15, 40, 41])
    deck, breaks = wall.base_deck(figures, wall.map_view(figures.children, (1920, 1080)))
    fills = [f["properties"]["fill"] for f in json.loads(deck.to_json())["layers"][0]["data"]["features"]]
    assert fills == build.class_colors(figures.children["incidents"], breaks)


def test_the_view_fits_the_screen_it_is_shown_on():
    figures = _figures([1, 2, 3])
    small = wall.map_view(figures.children, (1920, 1080))
    large = wall.map_view(figures.children, (3840, 2160))
    assert large.zoom == pytest.approx(small.zoom + 1, abs=0.02)  # twice the pixels: one zoom level
    assert (large.longitude, large.latitude) == (small.longitude, small.latitude)


def _values(markup: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="([a-z_]+)" data-value="([^"]*)"', markup))


def test_kpi_and_resource_tiles_carry_the_figures_they_show():
    figures = _figures([1, 5, 9, 20], recent=3)
    kpis, side = wall.kpi_panel(figures), wall.side_panel(figures)
    assert _values(kpis) == {"incidents": "35", "open": "7", "overdue": "2", "disposal_rate": "0.8136",
                             "recent": "3", "held": "5"}
    assert _values(side) == {"bed_occupancy": "0.8123", "assembly_capacity": "45600", "items_below_min": "4"}
    for text in ("81.2%", "81.4%", "45,600", "帐篷、饮用水、棉被…", "挂账/督查 5"):
        assert text in kpis + side
    assert 'class="wall-tile wall-alert" data-kpi="overdue"' in kpis  # overdue incidents flash
    assert 'class="wall-tile " data-kpi="overdue"' in wall.kpi_panel(_figures([1], overdue=0))


def test_categories_show_the_largest_and_sum_the_rest():
    bars = dict(re.findall(r'data-category="([a-z_]+)" data-value="(\d+)"', wall.category_panel(_figures([1]))))
    assert bars == {"fire": "40", "greening": "30", "other": "20", "disputes": "10", "construction": "5",
                    "street_order": "4", "_rest": "3"}


def test_the_header_marks_stale_figures_with_the_local_time_they_date_from():
    figures = _figures([1])
    cfg = wall.WallConfig(("330200", "330212"), 30, 10)
    fresh = wall.header_panel(figures, cfg, 1, None)
    stale = wall.header_panel(figures, cfg, 1, figures.as_of)
    since = to_local(figures.as_of).strftime("%H:%M")
    assert "wall-stale" not in fresh and "鄞州区" in fresh
    assert f"数据暂停更新，自 {since}" in stale
    assert fresh.count("wall-dot on") == 1


# Independent of queries/: the live backlog past due, and the parked / escalated, by plain SQL.
LIVE_OVERDUE = sa.text("SELECT id FROM incident WHERE district_code = :d AND due_at < :at "
                       "AND status IN ('reported', 'dispatched', 'handling', 'resolved')")
HELD = sa.text("SELECT count(*) FROM incident WHERE district_code = :d AND status IN ('parked', 'escalated')")


def _overdue_tile(writable, district: str) -> tuple[bool, str, str]:
    """Whether the wall's overdue tile glows, its figure and its parked / escalated line, from the queries."""
    totals = incident_totals(writable, district, window=today_window())
    figures = dataclasses.replace(_figures([1]), code=district, totals=totals)
    tile = re.search(r'<div class="wall-tile ([^"]*)" data-kpi="overdue" data-value="(\d+)">.*?'
                     r'<div class="wall-extra">([^<]*)</div>', wall.kpi_panel(figures), re.S)
    assert tile, wall.kpi_panel(figures)
    return tile.group(1) == "wall-alert", tile.group(2), tile.group(3)


def test_the_overdue_tile_glows_for_the_live_backlog_only(writable):
    with writable.begin() as conn:
        district = conn.execute(sa.text("SELECT district_code FROM incident WHERE status = 'handling' "
                                        "GROUP BY 1 ORDER BY count(*) DESC")).scalars().first()
        # The small copy spans a few hours, so nothing is due yet: let five items' due time pass.
        late = conn.execute(sa.text("SELECT id FROM incident WHERE district_code = :d AND status = 'handling' "
                                    "ORDER BY id LIMIT 5"), {"d": district}).scalars().all()
        conn.execute(sa.text("UPDATE incident SET due_at = :at WHERE id = :id"),
                     [{"at": now_utc() - timedelta(hours=1), "id": i} for i in late])
    with writable.connect() as conn:
        overdue = conn.execute(LIVE_OVERDUE, {"d": district, "at": now_utc()}).scalars().all()
        held = conn.execute(HELD, {"d": district}).scalar_one()
    glows, shown, extra = _overdue_tile(writable, district)
    assert glows and int(shown) >= len(overdue) >= len(late) == 5 and extra == f"挂账/督查 {held:,}"
    # The supervision office takes up every item due within the next hour: nothing live is overdue then.
    with writable.begin() as conn:
        due = conn.execute(LIVE_OVERDUE, {"d": district, "at": now_utc() + timedelta(hours=1)}).scalars().all()
        for incident_id in due:
            transition_incident(conn, incident_id, "escalate", None, city_code=SETTINGS.city_code, now=now_utc())
    with writable.connect() as conn:
        assert conn.execute(LIVE_OVERDUE, {"d": district, "at": now_utc()}).scalars().all() == []
        held_now = conn.execute(HELD, {"d": district}).scalar_one()
    assert held_now == held + len(due) > 0
    assert _overdue_tile(writable, district) == (False, "0", f"挂账/督查 {held_now:,}")


# ------------------------------------------------------------------ the page, run by AppTest


# One expected figure: a text shown as is, a rate compared within 1e-9, None for a dash (a rate of
# nothing) or, for "categories", the incidents per category.
Expected = str | float | None | dict[str, int]


def expected_figures(engine, code: str) -> dict[str, Expected]:
    """What the wall must show for a scope today, computed here from the query layer's rows."""
    window = today_window()
    totals = incident_totals(engine, code, window=window)
    hospitals = facilities.hospitals_in_scope(engine, code)
    points = facilities.assembly_points_in_scope(engine, code)
    stock = facilities.stock_in_scope(engine, code)
    categories = incident_counts_by(engine, code, "category", window=window)
    return {
        "incidents": str(totals["incidents"]), "open": str(totals["open"]), "overdue": str(totals["overdue"]),
        "disposal_rate": totals["disposal_rate"],
        "bed_occupancy": hospitals["beds_occupied"].sum() / beds if (beds := hospitals["beds_total"].sum()) else None,
        "assembly_capacity": str(int(points.loc[points["status"] == "open", "capacity"].sum())),
        "items_below_min": str(int((stock["quantity"] < stock["min_level"]).sum())),
        "categories": {c: int(n) for c, n in zip(categories["category"], categories["incidents"], strict=True)
                       if n > 0},
    }


def categories_match(shown: dict[str, str], counts: dict[str, int]) -> bool:
    """Six bars are the six largest categories with their counts; the last bar sums the others."""
    bars = {key.split(":", 1)[1]: int(value) for key, value in shown.items() if key.startswith("category:")}
    rest = bars.pop("_rest", 0)
    largest = sorted(counts.values(), reverse=True)
    return (all(counts.get(c) == n for c, n in bars.items()) and sorted(bars.values(), reverse=True) == largest[:6]
            and rest == sum(largest[6:]))


def matches(shown: dict[str, str], expected: dict[str, Expected]) -> bool:
    for key, value in expected.items():
        if key == "categories":
            assert isinstance(value, dict)
            if not categories_match(shown, value):
                return False
        elif value is None:  # a rate of nothing: shown as a dash, carried as an empty value
            if shown.get(key) != "":
                return False
        elif isinstance(value, float):
            if abs(float(shown.get(key) or "nan") - value) > 1e-9:
                return False
        elif shown.get(key) != value:
            return False
    return True


def html_bodies(app) -> str:
    """The page's HTML panels (not its style sheet)."""
    return " ".join(e.proto.body for e in app.get("html") if not e.proto.body.lstrip().startswith("<style"))


def html_figures(app) -> dict[str, str]:
    """data-kpi and data-category values in the page's HTML panels."""
    bodies = html_bodies(app)
    kpis = re.findall(r'data-kpi="([a-z_]+)" data-value="([^"]*)"', bodies)
    bars = re.findall(r'data-category="([a-z_]+)" data-value="([^"]*)"', bodies)
    return dict(kpis) | {f"category:{c}": n for c, n in bars}


@pytest.mark.parametrize("level", LEVELS)
def test_wall_page_shows_the_query_layers_figures_at_every_level(app_on, engine, level):  # noqa: F811
    code = scope_at_level(engine, level)
    app = app_on(wall="1", scope=code)
    assert not app.exception, [e.value for e in app.exception]
    shown = html_figures(app)
    assert matches(shown, expected_figures(engine, code)), (shown, expected_figures(engine, code))
    header = html_bodies(app)
    assert f'data-scope="{code}"' in header and "wall-stale" not in header
    decks = app.get("deck_gl_json_chart")
    assert len(decks) == 2  # the choropleth and the live overlay of recent incidents


def test_an_unknown_pinned_scope_is_said_on_screen_without_an_exception(app_on):  # noqa: F811
    app = app_on(wall="1", scope="330299999")
    assert not app.exception and not app.error
    bodies = html_bodies(app)
    assert "wall-waiting" in bodies and "330299999" in bodies and "wall-stale" not in bodies
