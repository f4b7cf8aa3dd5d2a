# ruff: noqa: S608 - SQL built from this file's own constants: the point is a query with no WHERE of the app's
"""Jurisdiction in the query layer: an engine bound to a viewer's jurisdiction (queries.engine.within) refuses
every scope outside it and answers inside it as the unbound engine does; on PostGIS, row-level security keeps
a transaction whose setting is Yinzhou's to Yinzhou's rows with no WHERE clause of the app's; ui.data caches
answers per jurisdiction and reads nothing without a viewer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from access import Jurisdiction
from clock import now_utc
from errors import Message, OutsideJurisdiction
from queries import areas, facilities, incidents
from queries.engine import within
from queries.incidents import Filters, Window

CITY, YINZHOU, HAISHU = "330200", "330212", "330203"
YINZHOU_ONLY = Jurisdiction(YINZHOU, YINZHOU)
CITY_WIDE = Jurisdiction(CITY, "3302")


AT = now_utc()  # one moment for both sides of a comparison (overdue hours, windows)


def _window() -> Window:
    return Window(AT - timedelta(days=7), AT)


# Every reader of a scope the pages use (ui/data.py), called as the pages call it.
READERS: dict[str, Callable[[sa.Engine, str], object]] = {
    "scope_of": areas.scope_of,
    "ancestors_of": areas.ancestors_of,
    "children_of": areas.children_of,
    "areas_at_level": lambda e, c: areas.areas_at_level(e, c, "street"),
    "area_geometries": lambda e, c: areas.area_geometries(e, c, "street"),
    "incident_counts_by_child": lambda e, c: incidents.incident_counts_by_child(e, c, window=_window(),
                                                                                filters=Filters()),
    "incident_totals": lambda e, c: incidents.incident_totals(e, c, window=_window(), filters=Filters()),
    "incident_counts_by": lambda e, c: incidents.incident_counts_by(e, c, "category", window=_window(),
                                                                    filters=Filters()),
    "hourly_counts": lambda e, c: incidents.hourly_counts(e, c, window=_window(), filters=Filters()),
    "closed_loop_by_child": lambda e, c: incidents.closed_loop_by_child(e, c, window=_window(), filters=Filters()),
    "latest_incidents": incidents.latest_incidents,
    "overdue_incidents": lambda e, c: incidents.overdue_incidents(e, c, at=AT),
    "recent_incident_points": lambda e, c: incidents.recent_incident_points(e, c, since=AT - timedelta(hours=6)),
    "assembly_points_in_scope": facilities.assembly_points_in_scope,
    "hospitals_in_scope": facilities.hospitals_in_scope,
    "depots_in_scope": facilities.depots_in_scope,
    "stock_in_scope": facilities.stock_in_scope,
}


def _same(left: object, right: object) -> None:
    if isinstance(left, pd.DataFrame):
        assert isinstance(right, pd.DataFrame)
        pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True), check_like=True)
    else:
        assert left == right


@pytest.mark.parametrize("reader", READERS)
def test_a_reader_refuses_a_scope_outside_the_jurisdiction_and_answers_inside_as_before(engine, reader):
    read = READERS[reader]
    bound = within(engine, YINZHOU_ONLY)
    for outside in (HAISHU, CITY, HAISHU + "001"):
        with pytest.raises(OutsideJurisdiction) as refused:
            read(bound, outside)
        assert refused.value.message == Message("access.outside", code=outside, home=YINZHOU)
    street = areas.areas_at_level(engine, YINZHOU, "street")["code"].iloc[0]
    for inside in (YINZHOU, street):
        _same(read(bound, inside), read(engine, inside))
    _same(read(within(engine, CITY_WIDE), HAISHU), read(engine, HAISHU))


# PostGIS row-level security (revision 0005), seen by a role that is neither superuser nor owner, as the app's
# role in production must be (the tests' own role is a superuser, which row-level security never binds).

PROBE_ROLE = "cityops_rls_probe"


@pytest.fixture
def postgis(demo_engines) -> sa.Engine:
    return demo_engines("postgis")


@contextmanager
def as_viewer(engine: sa.Engine, prefix: str | None) -> Iterator[sa.Connection]:
    """A transaction as a non-superuser role, with the jurisdiction setting (none: a system connection)."""
    with engine.connect() as conn:
        with conn.begin():
            exists = conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{PROBE_ROLE}'").first()
            if not exists:
                conn.exec_driver_sql(f"CREATE ROLE {PROBE_ROLE} NOSUPERUSER NOBYPASSRLS NOLOGIN")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {PROBE_ROLE}")
            conn.exec_driver_sql(f"GRANT UPDATE ON hospital TO {PROBE_ROLE}")
        with conn.begin() as transaction:
            conn.exec_driver_sql(f"SET LOCAL ROLE {PROBE_ROLE}")
            if prefix is not None:
                conn.execute(sa.text("SELECT set_config('cityops.jurisdiction', :p, true)"), {"p": prefix})
            yield conn
            transaction.rollback()


def _count(conn: sa.Connection, sql: str) -> int:
    return int(conn.execute(sa.text(sql)).scalar_one())


# table -> the owner's count of the rows inside Yinzhou (with a WHERE clause), to compare with the probe's
# count of the whole table (without one)
INSIDE_YINZHOU = {
    "incident": f"SELECT count(*) FROM incident WHERE district_code = '{YINZHOU}'",
    "incident_rollup": f"SELECT count(*) FROM incident_rollup WHERE area_code LIKE '{YINZHOU}%'",
    "incident_rollup_day": f"SELECT count(*) FROM incident_rollup_day WHERE area_code LIKE '{YINZHOU}%'",
    "incident_close_rollup_day": f"SELECT count(*) FROM incident_close_rollup_day WHERE area_code LIKE '{YINZHOU}%'",
    "hospital": f"SELECT count(*) FROM hospital WHERE district_code = '{YINZHOU}'",
    "assembly_point": f"SELECT count(*) FROM assembly_point WHERE district_code = '{YINZHOU}'",
    "stock": "SELECT count(*) FROM stock s JOIN supply_depot d ON d.code = s.depot_code "
             f"WHERE d.district_code = '{YINZHOU}'",
    "incident_step": "SELECT count(*) FROM incident_step s JOIN incident i ON i.id = s.incident_id "
                     f"WHERE i.district_code = '{YINZHOU}'",
    "incident_contact": "SELECT count(*) FROM incident_contact c JOIN incident i ON i.id = c.incident_id "
                        f"WHERE i.district_code = '{YINZHOU}'",
}


def test_postgis_keeps_a_yinzhou_transaction_to_yinzhou_rows_with_no_where_clause(postgis):
    with postgis.connect() as owner:
        expected = {table: _count(owner, sql) for table, sql in INSIDE_YINZHOU.items()}
        everything = {table: _count(owner, f"SELECT count(*) FROM {table}") for table in INSIDE_YINZHOU}
    assert all(expected[t] > 0 for t in ("incident", "incident_rollup", "hospital", "stock")), expected
    assert all(expected[t] < everything[t] for t in ("incident", "incident_rollup", "hospital")), everything
    with as_viewer(postgis, YINZHOU) as conn:
        seen = {table: _count(conn, f"SELECT count(*) FROM {table}") for table in INSIDE_YINZHOU}
        districts = {row[0] for row in conn.exec_driver_sql("SELECT DISTINCT district_code FROM incident")}
    assert seen == expected
    assert districts == {YINZHOU}
    with as_viewer(postgis, None) as conn:  # a system connection (the intake): every row
        assert {table: _count(conn, f"SELECT count(*) FROM {table}") for table in INSIDE_YINZHOU} == everything


def test_postgis_lets_a_yinzhou_transaction_change_no_row_outside_yinzhou(postgis):
    with postgis.connect() as owner:
        hospital, = owner.exec_driver_sql(f"SELECT code FROM hospital WHERE district_code = '{YINZHOU}' LIMIT 1").one()
        haishu_grid, = owner.execute(sa.text(f"SELECT code FROM area WHERE level = 'grid' AND code LIKE '{HAISHU}%' "
                                             "LIMIT 1")).one()
    with as_viewer(postgis, YINZHOU) as conn:
        outside = conn.exec_driver_sql(f"UPDATE hospital SET name = name WHERE district_code = '{HAISHU}'")
        assert outside.rowcount == 0  # not there to change
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):  # nor to move a row out to
            conn.exec_driver_sql(f"UPDATE hospital SET grid_code = '{haishu_grid}' WHERE code = '{hospital}'")


def test_the_jurisdiction_setting_ends_with_its_transaction(postgis):
    bound = within(postgis, YINZHOU_ONLY)
    with bound.connect() as conn:
        assert conn.exec_driver_sql("SELECT current_setting('cityops.jurisdiction', true)").scalar_one() == YINZHOU
        conn.rollback()
        # the same database connection, past the app's transaction (the pool would hand it on like this)
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("SELECT current_setting('cityops.jurisdiction', true)")
        assert cursor.fetchone()[0] in ("", None)
        cursor.close()


# ui.data: answers cached per jurisdiction, nothing read without a viewer

def _two_viewers_read_haishu() -> None:  # pragma: no cover - AppTest runs its source as the app script
    import streamlit as st

    from access import Jurisdiction
    from errors import CityOpsError
    from queries.incidents import Filters
    from tests.test_jurisdiction import _window
    from ui import data

    window = _window()
    results = []
    for jurisdiction in (None, Jurisdiction("330200", "3302"), Jurisdiction("330212", "330212")):
        data.read_within(jurisdiction)
        try:
            results.append(str(data.totals("330203", window, Filters())["incidents"]))
        except CityOpsError as exc:
            results.append(type(exc).__name__)
    st.write(" ".join(results))


def test_ui_data_serves_a_cached_answer_only_within_the_jurisdiction_it_was_read_in(engine, monkeypatch):
    from settings import get_settings

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        app = AppTest.from_function(_two_viewers_read_haishu, default_timeout=60).run()
    finally:
        get_settings.cache_clear()
    assert not app.exception, [e.value for e in app.exception]
    total = incidents.incident_totals(engine, HAISHU, window=_window(), filters=Filters())["incidents"]
    assert app.markdown[0].value == f"AccountRefused {total} OutsideJurisdiction"
