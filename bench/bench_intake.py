"""Sustained Open311 intake throughput over HTTP, SpatiaLite (and PostGIS when its URL is set).

    SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_intake.py [--events 5000]

Starts the service as scripts/run-app does (uvicorn, one process) on a fresh demo database,
posts N distinct reports from client threads (and processes) over keep-alive connections, then
checks that the database holds exactly one incident per 201 answer (none lost, none doubled)
and that the roll-ups equal a recount. Each backend is measured with the writer committing in
each of --synchronous (default FULL,NORMAL: the durable default beside the cheaper mode it
replaced; settings.intake_writer_synchronous), one service after the other on the same database.
Writes its section of bench/results.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.results_file import write_section
from demo.build import build_demo
from intake.process import ServiceProcess
from queries.areas import area_geometries
from queries.engine import make_engine
from queries.intake import rollup_drift
from queries.schema import incident
from settings import get_settings

NAME = "bench_intake"  # its section of bench/results.md
POSTGRES_ENV = "CITYOPS_TEST_POSTGRES_URL"
BUDGET = 500.0  # events/s on SpatiaLite (bench/README.md)


def _client(port: int, bodies: list[bytes], keys: list[str], threads: int, out) -> None:
    """One client process: `threads` keep-alive connections posting its share of the reports."""
    latencies, statuses = [], []
    lock = threading.Lock()

    def run(part: range) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in part:
            started = time.perf_counter()
            headers = {"Content-Type": "application/json", "Idempotency-Key": keys[i]}
            conn.request("POST", "/open311/v2/requests.json", bodies[i], headers)
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status)

    workers = [threading.Thread(target=run, args=(range(t, len(bodies), threads),)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put((latencies, statuses))


def _reports(engine, count: int, prefix: str, seed: int = 1) -> tuple[list[bytes], list[str]]:
    grids = area_geometries(engine, get_settings().city_code, "grid")
    rng = np.random.default_rng(seed)
    points = grids.geometry.representative_point().to_numpy()
    picks = rng.integers(0, len(points), count)
    codes = ["city_appearance", "street_order", "public_utilities", "roads_traffic", "greening"]
    bodies = [
        json.dumps(
            {
                "service_code": codes[i % len(codes)],
                "lat": points[p].y,
                "long": points[p].x,
                "description": f"bench report {i}",
                "source": "grid_patrol",
            }
        ).encode()
        for i, p in enumerate(picks)
    ]
    return bodies, [f"{prefix}-{i}" for i in range(count)]


def _post_all(port: int, bodies, keys, processes: int, threads: int) -> tuple[float, list, list]:
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    shares = [range(p, len(bodies), processes) for p in range(processes)]
    clients = [
        context.Process(target=_client, args=(port, [bodies[i] for i in s], [keys[i] for i in s], threads, out))
        for s in shares
    ]
    started = time.perf_counter()
    for c in clients:
        c.start()
    results = [out.get() for _ in clients]
    elapsed = time.perf_counter() - started
    for c in clients:
        c.join()
    latencies = [x for r in results for x in r[0]]
    statuses = [x for r in results for x in r[1]]
    return elapsed, latencies, statuses


def _one_run(service: ServiceProcess, engine, key_prefix: str, run: int, args) -> dict:
    bodies, keys = _reports(engine, args.events, key_prefix, seed=run)
    assert service.process is not None, "the service is started before it is timed"
    pid = service.process.pid
    cpu_before = _cpu_seconds(pid)
    elapsed, latencies, statuses = _post_all(service.port, bodies, keys, args.processes, args.threads)
    created = statuses.count(201)
    return {
        "created": created,
        "other": len(statuses) - created,
        "rate": created / elapsed,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p95_ms": float(np.percentile(latencies, 95) * 1000),
        # CPU the service itself spent per event: what the rate would be on a core of its own.
        "cpu_ms": (_cpu_seconds(pid) - cpu_before) / max(created, 1) * 1000,
    }


def run_backend(backend: str, url: str, args) -> list[dict]:
    """Per writer mode: `args.runs` runs of `args.events` reports each against one service; medians reported."""
    engine = make_engine(url, create=True)
    build_demo(engine, days=1, seed=7)
    return [_run_mode(backend, url, engine, mode, args) for mode in args.synchronous]


def _run_mode(backend: str, url: str, engine, mode: str, args) -> dict:
    prefix = f"bench-{mode}"
    warm_bodies, warm_keys = _reports(engine, 300, f"{prefix}-warm", seed=99)
    log_path = Path(tempfile.gettempdir()) / f"bench-intake-{backend}-{mode}.log"
    env = {"CITYOPS_INTAKE_WRITER_SYNCHRONOUS": mode}
    with ServiceProcess(url, log_path=log_path, env=env) as service:
        _post_all(service.port, warm_bodies, warm_keys, args.processes, args.threads)
        runs = [_one_run(service, engine, f"{prefix}-run{run}", run, args) for run in range(args.runs)]
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(incident.c.idempotency_key))).where(
                incident.c.idempotency_key.like(f"{prefix}-run%")
            )
        ).one()
    return {
        "backend": backend,
        "synchronous": mode,
        "events": args.events * args.runs,
        "created": sum(r["created"] for r in runs),
        "other": sum(r["other"] for r in runs),
        "stored": stored[0],
        "distinct": stored[1],
        "rates": [round(r["rate"]) for r in runs],
        **{k: float(np.median([r[k] for r in runs])) for k in ("rate", "p50_ms", "p95_ms", "cpu_ms")},
        "rollups_ok": rollup_drift(engine, get_settings().city_code).empty,
        "clients": f"{args.processes} process(es) x {args.threads} keep-alive connections",
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _new_postgres_database(base_url: str) -> str:
    from tests.support import new_database

    os.environ.setdefault(POSTGRES_ENV, base_url)
    return new_database("postgis", Path(tempfile.gettempdir()))


def _section(results: list[dict], load: str) -> str:
    runs = len(results[0]["rates"])
    lines = [
        "## Incident intake (bench/bench_intake.py)",
        "",
        "Open311 `POST /open311/v2/requests.json` over HTTP on loopback, one uvicorn process (as "
        "`scripts/run-app` starts it, access log off), fresh demo database (1 day of incidents). "
        "Each report is one request; the service's single writer commits what has queued up while "
        "the previous commit ran (group commit), and answers 201 only after the commit. "
        "`synchronous` is the writer's commit mode (`CITYOPS_INTAKE_WRITER_SYNCHRONOUS`): FULL, the default, "
        "syncs SQLite's WAL at every commit so that a 201 survives a power cut; NORMAL, the mode it replaced, "
        "syncs only at checkpoints. On PostgreSQL FULL sets `synchronous_commit = on` for the writer. "
        f"Each backend and mode: {results[0]['events'] // runs:,} distinct reports per run, {runs} runs on one "
        "service, **medians over the runs** (of the rate, and of each run's p50 and p95 latency). "
        f"Machine: {os.cpu_count()} cores shared with other work (load average at start: {load}). "
        "PostGIS runs on the test server of scripts/start-postgis (fsync off), so its commits are cheaper "
        "than on a durable production server whatever the mode. Roll-up counts of a batch are summed and "
        "written with one statement per table (queries.rollups.batched_counts).",
        "",
        "| backend | synchronous | events | 201 | other | rows stored | events/s, median | each run | p50 ms | p95 ms "
        "| service CPU ms/event | roll-ups = recount | clients |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['synchronous']} | {r['events']:,} | {r['created']:,} | {r['other']} "
            f"| {r['stored']:,} ({r['distinct']:,} distinct keys) | **{r['rate']:,.0f}** "
            f"| {', '.join(map(str, r['rates']))} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['cpu_ms']:.2f} | {'yes' if r['rollups_ok'] else 'NO'} | {r['clients']} |"
        )
    lines += _verdict(results)
    lines += ["", f"Command: `{' '.join(['python', 'bench/bench_intake.py', *sys.argv[1:]])}`"]
    return "\n".join(lines)


def _verdict(results: list[dict]) -> list[str]:
    by_mode = {r["synchronous"]: r for r in results if r["backend"] == "sqlite"}
    if not by_mode:
        return []
    durable = by_mode.get("FULL") or next(iter(by_mode.values()))
    verdict = "meets" if durable["rate"] >= BUDGET else "misses"
    lost = durable["created"] - durable["stored"]
    lines = [
        "",
        f"Budget >= {BUDGET:.0f} events/s on SpatiaLite, none lost, with synchronous={durable['synchronous']}: "
        f"{verdict} ({durable['rate']:,.0f} events/s, {lost} lost). The service spent {durable['cpu_ms']:.2f} ms "
        "of CPU per event; the wall-clock rate also depends on the clients and whatever else runs on the machine.",
    ]
    if "FULL" in by_mode and "NORMAL" in by_mode:
        full, normal = by_mode["FULL"], by_mode["NORMAL"]
        lines.append(
            f"FULL against NORMAL on SpatiaLite: {full['rate']:,.0f} vs {normal['rate']:,.0f} events/s "
            f"({full['rate'] / normal['rate'] - 1:+.0%}), p50 {full['p50_ms']:.1f} vs {normal['p50_ms']:.1f} ms, "
            f"p95 {full['p95_ms']:.1f} vs {normal['p95_ms']:.1f} ms "
            "(the machine was shared: compare the runs, not only the medians)."
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="reports per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per backend and mode (medians are reported)")
    parser.add_argument(
        "--synchronous",
        type=lambda text: [m.strip().upper() for m in text.split(",")],
        default=["FULL", "NORMAL"],
        help="writer commit modes to measure, comma-separated (FULL, NORMAL)",
    )
    parser.add_argument("--processes", type=int, default=1, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="keep-alive connections per client process")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.md")
    args = parser.parse_args()
    get_settings()
    if not set(args.synchronous) <= {"FULL", "NORMAL"}:
        parser.error(f"--synchronous takes FULL and/or NORMAL, not {','.join(args.synchronous)}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results += run_backend("sqlite", f"sqlite:///{folder}/bench.sqlite", args)
    pg = os.environ.get(POSTGRES_ENV)
    if pg:
        results += run_backend("postgis", _new_postgres_database(pg), args)
    for r in results:
        print(json.dumps(r))
    if not args.no_write:
        write_section(NAME, _section(results, load))
    sqlite = [r for r in results if r["backend"] == "sqlite"]
    ok = all(r["stored"] == r["created"] == r["distinct"] and r["rollups_ok"] for r in sqlite)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
