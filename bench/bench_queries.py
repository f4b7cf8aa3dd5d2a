"""Benchmark: the dashboard queries on a year of incidents (budget p95 <= 50 ms on SpatiaLite at 4M rows).

Run: .venv/bin/python bench/bench_queries.py [--days 365] [--backends sqlite,postgis] [--reps 20]
                                             [--start-postgis] [--reuse] [--no-write]
Builds the demo city with `days` of incidents into a fresh SpatiaLite file under /tmp (and into a
PostGIS database when CITYOPS_TEST_POSTGRES_URL is set or --start-postgis is given), times every
query function at city, district, street, community and grid scope for 24 h, 7 d and 30 d windows,
and times the same GROUP BY counts on the raw rows in an in-memory DuckDB (the "as fast as a
column store scanning raw rows can be" reference). Writes its section of bench/results.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb
import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from bench.postgis_database import postgis_database
from bench.results_file import RESULTS, write_section
from clock import now_utc
from demo.build import build_demo
from queries import areas, facilities
from queries import incidents as qi
from queries.engine import make_engine
from queries.incidents import Filters, Window
from queries.rollups import ROLLUP_TABLES
from queries.schema import incident
from settings import get_settings

BUDGET_MS = 50.0
NAME = "bench_queries"  # its section of bench/results.md
POSTGRES_ENV = "CITYOPS_TEST_POSTGRES_URL"  # the test server's URL, as the test suite reads it
PG_STATE = ROOT / "tmp" / "postgis-bench-queries.state"
CITY = get_settings().city_code
LEVELS = ("city", "district", "street", "community", "grid")
WINDOWS = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}
FILTERED = Filters(categories=("city_appearance", "street_order"), sources=("hotline_12345",))
PLAN_LINE = re.compile(r"^(SEARCH|SCAN) ")


@dataclass
class Case:
    function: str
    level: str
    window: str
    call: Callable[[], object]
    times_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return float(np.median(self.times_ms))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.times_ms, 95))


@dataclass
class BackendRun:
    name: str
    engine: Engine
    build_s: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    size: str = ""
    cases: list[Case] = field(default_factory=list)
    plans: dict[str, list[str]] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# --- databases ---------------------------------------------------------------------------------


def sqlite_url(days: float) -> str:
    return f"sqlite:////tmp/cityops-bench-queries-{days:g}d.sqlite"


def sqlite_file(url: str | URL) -> Path:
    database = make_url(url).database
    assert database, f"{url} names no database file"
    return Path(database)


def remove_sqlite(url: str) -> None:
    path = sqlite_file(url)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def postgres_database(base_url: str, days: float, fresh: bool) -> str:
    """URL of the benchmark's own database on the server (dropped and re-created when fresh)."""
    return postgis_database(base_url, f"cityops_bench_{int(days)}d", fresh=fresh)


