"""Building the demo city (`cli.py seed --days 30 --seed 7`), step by step, on SpatiaLite and PostGIS.

    SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_seed.py [--repeat 3] [--write]
    CITYOPS_TEST_POSTGRES_URL=postgresql+psycopg2://... .venv/bin/python bench/bench_seed.py --backends sqlite,postgis

Budget (issue "Foundation"): the default demo database (SpatiaLite, 30 days) in under 2 minutes.
Each run builds into a new database (a new SpatiaLite file; a new PostGIS database on the server),
as build_demo does for `cli.py seed`, and times each of its steps; medians over the runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results_file import write_section
from cli import SEED_STEPS
from demo.build import build_demo
from queries.engine import make_engine
from tests.support import POSTGRES_ENV, new_database

NAME = "bench_seed"  # its section of bench/results.md
BUDGET_S = 120.0


def drop_database(url: sa.URL) -> None:
    """A PostGIS build is a few hundred MB: drop each run's database once it is timed."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE "{url.database}"')
    admin.dispose()


def build_once(backend: str, days: float, seed: int) -> dict[str, float]:
    """Seconds per build step (named as cli.py's progress bar names them) and in total."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(new_database(backend, Path(folder)), create=True)
        marks: list[tuple[str, float]] = []
        started = time.perf_counter()
        build_demo(engine, days=days, seed=seed, progress=lambda step: marks.append((step, time.perf_counter())))
        ended = time.perf_counter()
        with engine.connect() as conn:
            incidents = conn.exec_driver_sql("SELECT count(*) FROM incident").scalar_one()
        engine.dispose()
        if backend == "postgis":
            drop_database(engine.url)
    ends = [t for _, t in marks[1:]] + [ended]
    times = {step: end - begin for (step, begin), end in zip(marks, ends, strict=True)}
    return {**times, "total": ended - started, "rows": incidents}


def report(results: dict[str, list[dict]], days: float, seed: int, load: str) -> str:
    columns = [*SEED_STEPS, "total"]
    run_count = len(next(iter(results.values())))
    lines = [
        "## Demo city build (bench/bench_seed.py)",
        "",
        f"`build_demo(days={days:g}, seed={seed})`, what `cli.py seed` and `scripts/run-app` run, in a new process "
        f"and into a new database per run; median seconds per step over {run_count} runs. Budget: the default "
        f"demo database (SpatiaLite) in under {BUDGET_S:.0f} s. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, shared (load average {load}). PostGIS is the test server of "
        "scripts/start-postgis (fsync off).",
        "",
        "| backend | incident rows | " + " | ".join(columns) + " | slowest total |",
        "|---|---|" + "---|" * len(columns) + "---|",
    ]
    for backend, runs in results.items():
        medians = [statistics.median(run[c] for run in runs) for c in columns]
        lines.append(f"| {backend} | {runs[0]['rows']:,} | " + " | ".join(f"{m:.1f}" for m in medians[:-1])
                     + f" | **{medians[-1]:.1f}** | {max(run['total'] for run in runs):.1f} |")
    if "sqlite" in results:
        worst = max(run["total"] for run in results["sqlite"])
        lines += ["", f"SpatiaLite slowest build {worst:.1f} s: {'within' if worst <= BUDGET_S else 'OVER'} "
                      f"the {BUDGET_S:.0f} s budget."]
    lines += ["", "Steps: areas = the subdivision (districts to grid cells); facilities; incidents = generating "
                  "them; writing = schema, clearing, bulk inserts; roll-ups = the recount and the incident and "
                  "roll-up indexes built after it; analyze = planner statistics (PostGIS: VACUUM ANALYZE).",
              "", f"Command: `python bench/bench_seed.py {' '.join(sys.argv[1:])}`"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgis")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="update bench/results.md")
    args = parser.parse_args(argv)
    backends = args.backends.split(",")
    if "postgis" in backends and not os.environ.get(POSTGRES_ENV):
        parser.error(f"postgis needs {POSTGRES_ENV} (e.g. from scripts/start-postgis)")
    load_before = os.getloadavg()[0]
    results: dict[str, list[dict]] = {}
    for backend in backends:
        for run in range(args.repeat):
            # a process per build, as `cli.py seed` is: no cache (the subdivision's) carried over
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                figures = pool.submit(build_once, backend, args.days, args.seed).result()
            results.setdefault(backend, []).append(figures)
            print(f"{backend} run {run + 1}: " + ", ".join(f"{k} {v:.1f}s" for k, v in figures.items()
                                                          if k != "rows"), flush=True)
    text = report(results, args.days, args.seed, f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print(text)
    if args.write:
        write_section(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
