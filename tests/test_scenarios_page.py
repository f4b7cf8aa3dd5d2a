"""The Scenarios page in AppTest: a typed hazard zone changes the figures as geopandas says; save and reload."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pytest
import sqlalchemy as sa
import streamlit as st
from shapely.geometry import Polygon
from streamlit.testing.v1 import AppTest

from geo.scenario import METRIC_CRS, evaluate, prepare_baseline, totals
from queries import scenarios as q
from queries.areas import area_geometries, children_of
from queries.facilities import assembly_points_in_scope
from scenario_model import Overrides
from settings import get_settings
from tests.apps import page_app
from tests.support import SMALL_DAYS, discard
from texts import term, text

DISTRICT = "330212"


@pytest.fixture
def writable(demo_templates, tmp_path) -> Iterator:
    """A fresh copy of the small demo city on SpatiaLite for each test (the page saves scenarios)."""
    engine = demo_templates.copy("sqlite", tmp_path, days=SMALL_DAYS)
    yield engine
    discard(engine)


@pytest.fixture
def page_on(writable, monkeypatch) -> Iterator:
    """AppTests of the Scenarios page on the writable database (settings and caches reset)."""
    monkeypatch.setenv("DATABASE_URL", writable.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()

    def make(**params: str) -> AppTest:
        return page_app("scenarios", timeout=90, **params).run()

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def _street_box(engine) -> list[tuple[float, float]]:
    """Corners (6 decimals, as a planner types them) of the box around the district's first street."""
    street = children_of(engine, DISTRICT)["code"].iloc[0]
    minx, miny, maxx, maxy = area_geometries(engine, street, "grid").total_bounds
    return [(round(x, 6), round(y, 6)) for x, y in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy))]