def start_postgis() -> str:
    env = {**os.environ, "CITYOPS_PG_STATE": str(PG_STATE)}
    out = subprocess.run([str(ROOT / "scripts" / "start-postgis"), "start"], env=env, check=True,  # noqa: S603
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def stop_postgis() -> None:
    env = {**os.environ, "CITYOPS_PG_STATE": str(PG_STATE)}
    subprocess.run([str(ROOT / "scripts" / "start-postgis"), "stop"], env=env, check=False)  # noqa: S603


def has_data(engine: Engine, days: float) -> bool:
    try:
        return float(areas.dataset_facts(engine).get("days", -1)) == days
    except sa.exc.SQLAlchemyError:
        return False


def build(run: BackendRun, days: float, end: datetime) -> None:
    started = time.perf_counter()
    steps: list[tuple[str, float]] = []

    def progress(step: str) -> None:
        steps.append((step, time.perf_counter()))
        log(f"{run.name}: {step}")

    build_demo(run.engine, days=days, with_contacts=False, end=end, progress=progress)
    run.build_s = time.perf_counter() - started
    log(f"{run.name}: built in {run.build_s:.0f} s")


def describe(run: BackendRun) -> None:
    with run.engine.connect() as conn:
        for table in (incident, *ROLLUP_TABLES):
            run.counts[table.name] = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
        if run.name == "postgis":
            size = conn.execute(sa.select(sa.func.pg_database_size(sa.func.current_database()))).scalar_one()
            run.size = f"{size / 1e9:.1f} GB"
    if run.name == "sqlite":
        path = sqlite_file(run.engine.url)
        files = [Path(f"{path}{suffix}") for suffix in ("", "-wal")]
        run.size = f"{sum(f.stat().st_size for f in files if f.exists()) / 1e9:.1f} GB"


# --- cases -------------------------------------------------------------------------------------


def pick_scopes(engine: Engine, window: Window) -> dict[str, str]:
    """The busiest area at each level (the worst case for a scope's query), found top-down."""
    scopes, code = {"city": CITY}, CITY
    for level in LEVELS[1:]:
        counts = qi.incident_counts_by_child(engine, code, window=window)
        code = counts.sort_values("incidents", ascending=False)["code"].iloc[0]
        scopes[level] = code
    return scopes


def make_cases(engine: Engine, scopes: dict[str, str], end: datetime) -> list[Case]:
    cases = []
    for window_name, hours in WINDOWS.items():
        window = Window(end - timedelta(hours=hours), end)
        for level, code in scopes.items():
            def add(name: str, call: Callable[[], object], lv: str = level, wn: str = window_name) -> None:
                cases.append(Case(name, lv, wn, call))

            # partial binds this iteration's code and window
            add("incident_counts_by_child", partial(qi.incident_counts_by_child, engine, code, window=window))
            add("incident_counts_by_child +filters",
                partial(qi.incident_counts_by_child, engine, code, window=window, filters=FILTERED))
            for dim in ("category", "source", "status"):
                add(f"incident_counts_by {dim}", partial(qi.incident_counts_by, engine, code, dim, window=window))
            add("hourly_counts", partial(qi.hourly_counts, engine, code, window=window))
            add("incident_totals", partial(qi.incident_totals, engine, code, window=window))
            add("incident_totals +filters", partial(qi.incident_totals, engine, code, window=window, filters=FILTERED))
            if level != "grid":
                add("closed_loop_by_child", partial(qi.closed_loop_by_child, engine, code, window=window))
    for level, code in scopes.items():
        def add_now(name: str, call: Callable[[], object], lv: str = level) -> None:
            cases.append(Case(name, lv, "now", call))

        add_now("overdue_count", partial(qi.overdue_count, engine, code, at=end))
        add_now("latest_incidents", partial(qi.latest_incidents, engine, code, limit=50))
        add_now("recent_incident_points 1h",
                partial(qi.recent_incident_points, engine, code, since=end - timedelta(hours=1)))
        add_now("assembly_points_in_scope", partial(facilities.assembly_points_in_scope, engine, code))
        add_now("depots_in_scope", partial(facilities.depots_in_scope, engine, code))
        add_now("stock_in_scope", partial(facilities.stock_in_scope, engine, code))
        add_now("hospitals_in_scope", partial(facilities.hospitals_in_scope, engine, code))
    return cases


def time_cases(cases: list[Case], reps: int) -> None:
    for number, case in enumerate(cases, 1):
        case.call()  # warm-up: the first call pays for cold pages and a new pooled connection
        for _ in range(reps):
            started = time.perf_counter()
            case.call()
            case.times_ms.append((time.perf_counter() - started) * 1000)
        if number % 20 == 0:
            log(f"  {number}/{len(cases)} cases timed")


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, tuple]]]:
    statements: list[tuple[str, tuple]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, tuple(parameters)))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def sqlite_plans(engine: Engine, case: Case) -> list[str]:
    """EXPLAIN QUERY PLAN of every SELECT a case sends, with its timing on its own."""
    with captured(engine) as statements:
        case.call()
    lines = []
    with engine.connect() as conn:
        for statement, parameters in dict.fromkeys(statements):
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            started = time.perf_counter()
            conn.exec_driver_sql(statement, parameters).fetchall()
            took = (time.perf_counter() - started) * 1000
            plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            lines.append(f"{took:7.1f} ms  {' '.join(statement.split())[:160]}")
            lines += [f"            {p}" for p in plan if PLAN_LINE.match(p)]
    return lines


# --- DuckDB reference --------------------------------------------------------------------------

DUCK_COLUMNS = ("report_hour", "category", "source", "status", "district_code", "street_code",
                "community_code", "grid_code")
CHILD_COLUMN = {"city": "district_code", "district": "street_code", "street": "community_code",
                "community": "grid_code", "grid": "grid_code"}
SCOPE_COLUMN = {"district": "district_code", "street": "street_code", "community": "community_code",
                "grid": "grid_code"}


