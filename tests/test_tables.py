"""Tables hand numbers to st.dataframe (formatted by column_config), so a click on a header sorts numerically;
the Resources page tells a city total below its minimum from depots below theirs."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from queries import facilities
from queries.incidents import closed_loop_by_child
from settings import get_settings
from tests.apps import page_app
from tests.test_pages_apptest import today_window
from texts import text

CITY = "330200"


@pytest.fixture
def page(demo_engines, monkeypatch) -> Iterator:
    """Run a framed page on the SpatiaLite demo city (settings and Streamlit caches reset)."""
    engine = demo_engines("sqlite")
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()

    def run(key: str, scope: str) -> AppTest:
        app = page_app(key, scope=scope)
        app.run()
        assert not app.exception
        return app

    yield engine, run
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def _frame_with(app: AppTest, column: str) -> pd.DataFrame:
    frames = [d.value for d in app.dataframe if column in d.value.columns]
    assert frames, f"no table with a column {column}"
    return frames[0]


def _sorts_as_numbers(column: pd.Series, expected: pd.Series) -> None:
    """The column holds numbers (the table sorts them as numbers), equal to the expected ones in its order."""
    assert column.dtype.kind in "if", column.dtype
    assert column.sort_values().tolist() == pytest.approx(expected.sort_values().tolist(), nan_ok=True)


def test_closed_loop_rates_are_numbers_in_the_incidents_table(page):
    engine, run = page
    app = run("incidents", scope=CITY)
    frame = _frame_with(app, text("disposal_rate", "zh"))
    loop = closed_loop_by_child(engine, CITY, window=today_window())
    for key in ("disposal_rate", "on_time_rate"):
        _sorts_as_numbers(frame[text(key, "zh")], loop[key] * 100)
    _sorts_as_numbers(frame[text("median_hours", "zh")], loop["median_hours"])


def test_resources_tables_hold_numbers_and_name_the_depots_below_their_minimum(page):
    engine, run = page
    app = run("resources", scope=CITY)
    hospitals = facilities.hospitals_in_scope(engine, CITY)
    _sorts_as_numbers(_frame_with(app, text("occupancy", "zh"))[text("occupancy", "zh")],
                      hospitals["beds_occupied"] / hospitals["beds_total"] * 100)
    lines = facilities.stock_in_scope(engine, CITY)
    shown = _frame_with(app, text("depots_below_min", "zh")).set_index(text("item", "zh"))
    totals = lines.groupby("item")[["quantity", "min_level"]].sum()
    _sorts_as_numbers(shown[text("quantity", "zh")], totals["quantity"])
    for item, total in totals.iterrows():
        row = shown.loc[item]
        short = sorted(lines.loc[(lines["item"] == item) & (lines["quantity"] < lines["min_level"]), "depot_name"])
        assert row[text("depots_below_min", "zh")] == "、".join(short), item
        # a city total is marked below its minimum only when it is
        assert bool(row[text("below_min", "zh")]) == (total["quantity"] < total["min_level"]), item
    # the demo city has depots below their minimum while its totals are above theirs (the case)
    assert (shown[text("depots_below_min", "zh")] != "").any()
    assert not (totals["quantity"] < totals["min_level"]).all()
