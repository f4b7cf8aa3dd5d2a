"""The Scenarios page in chromium: a hazard zone and a point picked on the map, the difference, save, reload."""

from __future__ import annotations

import io
import shutil
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page
from shapely.geometry import Point, Polygon

from geo.layers import view_for_bounds
from geo.scenario import METRIC_CRS, prepare_baseline
from queries import scenarios as q
from queries.areas import area_geometries, children_of
from queries.facilities import assembly_points_in_scope
from scenario_model import Overrides
from tests.browser import (
    DECK,
    DeckMap,
    ServedApp,
    chromium_or_skip,
    copy_sqlite,
    open_page,
    screenshot,
    serve_dashboard,
    wait_idle,
)

pytestmark = pytest.mark.timeout(300)
DISTRICT, CITY = "330212", "330200"
MAP_HEIGHT, MAP_WIDTH = 560, 700  # pages/scenarios.py fits the street map to this size
NAME = "台风-梅花-预案A"


@pytest.fixture(scope="module")
def served(tmp_path_factory, chromium, demo_engines):
    """The app over its own copy of the session's SpatiaLite demo database, which it may write."""
    chromium_or_skip()
    folder = tmp_path_factory.mktemp("scenario-browser")
    database = copy_sqlite(demo_engines("sqlite").url.database, folder / "cityops.sqlite")
    with serve_dashboard(f"sqlite:///{database}", folder) as app:
        # Warm the server's caches, so the timed waits of the test start from a served page.
        warm = _new_page(chromium, app)
        open_page(warm, app.url(scope=DISTRICT))
        warm.context.close()
        yield app
    shutil.rmtree(folder, ignore_errors=True)


def _new_page(browser: Browser, app: ServedApp) -> Page:
    # Tall enough to show the whole page without scrolling, so map pixels computed at one moment
    # stay valid at the next (a scroll made to read a table would otherwise move the map).
    return app.context(browser, viewport={"width": 1600, "height": 3000}, locale="zh-CN").new_page()


def _zone(engine) -> tuple[str, str, list[tuple[float, float]]]:
    """The first street of the district and the corners of the box around its grid cells."""
    street = children_of(engine, DISTRICT).iloc[0]
    minx, miny, maxx, maxy = map(float, area_geometries(engine, street["code"], "grid").total_bounds)
    corners = [(round(x, 6), round(y, 6)) for x, y in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy))]
    return street["code"], street["name"], corners


def _residents(engine, code: str) -> gpd.GeoDataFrame:
    cells = area_geometries(engine, code, "grid")
    return gpd.GeoDataFrame(cells[["code", "population"]], geometry=cells.representative_point(),
                            crs="EPSG:4326").to_crs(METRIC_CRS)


