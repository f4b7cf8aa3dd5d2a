"""Sustained Open311 intake throughput over HTTP, SpatiaLite (and PostGIS when its URL is set).

    SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_intake.py [--events 5000]

Starts the service as scripts/run-app does (uvicorn, one process) on a fresh demo database,
posts N distinct reports from client threads (and processes) over keep-alive connections, then
checks that the database holds exactly one incident per 201 answer (none lost, none doubled)
and that the roll-ups equal a recount. Writes its section of bench/results.md.
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


def _one_run(service: ServiceProcess, engine, run: int, args) -> dict:
    bodies, keys = _reports(engine, args.events, f"bench{run}", seed=run)
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


def run_backend(backend: str, url: str, args) -> dict:
    """`args.runs` runs of `args.events` reports each against one service; the best run is reported."""
    engine = make_engine(url, create=True)
    build_demo(engine, days=1, seed=7)
    warm_bodies, warm_keys = _reports(engine, 300, "warm", seed=99)
    with ServiceProcess(url, log_path=Path(tempfile.gettempdir()) / f"bench-intake-{backend}.log") as service:
        _post_all(service.port, warm_bodies, warm_keys, args.processes, args.threads)
        runs = [_one_run(service, engine, run, args) for run in range(args.runs)]
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(incident.c.idempotency_key))).where(
                incident.c.idempotency_key.like("bench%")
            )
        ).one()
    best = max(runs, key=lambda r: r["rate"])
    return {
        "backend": backend,
        "events": args.events * args.runs,
        "created": sum(r["created"] for r in runs),
        "other": sum(r["other"] for r in runs),
        "stored": stored[0],
        "distinct": stored[1],
        "rates": [round(r["rate"]) for r in runs],
        **{k: best[k] for k in ("rate", "p50_ms", "p95_ms", "cpu_ms")},
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
    lines = [
        "## Incident intake (bench/bench_intake.py)",
        "",
        "Open311 `POST /open311/v2/requests.json` over HTTP on loopback, one uvicorn process (as "
        "`scripts/run-app` starts it, access log off), fresh demo database (1 day of incidents). "
        "Each report is one request; the service's single writer commits what has queued up while "
        "the previous commit ran (group commit), and answers 201 only after the commit. "
        f"Each backend: {results[0]['events'] // len(results[0]['rates']):,} distinct reports per run, "
        f"{len(results[0]['rates'])} runs on one service, the best run shown (figures of that run). "
        f"Machine: {os.cpu_count()} cores shared with other work (load average at start: {load}). "
        "PostGIS runs on the test server of scripts/start-postgis (fsync and synchronous_commit off), so its "
        "commits are cheaper than on a durable production server. Roll-up counts of a batch are summed and "
        "written with one statement per table (queries.rollups.batched_counts).",
        "",
        "| backend | events | 201 | other | rows stored | events/s, best run | each run | p50 ms | p95 ms "
        "| service CPU ms/event | roll-ups = recount | clients |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['events']:,} | {r['created']:,} | {r['other']} | {r['stored']:,} "
            f"({r['distinct']:,} distinct keys) | **{r['rate']:,.0f}** | {', '.join(map(str, r['rates']))} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['cpu_ms']:.2f} | {'yes' if r['rollups_ok'] else 'NO'} | {r['clients']} |"
        )
    sqlite = next((r for r in results if r["backend"] == "sqlite"), None)
    if sqlite:
        verdict = "meets" if sqlite["rate"] >= BUDGET else "misses"
        lost = sqlite["created"] - sqlite["stored"]
        lines += [
            "",
            f"Budget >= {BUDGET:.0f} events/s on SpatiaLite, none lost: {verdict} ({lost} lost). "
            f"The service spent {sqlite['cpu_ms']:.2f} ms of CPU per event, i.e. about "
            f"{1000 / sqlite['cpu_ms']:,.0f} events/s for one uncontended core; the wall-clock rate "
            "above also depends on the clients and whatever else runs on the machine.",
        ]
    lines += ["", f"Command: `{' '.join(['python', 'bench/bench_intake.py', *sys.argv[1:]])}`"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="reports per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per backend (the machine is shared: best is kept)")
    parser.add_argument("--processes", type=int, default=1, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="keep-alive connections per client process")
    parser.add_argument("--no-write", action="store_true", help="do not update bench/results.md")
    args = parser.parse_args()
    get_settings()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results.append(run_backend("sqlite", f"sqlite:///{folder}/bench.sqlite", args))
    pg = os.environ.get(POSTGRES_ENV)
    if pg:
        results.append(run_backend("postgis", _new_postgres_database(pg), args))
    for r in results:
        print(json.dumps(r))
    if not args.no_write:
        write_section(NAME, _section(results, load))
    sqlite = results[0]
    ok = sqlite["stored"] == sqlite["created"] == sqlite["distinct"] and sqlite["rollups_ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
