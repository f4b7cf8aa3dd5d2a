"""Query plans of the hot dashboard queries: every read of a big table is an index search (SQLite; the roll-ups
also on PostGIS)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from queries import areas, scenarios
from queries import incidents as qi
from queries.incidents import Filters, Window

SCOPES = ("330200", "330212", "330212001", "330212001001", "330212001001001")
WATCHED = ("incident", "incident_rollup", "incident_close_rollup", "area")
FILTER_SETS = (Filters(), Filters(categories=("fire", "disputes"), sources=("hotline_12345",)),
               Filters(statuses=("closed",)))
# "SEARCH t USING ..." seeks an index; "SCAN t" (with or without an index) reads all of t.
PLAN_LINE = re.compile(r"^(SEARCH|SCAN) (\w+)")
CITY = SCOPES[0]
ROLLUPS = ("incident_rollup", "incident_rollup_day", "incident_close_rollup", "incident_close_rollup_day")


@pytest.fixture(scope="module")
def sqlite_engine(demo_engines):
    return demo_engines("sqlite")


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, tuple]]]:
    """Every statement and parameter set the engine sends while the block runs."""
    statements: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def hot_calls(engine) -> list[tuple[str, Callable[[], object]]]:
    end = datetime.fromisoformat(areas.dataset_facts(engine)["built_at"])
    calls: list[tuple[str, Callable[[], object]]] = []
    # windows inside the 2 days of test data: with SQLite's range statistics a window covering the
    # whole table is rightly read with a scan, which says nothing about a year of incidents
    for hours in (1, 6, 24):
        window = Window(end - timedelta(hours=hours), end)
        for scope in SCOPES:
            for filters in FILTER_SETS:
                tag = f"{scope} {hours}h {filters}"
                # partial binds this iteration's scope, window and filters
                calls += [
                    (f"incident_counts_by_child {tag}",
                     partial(qi.incident_counts_by_child, engine, scope, window=window, filters=filters)),
                    (f"incident_totals {tag}",
                     partial(qi.incident_totals, engine, scope, window=window, filters=filters)),
                    (f"hourly_counts {tag}", partial(qi.hourly_counts, engine, scope, window=window, filters=filters)),
                    (f"closed_loop_by_child {tag}",
                     partial(qi.closed_loop_by_child, engine, scope, window=window, filters=filters)),
                    (f"incident_counts_by {tag}",
                     partial(qi.incident_counts_by, engine, scope, "status", window=window, filters=filters)),
                ]
    calls += [(f"overdue_count {scope}", partial(qi.overdue_count, engine, scope)) for scope in SCOPES]
    calls += [(f"held_count {scope}", partial(qi.held_count, engine, scope)) for scope in SCOPES]
    calls += [(f"overdue_incidents {scope}", partial(qi.overdue_incidents, engine, scope)) for scope in SCOPES]
    return calls


def plan_problems(engine, statements: list[tuple[str, tuple]]) -> tuple[list[str], set[str]]:
    """Plan lines that read a watched table without an index search, and the tables searched."""
    problems, searched = [], set()
    with engine.connect() as conn:
        for statement, parameters in dict.fromkeys(statements):
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                match = PLAN_LINE.match(row[-1])
                if not match or match.group(2) not in WATCHED:
                    continue
                if match.group(1) == "SEARCH":
                    searched.add(match.group(2))
                else:
                    problems.append(f"{row[-1]}\n    in: {' '.join(statement.split())[:240]}")
    return problems, searched


def test_hot_queries_search_an_index(sqlite_engine):
    with captured(sqlite_engine) as statements:
        for _, call in hot_calls(sqlite_engine):
            call()
    assert len(statements) > 500
    problems, searched = plan_problems(sqlite_engine, [(s, tuple(p)) for s, p in statements])
    assert not problems, "full scans in hot queries:\n" + "\n".join(sorted(set(problems)))
    assert searched == set(WATCHED)


def test_the_plan_check_catches_a_full_scan(sqlite_engine):
    statement = "SELECT sum(n) FROM incident_rollup WHERE n > ?"  # no index on n
    problems, _ = plan_problems(sqlite_engine, [(statement, (0,))])
    assert problems and "SCAN incident_rollup" in problems[0]


def _postgres_scans(node: dict) -> Iterator[tuple[str, str]]:
    """(node type, relation) of every scan in an EXPLAIN (FORMAT JSON) plan tree, InitPlans and subplans included."""
    if "Relation Name" in node:
        yield node["Node Type"], node["Relation Name"]
    for child in node.get("Plans", ()):
        yield from _postgres_scans(child)


def rollup_scans(engine, statements: list[tuple[str, object]]) -> tuple[list[str], set[str]]:
    """Reads of a roll-up table that are no index search (SQLite SCAN, PostgreSQL Seq Scan), and the roll-ups read."""
    problems, read, seen = [], set(), set()
    with engine.connect() as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT") or (statement, repr(parameters)) in seen:
                continue
            seen.add((statement, repr(parameters)))
            if engine.dialect.name == "sqlite":
                lines = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                scans = [(m.group(1), m.group(2)) for m in map(PLAN_LINE.match, lines) if m]
                bad = {"SCAN"}
            else:
                plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
                scans = list(_postgres_scans(plan[0]["Plan"]))
                bad = {"Seq Scan"}
            for kind, table in scans:
                if table in ROLLUPS:
                    read.add(table)
                    if kind in bad:
                        problems.append(f"{kind} {table}\n    in: {' '.join(statement.split())[:240]}")
    return problems, read


def test_the_scenario_city_wide_read_seeks_the_rollups_on_both_backends(engine):
    """The scenario page's incidents per community and category over the whole city (3,000 communities,
    children of every street): a sequential scan of a roll-up grows with its history, not with the window."""
    end = datetime.fromisoformat(areas.dataset_facts(engine)["built_at"])
    window = Window(end - timedelta(hours=24), end)  # whole days and ragged hours: both grains are read
    with captured(engine) as statements:
        inputs = scenarios.baseline_inputs(engine, CITY, city_code=CITY, window=window)
    assert inputs["incidents"]["community_code"].nunique() > 1000
    problems, read = rollup_scans(engine, [(s, p) for s, p in statements if "rollup" in s])
    assert not problems, "sequential scans of roll-ups:\n" + "\n".join(sorted(set(problems)))
    assert read == {"incident_rollup", "incident_rollup_day"}


def test_hot_queries_seek_the_rollups_on_both_backends(engine):
    with captured(engine) as statements:
        for _, call in hot_calls(engine):
            call()
    problems, read = rollup_scans(engine, [(s, p) for s, p in statements if "rollup" in s])
    assert not problems, "sequential scans of roll-ups:\n" + "\n".join(sorted(set(problems)))
    assert read == set(ROLLUPS)