def _coverage(residents: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> float:
    joined = gpd.sjoin_nearest(residents, points[["geometry"]], how="left", max_distance=1000, distance_col="d")
    covered = joined.dropna(subset=["d"]).drop_duplicates("code")
    return covered["population"].sum() / residents["population"].sum()


def _expected(engine, street: str, corners) -> dict:
    """Evacuees of the district and the street's coverage before/after, by geopandas (independent)."""
    zone = gpd.GeoSeries([Polygon(corners)], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    points = assembly_points_in_scope(engine, CITY)
    usable = points[points["status"] == "open"].to_crs(METRIC_CRS)
    district = _residents(engine, DISTRICT)
    street_cells = _residents(engine, street)
    return {"evacuees": int(district.loc[district.within(zone), "population"].sum()),
            "before": _coverage(street_cells, usable), "after": _coverage(street_cells, usable[~usable.within(zone)])}


def _settle(page: Page) -> None:
    """Let the rerun a widget triggered start, then wait until it has finished."""
    page.wait_for_timeout(700)
    wait_idle(page)


def _tiles(page: Page) -> dict[str, str]:
    labels = page.locator("[data-testid=stMetricLabel]").all_inner_texts()
    values = page.locator("[data-testid=stMetricValue]").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


def _rows(page: Page, index: int) -> list[list[str]]:
    rows = page.locator("[data-testid=stDataFrame]").nth(index).locator("table tbody tr")
    rows.first.wait_for(state="attached", timeout=15_000)  # the grid's accessible table is off-screen
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]


def _deck(page: Page, engine) -> DeckMap:
    streets = area_geometries(engine, DISTRICT, "street", display=True)
    view = view_for_bounds(tuple(streets.total_bounds), width_px=MAP_WIDTH, height_px=MAP_HEIGHT)
    page.wait_for_selector(f"{DECK} canvas", timeout=30_000)
    page.wait_for_timeout(1500)  # the deck draws after the script run
    return DeckMap(page, view.longitude, view.latitude, view.zoom)


def _colour_at(deck: DeckMap, lon: float, lat: float) -> np.ndarray:
    """Median RGB of a 9x9 patch of the map canvas around a point."""
    image = np.asarray(Image.open(io.BytesIO(deck.canvas_png())).convert("RGB")).astype(int)
    box = deck.box()
    x, y = deck.pixel(lon, lat)
    col, row = int(x - box["x"]), int(y - box["y"])
    return np.median(image[row - 4:row + 5, col - 4:col + 5].reshape(-1, 3), axis=0)


def _loneliest_cell(engine) -> tuple[float, float]:
    """The district grid point farthest from any open assembly point (a good place for a new one)."""
    cells = _residents(engine, DISTRICT)
    points = assembly_points_in_scope(engine, CITY)
    usable = points[points["status"] == "open"].to_crs(METRIC_CRS)[["geometry"]]
    joined = gpd.sjoin_nearest(cells, usable, distance_col="d").sort_values("d")
    far = joined.iloc[-1].geometry
    lonlat = gpd.GeoSeries([far], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]
    assert isinstance(lonlat, Point)
    return lonlat.x, lonlat.y


def test_build_a_hazard_scenario_see_the_difference_save_and_reload(served, chromium):
    engine = served.engine
    street, street_name, corners = _zone(engine)
    expected = _expected(engine, street, corners)
    page = _new_page(chromium, served)
    open_page(page, served.url("scenarios", scope=DISTRICT))
    deck = _deck(page, engine)
    centre = Polygon(corners).representative_point()
    before_colour = _colour_at(deck, centre.x, centre.y)
    assert _tiles(page)["风险区需转移人数"] == "0"

    # a hazard zone typed as corners
    page.get_by_role("tab", name="风险区").click()
    page.locator("[class*='st-key-scn-typed-'] textarea").fill("\n".join(f"{x}, {y}" for x, y in corners))
    page.keyboard.press("Control+Enter")
    _settle(page)
    page.locator(".st-key-scn-use-typed button").click()
    page.get_by_text("风险区 (Polygon)").wait_for(timeout=30_000)
    _settle(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert _tiles(page)["风险区需转移人数"] == f"{expected['evacuees']:,}"

    # the difference: the zone's street is listed first, worse, with geopandas' coverage figures
    first = _rows(page, 2)[0]
    assert first[:3] == ["▼", street_name, street], first
    assert float(first[4]) == pytest.approx(expected["before"] * 100, abs=1e-9), first
    assert float(first[5]) == pytest.approx(expected["after"] * 100, abs=1e-9), first
    assert expected["after"] < expected["before"]
    deck = _deck(page, engine)
    after_colour = _colour_at(deck, centre.x, centre.y)
    assert abs(before_colour[0] - before_colour[1]) < 20, before_colour  # unchanged: grey
    assert after_colour[0] - after_colour[1] > 60, after_colour  # coverage lost: red under the purple zone
    screenshot(page, "scenario-hazard-zone")

    # a temporary point where residents are farthest from one, picked by clicking the map
    lon, lat = _loneliest_cell(engine)
    target = deck.pixel(lon, lat)
    tips = [deck.tooltip_at(*target, settle_ms=800) for _ in range(4)]  # the deck may still be redrawing
    assert f"地图所选位置: {lon:.5f}, {lat:.5f}" in tips, tips  # the dot is under the mouse
    page.mouse.click(*target)
    # the click reruns the page, which stores the pick and reruns again
    page.locator("[data-testid=stCaptionContainer]", has_text=f"地图所选位置: {lon:.5f}, {lat:.5f}").wait_for()
    _settle(page)
    page.get_by_role("tab", name="避难场所").click()
    lon_input = page.locator("[class*='st-key-scn-new-point-'][class*='-lon'] input")
    assert lon_input.input_value() == f"{lon:.6f}"  # the pick filled the form
    page.locator("[data-testid=stForm]", has=lon_input).locator("[data-testid=stFormSubmitButton] button").click()
    # the submit reruns the page, which validates and stores the point and reruns again
    page.get_by_text(f"@ {lon:.5f}, {lat:.5f}").wait_for(timeout=30_000)
    _settle(page)
    assert page.get_by_text(f"@ {lon:.5f}, {lat:.5f}").count() == 1
    assert page.locator("[data-testid=stAlertContentError]").count() == 0

    # save, then a fresh browser session opens the link and sees the same scenario
    page.locator(".st-key-scn-name input").fill(NAME)
    page.locator(".st-key-scn-author input").fill("规划科")
    page.locator("[data-testid=stFormSubmitButton] button", has_text="保存方案").click()
    page.get_by_text("方案已保存：" + NAME).wait_for(timeout=30_000)
    _settle(page)
    assert parse_qs(urlparse(page.url).query)["scenario"] == [NAME]
    shown = _tiles(page)
    link = page.url
    page.context.close()

    again = _new_page(chromium, served)
    open_page(again, link)
    _deck(again, engine)
    assert _tiles(again) == shown
    assert again.get_by_text("风险区 (Polygon)").count() == 1
    assert again.get_by_text(f"@ {lon:.5f}, {lat:.5f}").count() == 1
    assert again.locator("[data-testid=stException]").count() == 0
    screenshot(again, "scenario-reloaded")
    again.context.close()


def test_the_overrides_are_listed_by_name(served, chromium):
    """A saved scenario's overrides, opened by its link in both languages: each place by its database name."""
    engine = served.engine
    inputs = q.baseline_inputs(engine, DISTRICT, city_code=CITY)
    points = inputs["assembly"]
    inside = points[points["in_scope"]].iloc[:2]
    outside = points[~points["in_scope"]].iloc[0]
    hospital = inputs["hospitals"].iloc[0]
    plan = Overrides(close=(inside["code"].iloc[0], outside["code"]), capacities={inside["code"].iloc[1]: 10},
                     beds=({"hospital_code": hospital["code"], "bed_type": "icu", "total": 5},))
    q.save_scenario(engine, "按名称列出", "规划科", plan, facts=prepare_baseline(**inputs).facts)
    names = [*inside["name"], outside["name"], hospital["name"]]
    for lang, close in (("zh", "关闭场所"), ("en", "Close assembly points")):
        page = _new_page(chromium, served)
        open_page(page, served.url("scenarios", scope=DISTRICT, scenario="按名称列出", lang=lang))
        page.locator(f"{DECK} canvas").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)  # the deck draws after the script run: whole before the screenshot
        listed = page.locator("[data-testid=stText]").all_inner_texts()
        for name in names:
            assert any(name in line for line in listed), (name, listed)
        assert f"{close}: {outside['name']} ({outside['code']})" in listed
        chosen = page.locator("[class*='st-key-scn-close-']").inner_text()  # the multiselect's chips
        assert f"{outside['name']} ({outside['code']})" in chosen, chosen
        screenshot(page, f"scenario-overrides-{lang}", whole=False)
        page.context.close()
    q.delete_scenario(engine, "按名称列出")