def load_duckdb(engine: Engine) -> tuple[duckdb.DuckDBPyConnection, int, float]:
    """The raw incident rows in an in-memory DuckDB table (loaded in chunks from the database)."""
    started = time.perf_counter()
    duck = duckdb.connect(":memory:")
    statement = sa.select(*(incident.c[c] for c in DUCK_COLUMNS))
    with engine.connect() as conn:
        for number, chunk in enumerate(pd.read_sql(statement, conn, chunksize=500_000)):
            chunk = chunk.astype({c: "object" for c in DUCK_COLUMNS if c != "report_hour"})
            duck.register("chunk", chunk)
            if number == 0:
                duck.execute("CREATE TABLE inc AS SELECT * FROM chunk")
            else:
                duck.execute("INSERT INTO inc SELECT * FROM chunk")
            duck.unregister("chunk")
    counted = duck.execute("SELECT count(*) FROM inc").fetchone()
    assert counted is not None  # count(*) always answers one row
    return duck, int(counted[0]), time.perf_counter() - started


def duck_rows(duck: duckdb.DuckDBPyConnection, sql: str, params: tuple) -> list[tuple]:
    return duck.execute(sql, params).fetchall()


def duck_cases(duck: duckdb.DuckDBPyConnection, scopes: dict[str, str], end: datetime) -> list[Case]:
    """The roll-up queries' answers computed from raw rows: counts by child, category, hour, status."""
    cases = []
    for window_name, hours in WINDOWS.items():
        window = Window(end - timedelta(hours=hours), end)
        h0, h1 = window.hours
        for level, code in scopes.items():
            where = "report_hour >= ? AND report_hour < ?"
            params: list = [h0, h1]
            if level != "city":
                where += f" AND {SCOPE_COLUMN[level]} = ?"
                params.append(code)
            for name, group in (("counts by child", CHILD_COLUMN[level]), ("counts by category", "category"),
                                ("hourly counts", "report_hour"), ("totals by status", "status")):
                sql = f"SELECT {group}, count(*) FROM inc WHERE {where} GROUP BY {group}"  # noqa: S608 - fixed names
                cases.append(Case(name, level, window_name, partial(duck_rows, duck, sql, tuple(params))))
    return cases


# --- report ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) / 1e6 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    load = os.getloadavg()
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB RAM; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}; load average at start {load[0]:.2f} (machine shared)")


def _cell(case: Case | None) -> str:
    if case is None:
        return ""
    over = " ⚠" if case.p95 > BUDGET_MS else ""
    return f"{case.median:.1f} / {case.p95:.1f}{over}"


def table(cases: list[Case], windows: tuple[str, ...]) -> list[str]:
    index = {(c.function, c.level, c.window): c for c in cases}
    functions = list(dict.fromkeys(c.function for c in cases))
    lines = ["| query | scope | " + " | ".join(windows) + " |", "|---|---|" + "---:|" * len(windows)]
    for function in functions:
        for level in LEVELS:
            cells = [_cell(index.get((function, level, w))) for w in windows]
            if any(cells):
                lines.append(f"| {function} | {level} | " + " | ".join(cells) + " |")
    return lines


