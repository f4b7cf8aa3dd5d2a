"""AppTest runs of every page at every level of scope: no exception, and KPI tiles equal the query layer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from clock import epoch_hour, hour_start, local_day_start_utc, now_utc
from queries import areas, facilities
from queries.incidents import Window, incident_totals
from settings import get_settings
from tests.apps import signed_in
from tests.support import markdown_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ("pages/overview.py", "pages/incidents.py", "pages/resources.py")
LEVELS = ("city", "district", "street", "community", "grid")
CITY, DISTRICT = "330200", "330212"
BAD_URL_TEXT = "链接参数有误"  # the start of the page's friendly message (ui.i18n "bad_url")


def today_window() -> Window:
    """Local midnight to the end of the current hour: the dashboard's default window ('today')."""
    return Window(local_day_start_utc(), hour_start(epoch_hour(now_utc()) + 1))


def _int(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def _pct(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.1f}%"


def _num(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:,.1f}"


def kpi_figures(engine: Engine, code: str) -> dict[str, dict[str, str]]:
    """The KPI tiles each page should show for a scope (window 'today', no filters), as text.

    Counted here from the query layer's rows, not through the pages' summary helpers.
    Keyed by page ("overview", "incidents", "resources"), then by the tile's Chinese label.
    """
    totals = incident_totals(engine, code, window=today_window())
    population = areas.scope_of(engine, code).population
    hospitals = facilities.hospitals_in_scope(engine, code)
    points = facilities.assembly_points_in_scope(engine, code)
    stock = facilities.stock_in_scope(engine, code)
    beds_total, beds_occupied = int(hospitals["beds_total"].sum()), int(hospitals["beds_occupied"].sum())
    occupancy = beds_occupied / beds_total if beds_total else None
    open_capacity = int(points.loc[points["status"] == "open", "capacity"].sum())
    per_100 = open_capacity / population * 100 if population else None
    incidents = {
        "时段事件": _int(totals["incidents"]), "结案率": _pct(totals["disposal_rate"]),
        "结案用时中位数(小时)": _num(totals["median_hours"]), "当前超期": _int(totals["overdue"]),
        "挂账/督查": _int(totals["held"]),
    }
    return {
        "overview": {
            "今日事件": _int(totals["incidents"]), **incidents, "未结案": _int(totals["open"]),
            "可用床位": _int(beds_total - beds_occupied), "床位使用率": _pct(occupancy),
            "每百人避难容量": _num(per_100),
            "低于储备下限物资": _int((stock["quantity"] < stock["min_level"]).sum()),
        },
        "incidents": {**incidents, "按期结案率": _pct(totals["on_time_rate"])},
        "resources": {
            "应急避难场所": _int(len(points)), "容量(人)": _int(open_capacity), "常住人口": _int(population),
            "每百人容量": _num(per_100), "可用床位": _int(beds_total - beds_occupied),
            "床位使用率": _pct(occupancy), "可转换应急床位": _int(hospitals["convertible_beds"].sum()),
            "ICU": _int((hospitals["icu_total"] - hospitals["icu_occupied"]).sum()),
        },
    }


def scope_at_level(engine: Engine, level: str) -> str:
    """An area code of the level inside Yinzhou (first child at each step down)."""
    code = CITY if level == "city" else DISTRICT
    for _ in range(LEVELS.index(level) - 1):
        code = areas.children_of(engine, code)["code"].iloc[0]
    return code


def ancestor_names(engine: Engine, code: str) -> list[str]:
    """City, district, ... down to the area: looked up level by level from the parents' children."""
    names, parent = [areas.scope_of(engine, CITY).name], CITY
    for length in (6, 9, 12, 15):
        if len(code) < length or code == CITY:
            break
        children = areas.children_of(engine, parent)
        names.append(children.loc[children["code"] == code[:length], "name"].iloc[0])
        parent = code[:length]
    return names


@pytest.fixture
def app_on(engine, monkeypatch) -> Iterator:
    """Make AppTests of app.py reading the test database (settings and Streamlit caches reset)."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()

    def make(page: str = PAGES[0], **params: str) -> AppTest:
        app = signed_in(AppTest.from_file(APP, default_timeout=60))
        if page != PAGES[0]:
            app.run()  # st.navigation registers the pages in a first run; then the page can be picked
            app.switch_page(page)
        for name, value in params.items():
            app.query_params[name] = value
        app.run()
        return app

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()  # the next call reads the environment again, as restored


def shown(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def breadcrumb_labels(app: AppTest) -> list[str]:
    return [markdown_text(button.label) for button in app.button if button.key and button.key.startswith("crumb-")]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_and_shows_the_query_layers_figures(app_on, engine, page, level):
    code = scope_at_level(engine, level)
    before = kpi_figures(engine, code)
    app = app_on(page, scope=code)
    after = kpi_figures(engine, code)
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    assert not app.warning, [w.value for w in app.warning]
    assert app.query_params["scope"] == code
    assert breadcrumb_labels(app) == ancestor_names(engine, code)
    key = Path(page).stem
    on_screen = shown(app)
    for label in after[key]:
        # Figures that move with the clock (overdue) may tick between the two computations.
        assert on_screen.get(label) in {before[key][label], after[key][label]}, (label, on_screen)


# Independent of queries/: the live backlog (open, neither parked nor escalated) past due.
OVERDUE_IDS = sa.text("SELECT id FROM incident WHERE due_at < :at "
                      "AND status IN ('reported', 'dispatched', 'handling', 'resolved')")


def test_the_incidents_page_lists_the_overdue_items_and_the_overview_links_to_them(app_on, engine):
    with engine.connect() as conn:
        before = set(conn.execute(OVERDUE_IDS, {"at": now_utc()}).scalars())
        app = app_on("pages/incidents.py", scope=CITY)
        after = set(conn.execute(OVERDUE_IDS, {"at": now_utc()}).scalars())
    assert not app.exception and not app.error
    table = next(frame.value for frame in app.dataframe if "超期时长(小时)" in frame.value.columns)
    listed = set(table["事件编号"])
    assert before <= listed <= after and before  # exactly the overdue items (one may fall due meanwhile)
    assert table["超期时长(小时)"].is_monotonic_decreasing and (table["超期时长(小时)"] > 0).all()
    assert shown(app)["当前超期"] in {f"{len(before):,}", f"{len(after):,}"}
    assert any("未挂账、未督查" in (metric.help or "") for metric in app.metric)  # it says what it counts
    overview = app_on(scope=CITY)
    links = [e.proto for e in overview.get("page_link") if "超期事件" in e.proto.label]
    assert len(links) == 1 and links[0].page == "incidents", links


def test_scopes_differ_so_the_figures_are_not_trivially_equal(engine):
    city, district = kpi_figures(engine, CITY), kpi_figures(engine, DISTRICT)
    assert city["resources"]["常住人口"] != district["resources"]["常住人口"]
    assert city["resources"]["可用床位"] != district["resources"]["可用床位"]


@pytest.mark.parametrize("page", PAGES)
def test_unknown_scope_warns_and_falls_back_to_the_city(app_on, engine, page):
    app = app_on(page, scope="999999")
    assert not app.exception
    assert len(app.warning) == 1 and app.warning[0].value.startswith(BAD_URL_TEXT)
    assert "999999" in markdown_text(app.warning[0].value)
    assert app.query_params["scope"] == CITY
    assert breadcrumb_labels(app) == [areas.scope_of(engine, CITY).name]
    city = kpi_figures(engine, CITY)[Path(page).stem]
    moving = "当前超期"  # overdue moves with the clock
    assert {k: v for k, v in shown(app).items() if k != moving} == {k: v for k, v in city.items() if k != moving}


@pytest.mark.parametrize(("params", "named", "scope"), [
    ({"scope": "33021x"}, "33021x", CITY),
    ({"scope": DISTRICT, "window": "2024-13-45"}, "2024-13-45", DISTRICT),
    ({"scope": DISTRICT, "layers": "grids,<script>"}, "<script>", DISTRICT),
    ({"scope": DISTRICT, "category": "no-such-category"}, "no-such-category", DISTRICT),
])
def test_malformed_url_parts_are_named_in_a_friendly_message(app_on, engine, params, named, scope):
    app = app_on(**params)
    assert not app.exception and not app.error
    assert len(app.warning) == 1 and app.warning[0].value.startswith(BAD_URL_TEXT)
    assert named in markdown_text(app.warning[0].value)
    assert breadcrumb_labels(app) == ancestor_names(engine, scope)
    assert len(app.metric) == 11  # the page still draws its tiles


def test_sidebar_scope_picker_moves_the_view(app_on, engine):
    app = app_on(scope=CITY)
    app.selectbox(key=f"scope-picker-{CITY}").set_value(DISTRICT).run()
    assert not app.exception
    assert app.query_params["scope"] == DISTRICT
    assert breadcrumb_labels(app) == ancestor_names(engine, DISTRICT)


def test_a_rerun_carrying_the_old_sidebar_values_does_not_undo_a_drill_down(app_on, engine):
    """The browser can send a rerun (the live fragment's timer) with the widget values it drew
    before a drill-down reached it; those stale values must not move the view back up."""
    app = app_on(scope=CITY, window="24h", lang="zh")
    drawn_at_city = app._tree.get_widget_states()  # what the browser still holds
    app.query_params["scope"] = DISTRICT  # the drill-down (set_view) as the next run sees it
    app.run()
    app._run(drawn_at_city)  # AppTest has no public way to send stale widget values
    assert not app.exception
    assert app.query_params["scope"] == DISTRICT
    assert app.query_params["window"] == "24h"
    assert breadcrumb_labels(app) == ancestor_names(engine, DISTRICT)


def test_layers_changed_in_the_url_are_not_undone_by_the_layer_picker(app_on):
    """The back button restores an earlier URL; the layer toggles must follow it, not write theirs back."""
    app = app_on(scope=DISTRICT, layers="grids,depots")
    app.query_params["layers"] = "hospitals"
    app.run()
    assert not app.exception
    assert app.query_params["layers"] == "hospitals"
    assert app.button_group(key="layer-picker-hospitals").value == ["hospitals"]


def test_filters_changed_in_the_url_are_not_undone_by_the_filter_widgets(app_on):
    app = app_on("pages/incidents.py", scope=DISTRICT, category="flood_typhoon,environment")
    app.query_params["category"] = "environment"
    app.run()
    assert not app.exception
    assert app.query_params["category"] == "environment"
    assert app.multiselect(key="filter-category-environment").value == ["environment"]


def test_a_scope_changed_in_the_url_is_not_undone_by_the_sidebar(app_on, engine):
    """A drill-down, a breadcrumb or the back button changes the URL; the picker must follow it."""
    app = app_on(scope=DISTRICT)
    street = scope_at_level(engine, "street")
    app.query_params["scope"] = street
    app.run()
    app.query_params["scope"] = "330203"
    app.run()
    assert not app.exception
    assert app.query_params["scope"] == "330203"
    assert breadcrumb_labels(app) == ancestor_names(engine, "330203")
    assert app.selectbox(key="scope-picker-330203").value == "330203"


CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.mark.parametrize("page", [*PAGES, "pages/scenarios.py", "pages/briefing.py"])
def test_the_english_pages_label_everything_in_english(app_on, page):
    """With lang=en every title, KPI label and table header is English (place names stay Chinese)."""
    app = app_on(page, scope=DISTRICT, lang="en")
    assert not app.exception and not app.error
    labels = [e.value for e in (*app.title, *app.subheader, *app.header)] + [m.label for m in app.metric]
    labels += [str(column) for frame in app.dataframe for column in frame.value.columns]
    assert len(labels) > 5
    assert [label for label in labels if CJK.search(label)] == []