def _evacuees(engine, corners) -> int:
    """Residents of the district whose grid point lies in the zone, by geopandas (within, in UTM 51N)."""
    cells = area_geometries(engine, DISTRICT, "grid")
    points = gpd.GeoSeries(cells.representative_point(), crs="EPSG:4326").to_crs(METRIC_CRS)
    zone = gpd.GeoSeries([Polygon(corners)], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    return int(cells.loc[points.within(zone).to_numpy(), "population"].sum())


def _tiles(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def _type_zone(app: AppTest, text: str) -> AppTest:
    area = next(a for a in app.text_area if a.key is not None and a.key.startswith("scn-typed-"))
    area.input(text).run()
    return app.button(key="scn-use-typed").click().run()


def test_hazard_zone_save_and_reload(page_on, writable):
    corners = _street_box(writable)
    app = page_on(scope=DISTRICT)
    assert not app.exception, [e.value for e in app.exception]
    assert _tiles(app)["风险区需转移人数"] == "0"
    app = _type_zone(app, "\n".join(f"{x}, {y}" for x, y in corners))
    assert not app.exception and not app.error, [e.value for e in app.error]
    expected = _evacuees(writable, corners)
    assert expected > 0
    assert _tiles(app)["风险区需转移人数"] == f"{expected:,}"
    side = app.dataframe[0].value.set_index("指标")
    assert side.loc["风险区需转移人数", "基线"] == "0"
    assert side.loc["风险区需转移人数", "变化"] == f"{expected:,}"
    diff = app.dataframe[2].value
    assert diff.iloc[0]["变差"] == "▼"  # the areas that got worse come first
    app.text_input(key="scn-name").input("台风-梅花-预案A")
    app.text_input(key="scn-author").input("规划科")
    next(b for b in app.button if b.label == "保存方案").click().run()
    assert not app.error, [e.value for e in app.error]
    assert app.query_params["scenario"] == "台风-梅花-预案A"
    assert q.load_scenario(writable, "台风-梅花-预案A").overrides.hazard_zone["type"] == "Polygon"
    again = page_on(scope=DISTRICT, scenario="台风-梅花-预案A")
    assert _tiles(again)["风险区需转移人数"] == f"{expected:,}"
    q.delete_scenario(writable, "台风-梅花-预案A")


def test_a_bad_polygon_is_explained_and_changes_nothing(page_on, writable):
    app = page_on(scope=DISTRICT)
    before = q.list_scenarios(writable)
    app = _type_zone(app, "121.50, 29.80\n121.60, 29.90\n121.60, 29.80\n121.50, 29.90")
    # in the page's language (the English 'Self-intersection' of issue 12 item 17 no more), as plain text
    assert any("该面无效" in e.value for e in app.text), [e.value for e in (*app.error, *app.text)]
    assert _tiles(app)["风险区需转移人数"] == "0"
    next(b for b in app.button if b.label == "保存方案").click().run()
    assert any("名称：请为方案起一个" in e.value for e in app.text), [e.value for e in app.text]
    assert q.list_scenarios(writable).equals(before)


def test_compare_two_saved_scenarios_then_delete_one(page_on, writable):
    inputs = q.baseline_inputs(writable, DISTRICT, city_code=get_settings().city_code)
    baseline = prepare_baseline(**inputs)
    points = baseline.assembly[baseline.assembly["in_scope"] & (baseline.assembly["status"] == "open")]
    plan_a = Overrides(close=tuple(points["code"][:40]))
    plan_b = Overrides(close=tuple(points["code"][:5]))
    q.save_scenario(writable, "A", "amy", plan_a, facts=baseline.facts)
    q.save_scenario(writable, "B", "bo", plan_b, facts=baseline.facts)
    app = page_on(scope=DISTRICT, scenario="A")
    app.selectbox(key="scn-reference").select("B").run()
    assert not app.exception and not app.error
    side = app.dataframe[0].value.set_index("指标")
    assert list(side.columns) == ["B", "当前方案", "变化"]
    walk = get_settings().walking_distance_m
    for plan, column in ((plan_b, "B"), (plan_a, "当前方案")):
        figures = totals(baseline, evaluate(baseline, plan, walking_m=walk))
        assert side.loc["步行可达避难场所的居民占比", column] == f"{figures['coverage'] * 100:.1f}%"
        assert side.loc["避难容量缺口(人)", column] == f"{int(figures['shortfall']):,}"
    app.selectbox(key="scn-saved").select("B").run()
    app.button(key="scn-delete").click().run()
    assert list(q.list_scenarios(writable)["name"]) == ["A"]
    q.delete_scenario(writable, "A")


def test_city_scope_lists_every_community_but_maps_streets(page_on, writable):
    app = page_on(scope=get_settings().city_code)
    app.selectbox(key="scn-level").select("community").run()
    assert not app.exception and not app.error, [e.value for e in app.exception]
    communities = area_geometries(writable, get_settings().city_code, "community")
    assert len(app.dataframe[2].value) == len(communities)
    assert any(c.value == "统计层级: 街道(镇)" for c in app.caption)  # 3,000 polygons would be too heavy


def _capacity_form(app: AppTest):
    """The number input and Set button of the 'change a capacity' form."""
    value = next(n for n in app.number_input if n.key is not None and n.key.startswith("scn-capacity-value-"))
    button = next(b for b in app.button if b.label == "设定" and b.form_id.startswith("scn-capacity-"))
    return value, button


def test_changing_a_capacity_needs_a_value_and_moves_the_shortfall_by_it(page_on, writable):
    app = page_on(scope=DISTRICT)
    shortfall = _tiles(app)["避难容量缺口(人)"]
    value, button = _capacity_form(app)
    assert value.value is None  # no made-up default that a hurried click would apply
    app = button.click().run()
    assert any("请先输入新数值" in w.value for w in app.warning)
    assert _tiles(app)["避难容量缺口(人)"] == shortfall
    point = next(s for s in app.selectbox if s.label == "应急避难场所")
    code = point.value
    points = assembly_points_in_scope(writable, DISTRICT).set_index("code")
    value, button = _capacity_form(app)
    value.set_value(0)
    app = button.click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    before = int(shortfall.replace(",", ""))
    assert before > 0  # the district is short of places, so every place lost adds to the shortfall
    lost = int(points.loc[code, "capacity"]) if points.loc[code, "status"] == "open" else 0
    assert _tiles(app)["避难容量缺口(人)"] == f"{before + lost:,}"


def _database_names(engine, table: str, codes) -> dict[str, str]:
    """Names as the database holds them, read with plain SQL (not the app's queries)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT code, name FROM {table} WHERE code IN :codes")  # noqa: S608
                            .bindparams(sa.bindparam("codes", expanding=True)), {"codes": sorted(codes)})
        return dict(rows.all())


def _overrides_naming_the_city(engine) -> dict:
    """A draft that names points in and outside the district, a hospital and a depot elsewhere, an area."""
    with engine.connect() as conn:
        inside = conn.execute(sa.text("SELECT code FROM assembly_point WHERE district_code = :d AND status = 'open' "
                                      "ORDER BY code LIMIT 2"), {"d": DISTRICT}).scalars().all()
        outside = conn.execute(sa.text("SELECT code FROM assembly_point WHERE district_code <> :d ORDER BY code "
                                       "LIMIT 1"), {"d": DISTRICT}).scalar_one()
        hospital = conn.execute(sa.text("SELECT code FROM hospital WHERE district_code <> :d ORDER BY code LIMIT 1"),
                                {"d": DISTRICT}).scalar_one()
        depot, item = conn.execute(sa.text("SELECT depot_code, item FROM stock ORDER BY depot_code DESC, item "
                                           "LIMIT 1")).one()
        street = conn.execute(sa.text("SELECT code FROM area WHERE parent_code = :d ORDER BY code LIMIT 1"),
                              {"d": DISTRICT}).scalar_one()
    return Overrides(close=(inside[0], outside), capacities={inside[1]: 10},
                     beds=({"hospital_code": hospital, "bed_type": "icu", "total": 5},),
                     stock=({"depot_code": depot, "item": item, "quantity": 1},),
                     multipliers=({"category": "greening", "area_code": street, "factor": 2},)
                     ).model_dump(mode="json")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_override_is_listed_by_its_facilitys_name(page_on, writable, lang):
    draft = _overrides_naming_the_city(writable)
    app = page_app("scenarios", timeout=90, scope=DISTRICT, lang=lang)
    app.session_state["scn.draft"] = draft
    app.run()
    assert not app.exception and not app.error, [e.value for e in app.exception]
    listed = [e.value for e in app.text]
    names = {**_database_names(writable, "assembly_point", [*draft["close"], *draft["capacities"]]),
             **_database_names(writable, "hospital", [b["hospital_code"] for b in draft["beds"]]),
             **_database_names(writable, "supply_depot", [s["depot_code"] for s in draft["stock"]]),
             **_database_names(writable, "area", [m["area_code"] for m in draft["multipliers"]])}
    assert len(names) == 6
    for code, name in names.items():
        assert any(name in line and code in line for line in listed), (code, name, listed)
    assert len(listed) == 6  # one line per override, each naming its place
    assert any(term("category", "greening", lang) in line for line in listed)
    other = "en" if lang == "zh" else "zh"
    assert not any(text("scn_close", other) in line for line in listed)
    assert any(line.startswith(text("scn_close", lang)) for line in listed)