def report(runs: list[BackendRun], duck: list[Case], duck_load: tuple[int, float], args, scopes, end) -> str:
    out = [
        "## Dashboard queries on a year of incidents (`bench/bench_queries.py`)",
        "",
        f"- Date: {datetime.now():%Y-%m-%d %H:%M} (data ends {end:%Y-%m-%d %H:%M} UTC)",
        f"- Machine: {machine()}",
        f"- Command: `.venv/bin/python bench/bench_queries.py {' '.join(sys.argv[1:])}`",
        f"- {args.reps} timed calls per case after one warm-up call; cells are **median / p95 ms**, "
        f"⚠ marks p95 over the {BUDGET_MS:.0f} ms budget.",
        "- Scopes (the busiest area at each level over the last 30 days): "
        + ", ".join(f"{level} {code}" for level, code in scopes.items()),
        f"- Filters in the `+filters` rows: categories {', '.join(FILTERED.categories)}; "
        f"sources {', '.join(FILTERED.sources)}.",
        "",
        "| backend | incidents | " + " | ".join(f"{t.name} rows" for t in ROLLUP_TABLES) + " | size | build |",
        "|---|---:|" + "---:|" * len(ROLLUP_TABLES) + "---:|---:|",
    ]
    for run in runs:
        build_text = f"{run.build_s / 60:.1f} min" if run.build_s else "reused"
        rollup_rows = " | ".join(f"{run.counts[t.name]:,}" for t in ROLLUP_TABLES)
        out.append(f"| {run.name} | {run.counts['incident']:,} | {rollup_rows} | {run.size} | {build_text} |")
    for run in runs:
        worst = max(run.cases, key=lambda c: c.p95)
        over = [c for c in run.cases if c.p95 > BUDGET_MS]
        out += ["", f"### {run.name}", "",
                f"{len(run.cases)} cases; slowest p95 {worst.p95:.1f} ms ({worst.function}, {worst.level}, "
                f"{worst.window}); {len(over)} over budget.", ""]
        out += table(run.cases, (*WINDOWS, "now"))
        if run.plans:
            out += ["", "Query plans of the cases over budget (each SELECT timed alone):", "", "```"]
            for name, lines in run.plans.items():
                out += [name, *lines, ""]
            out += ["```"]
    if duck:
        out += ["", "### DuckDB in memory over the raw incident rows (reference)", "",
                f"Loaded {duck_load[0]:,} rows in {duck_load[1]:.0f} s; the same "
                "GROUP BY counts the roll-up queries answer, as plain scans of raw rows (SQL only, no "
                "Python frame building).", ""]
        out += table(duck, tuple(WINDOWS))
    out += ["", "### Verdict", ""]
    for run in runs:
        slowest = max(c.p95 for c in run.cases)
        over = [c for c in run.cases if c.p95 > BUDGET_MS]
        if run.name == "sqlite":
            verdict = "meets" if not over else "misses"
            out.append(f"- **SpatiaLite, {run.counts['incident']:,} incidents: {verdict} the budget** "
                       f"(p95 <= {BUDGET_MS:.0f} ms): slowest p95 {slowest:.1f} ms over {len(run.cases)} cases"
                       + ("." if not over else "; over: " + "; ".join(
                           f"{c.function} {c.level} {c.window} ({c.p95:.0f} ms)" for c in over) + "."))
        else:
            out.append(f"- {run.name}: slowest p95 {slowest:.1f} ms; {len(over)} of {len(run.cases)} cases over "
                       f"{BUDGET_MS:.0f} ms.")
    return "\n".join(out)


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365, help="days of incidents (365: about 4 million)")
    parser.add_argument("--backends", default="sqlite,postgis", help="comma-separated: sqlite, postgis")
    parser.add_argument("--reps", type=int, default=20, help="timed calls per case")
    parser.add_argument("--start-postgis", action="store_true", help="start (and stop) a throwaway PostGIS")
    parser.add_argument("--reuse", action="store_true", help="reuse a database built earlier with the same --days")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB reference")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    return parser.parse_args(argv)


def open_backend(name: str, args, pg_url: str | None) -> BackendRun:
    if name == "sqlite":
        url = sqlite_url(args.days)
        if not args.reuse:
            remove_sqlite(url)
        return BackendRun(name, make_engine(url, create=True))  # built here when missing
    assert pg_url, f"postgis needs {POSTGRES_ENV} or --start-postgis"  # main() drops postgis otherwise
    engine = make_engine(postgres_database(pg_url, args.days, fresh=not args.reuse))
    return BackendRun(name, engine)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    pg_url = os.environ.get(POSTGRES_ENV)
    started_pg = False
    if "postgis" in backends and not pg_url:
        if args.start_postgis:
            pg_url, started_pg = start_postgis(), True
        else:
            log(f"postgis skipped: set {POSTGRES_ENV} or pass --start-postgis")
            backends.remove("postgis")
    end = now_utc().replace(minute=0, second=0, microsecond=0)
    runs: list[BackendRun] = []
    try:
        for name in backends:
            run = open_backend(name, args, pg_url)
            if args.reuse and has_data(run.engine, args.days):
                end = datetime.fromisoformat(areas.dataset_facts(run.engine)["built_at"])
                log(f"{name}: reusing the database built for data ending {end}")
            else:
                build(run, args.days, end)
            describe(run)
            runs.append(run)
        scopes = pick_scopes(runs[0].engine, Window(end - timedelta(days=30), end))
        log(f"scopes: {scopes}")
        for run in runs:
            run.cases = make_cases(run.engine, scopes, end)
            log(f"{run.name}: timing {len(run.cases)} cases x {args.reps}")
            time_cases(run.cases, args.reps)
            if run.name == "sqlite":
                run.plans = {f"{c.function} / {c.level} / {c.window} (p95 {c.p95:.0f} ms)": sqlite_plans(run.engine, c)
                             for c in run.cases if c.p95 > BUDGET_MS}
        duck: list[Case] = []
        duck_load = (0, 0.0)  # rows loaded, seconds
        if not args.no_duckdb:
            source = next((r for r in runs if r.name == "sqlite"), runs[0])
            log("duckdb: loading raw rows")
            connection, rows, load_s = load_duckdb(source.engine)
            duck_load = (rows, load_s)
            duck = duck_cases(connection, scopes, end)
            time_cases(duck, args.reps)
        text = report(runs, duck, duck_load, args, scopes, end)
    finally:
        if started_pg:
            stop_postgis()
    print(text)
    if not args.no_write:
        write_section(NAME, text)
        log(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
