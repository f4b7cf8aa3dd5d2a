"""Benchmark: bytes per incident of every table and index, bulk-built and fed live, and what each write costs.

Run: .venv/bin/python bench/bench_storage.py [--days 30] [--backends sqlite,postgis] [--start-postgis]
                                             [--revisions 44b61d1,.] [--replay-limit N] [--no-write]
For each revision (a git commit exported with `git archive` to /tmp, or `.` for the work tree) and
backend, all at once in one run, a worker process running that revision's code:
1. builds the demo city (`build_demo`, --days, seed 7, a fixed end time) and measures every table
   and index (SQLite: the dbstat virtual table, read through the standard library's sqlite3, as the
   SpatiaLite build has none; PostGIS: pg_relation_size of each table and index);
2. replays one day's incident lifecycles (the incidents reported on the UTC day three days before
   the end, each create and step at its own time moved four days on, so into new hours) through the
   intake's write path: queries.intake.create_incident / transition_incident, one transaction per
   event in batched_counts as the writer runs them (the real trickle: one event per commit), on the
   writer's engine (synchronous NORMAL: the bytes are those of FULL, the run much shorter);
3. measures again, and counts the roll-up rows, the rows left at n = 0, and per create and per
   transition: rows written by table (the statements' row counts), bytes passed to write() (wchar)
   and bytes sent to the disk (write_bytes) by the process (SQLite, in-process) or WAL bytes
   (PostGIS, pg_stat_wal).
Writes its section of bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
NAME = "bench_storage"  # its section of bench/results.md
POSTGRES_ENV = "CITYOPS_TEST_POSTGRES_URL"
END = datetime(2026, 3, 1, 12, 30)  # fixed, so every revision builds the same incidents
REPLAY_DAY_BACK = 3  # the replayed UTC day starts this many days before END's midnight (1 in builds < 4 days)
ROLLUPS = ("incident_rollup", "incident_rollup_day", "incident_close_rollup", "incident_close_rollup_day")


def log(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- the worker: one revision's code on one database -------------------------------------------


def _process_io() -> dict[str, int]:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {"wchar": int(fields["wchar"]), "write_bytes": int(fields["write_bytes"])}


def sqlite_sizes(engine: Any) -> dict[str, dict[str, Any]]:
    """Bytes of each B-tree (table or index) by name, with its table, after a full checkpoint."""
    import sqlite3  # the standard library's build has the dbstat virtual table

    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = engine.url.database
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as plain:
        owners = {name: (kind, table) for kind, name, table in
                  plain.execute("SELECT type, name, tbl_name FROM sqlite_master")}
        sizes = plain.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall()
        page_size = plain.execute("PRAGMA page_size").fetchone()[0]
        free = plain.execute("PRAGMA freelist_count").fetchone()[0] * page_size
    result = {name: {"table": owners.get(name, ("", name))[1], "kind": owners.get(name, ("table", ""))[0],
                     "bytes": int(size)} for name, size in sizes}
    result["(free pages)"] = {"table": "(free pages)", "kind": "free", "bytes": int(free)}
    return result


def postgres_sizes(engine: Any) -> dict[str, dict[str, Any]]:
    """Bytes of each table (heap, free-space and visibility maps, TOAST) and each index, by name."""
    import sqlalchemy as sa

    tables = sa.text("SELECT c.relname, pg_total_relation_size(c.oid) - pg_indexes_size(c.oid) "
                     "FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
                     "WHERE s.nspname = 'public' AND c.relkind = 'r'")
    indexes = sa.text("SELECT indexname, tablename, pg_relation_size(format('%I', indexname)::regclass) "
                      "FROM pg_indexes WHERE schemaname = 'public'")
    with engine.connect() as conn:
        result = {name: {"table": name, "kind": "table", "bytes": int(size)} for name, size in conn.execute(tables)}
        result.update({name: {"table": table, "kind": "index", "bytes": int(size)}
                       for name, table, size in conn.execute(indexes)})
    return result


def row_counts(engine: Any) -> dict[str, dict[str, int]]:
    import sqlalchemy as sa

    counts = {}
    with engine.connect() as conn:
        for name in ("incident", "incident_step", *ROLLUPS):
            rows, zeros = conn.execute(sa.text(  # names from the fixed list above
                f"SELECT count(*), coalesce(sum(CASE WHEN n = 0 THEN 1 ELSE 0 END), 0) FROM {name}"  # noqa: S608
                if name in ROLLUPS else f"SELECT count(*), 0 FROM {name}")).one()  # noqa: S608
            counts[name] = {"rows": int(rows), "zeros": int(zeros)}
    return counts


def _action_path(old: str, new: str, transitions: dict[str, dict[str, str]]) -> list[str]:
    """The shortest list of lifecycle actions from state old to state new (breadth first)."""
    seen: dict[str, list[str]] = {old: []}
    queue = deque([old])
    while queue:
        state = queue.popleft()
        if state == new:
            return seen[state]
        for action, target in transitions.get(state, {}).items():
            if target not in seen:
                seen[target] = [*seen[state], action]
                queue.append(target)
    return []


def replay_events(engine: Any, days: float) -> list[tuple[datetime, int, str, dict[str, Any]]]:
    """(time, order, kind, payload) of every create and step of one day's incidents, time-ordered,
    moved on by whole days to after END (into hours of their own)."""
    import pandas as pd
    import sqlalchemy as sa

    from vocab import TRANSITIONS

    back = REPLAY_DAY_BACK if days >= REPLAY_DAY_BACK + 1 else 1
    day, shift = datetime(END.year, END.month, END.day) - timedelta(days=back), timedelta(days=back + 1)
    stamps = ("dispatched", "handling", "parked", "escalated", "resolved", "closed", "voided")
    with engine.connect() as conn:
        rows = pd.read_sql(sa.text(
            "SELECT i.*, c.name AS contact_name, c.phone AS contact_phone, c.email AS contact_email "
            "FROM incident i LEFT JOIN incident_contact c ON c.incident_id = i.id "
            "WHERE i.reported_at >= :a AND i.reported_at < :b ORDER BY i.id"),
            conn, params={"a": day, "b": day + timedelta(days=1)})
    events: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for number, row in enumerate(rows.to_dict("records")):
        reported = pd.Timestamp(row["reported_at"]).to_pydatetime()
        events.append((reported + shift, len(events), "create", {"row": row, "key": number}))
        steps = sorted((pd.Timestamp(row[f"{s}_at"]).to_pydatetime(), s) for s in stamps if pd.notna(row[f"{s}_at"]))
        state = "reported"
        for at, status in steps:
            for action in _action_path(state, status, TRANSITIONS):
                events.append((at + shift, len(events), "transition", {"key": number, "action": action}))
            state = status
            if status == row["status"]:
                break
    return sorted(events, key=lambda e: (e[0], e[1]))


class WriteCounter:
    """Rows each INSERT / UPDATE / DELETE statement wrote, by table, for the event being run."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()

    def after(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        words = statement.split()
        verb = words[0].upper()
        if verb not in ("INSERT", "UPDATE", "DELETE"):
            return
        table = words[2] if verb in ("INSERT", "DELETE") else words[1]
        count = cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else \
            (len(parameters) if executemany else 1)
        self.rows[table.strip('"')] += count


def replay(engine: Any, backend: str, days: float, limit: int | None) -> dict[str, Any]:
    """Run one day's lifecycles through the intake's write path, one transaction per event."""
    import sqlalchemy as sa
    from sqlalchemy import event

    from queries.engine import writer_engine
    from queries.intake import IncidentDraft, create_incident, transition_incident
    from queries.rollups import batched_counts

    city = "330200"
    events = replay_events(engine, days)
    if limit:
        keep = {e[3]["key"] for e in events if e[2] == "create"}
        keep = set(sorted(keep)[:limit])
        events = [e for e in events if e[3]["key"] in keep]
    writer = writer_engine(engine, "NORMAL")
    counter = WriteCounter()
    event.listen(writer, "after_cursor_execute", counter.after)
    ids: dict[int, int] = {}
    per_kind: dict[str, dict[str, Any]] = defaultdict(lambda: {"events": 0, "rows": Counter(), "wchar": 0,
                                                              "write_bytes": 0, "wal_bytes": 0})
    wal = sa.text("SELECT wal_bytes FROM pg_stat_wal")
    started = time.perf_counter()
    with writer.connect() as probe:
        probe.commit()
        for number, (at, _, kind, payload) in enumerate(events, 1):
            io_before = _process_io()
            wal_before = int(probe.execute(wal).scalar_one()) if backend == "postgis" else 0
            counter.rows.clear()
            with writer.begin() as conn, batched_counts(conn):
                if kind == "create":
                    row = payload["row"]
                    draft = IncidentDraft(
                        category=row["category"], source=row["source"], priority=row["priority"], lon=row["lon"],
                        lat=row["lat"], grid_code=row["grid_code"], community_code=row["community_code"],
                        street_code=row["street_code"], district_code=row["district_code"],
                        description=row["description"], address=row["address"],
                        external_id=f"replay-{row['external_id']}", contact_name=row["contact_name"],
                        contact_phone=row["contact_phone"], contact_email=row["contact_email"])
                    ids[payload["key"]] = create_incident(conn, draft, city_code=city, now=at).row["id"]
                else:
                    transition_incident(conn, ids[payload["key"]], payload["action"], None, city_code=city, now=at)
            io_after = _process_io()
            stats = per_kind[kind]
            stats["events"] += 1
            stats["rows"].update(counter.rows)
            stats["wchar"] += io_after["wchar"] - io_before["wchar"]
            stats["write_bytes"] += io_after["write_bytes"] - io_before["write_bytes"]
            if backend == "postgis":
                probe.rollback()  # a new snapshot of the statistics
                stats["wal_bytes"] += int(probe.execute(wal).scalar_one()) - wal_before
            if number % 5000 == 0:
                log(f"  replayed {number:,}/{len(events):,} events")
    writer.dispose()
    return {"incidents": len(ids), "events": len(events), "seconds": time.perf_counter() - started,
            "per_kind": {k: {**v, "rows": dict(v["rows"])} for k, v in per_kind.items()}}


def worker(args: argparse.Namespace) -> None:
    sys.path.insert(0, args.root)
    os.chdir(args.root)
    from demo.build import build_demo
    from queries.engine import make_engine

    try:
        engine = make_engine(args.url, create=True)  # the build makes the file (readers never do)
    except TypeError:  # an older revision measured beside this one: its make_engine always creates
        engine = make_engine(args.url)
    sizes = sqlite_sizes if args.backend == "sqlite" else postgres_sizes
    started = time.perf_counter()
    counts = build_demo(engine, days=args.days, seed=7, end=END)
    result: dict[str, Any] = {"build_s": time.perf_counter() - started, "incidents": counts["incidents"]}
    log(f"{args.label} {args.backend}: built {counts['incidents']:,} incidents in {result['build_s']:.0f} s")
    result["bulk"] = {"sizes": sizes(engine), "rows": row_counts(engine)}
    result["replay"] = replay(engine, args.backend, args.days, args.replay_limit)
    log(f"{args.label} {args.backend}: replayed {result['replay']['events']:,} events "
        f"in {result['replay']['seconds']:.0f} s")
    result["live"] = {"sizes": sizes(engine), "rows": row_counts(engine)}
    engine.dispose()
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


# --- the driver: revisions x backends, then the report ----------------------------------------


def export_revision(revision: str) -> Path:
    """The work tree for '.', else the commit's files in a directory under /tmp."""
    if revision == ".":
        return ROOT
    target = Path(tempfile.mkdtemp(prefix=f"cityops-bench-storage-{revision}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], check=True,  # noqa: S603, S607
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)  # noqa: S603, S607
    return target


def database_url(backend: str, label: str, pg_url: str | None) -> str:
    if backend == "sqlite":
        path = Path(tempfile.gettempdir()) / f"cityops-bench-storage-{label}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from bench.postgis_database import postgis_database

    assert pg_url, f"postgis needs {POSTGRES_ENV} or --start-postgis"
    return postgis_database(pg_url, f"cityops_bench_storage_{label}".lower().replace("-", "_"))


def start_worker(revision: str, root: Path, backend: str, url: str,
                 args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], Path]:
    """A worker process running the revision's code on the database; it writes its figures to the path."""
    out = Path(tempfile.mkstemp(prefix=f"cityops-bench-storage-{revision}-{backend}-", suffix=".json")[1])
    command = [sys.executable, str(HERE), "--worker", "--root", str(root), "--backend", backend, "--url", url,
               "--days", str(args.days), "--label", revision, "--out", str(out)]
    if args.replay_limit:
        command += ["--replay-limit", str(args.replay_limit)]
    return subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(root)}), out  # noqa: S603


def _kb(value: float) -> str:
    return f"{value / 1024:,.1f}"


def summary_lines(runs: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    lines = ["| revision | backend | incidents | bulk B/incident | of it roll-ups | roll-up rows/incident | "
             "live B/incident | of it roll-ups | roll-up rows/incident live | rows at n = 0 | "
             "per create: rows (roll-up) | KB to write() | KB to disk / WAL | per transition: rows (roll-up) | "
             "KB to write() | KB to disk / WAL |",
             "|" + "---|" * 16]
    for revision, backend, r in runs:
        bulk, live, replayed = r["bulk"], r["live"], r["replay"]
        n, m = r["incidents"], replayed["incidents"]

        def total(sizes: dict[str, Any], only: tuple[str, ...] | None = None) -> int:
            return sum(v["bytes"] for v in sizes.values() if only is None or v["table"] in only)

        growth = total(live["sizes"]) - total(bulk["sizes"])
        rollup_growth = total(live["sizes"], ROLLUPS) - total(bulk["sizes"], ROLLUPS)
        rows_bulk = sum(bulk["rows"][t]["rows"] for t in ROLLUPS)
        rows_live = sum(live["rows"][t]["rows"] for t in ROLLUPS) - rows_bulk
        zeros = sum(live["rows"][t]["zeros"] for t in ROLLUPS)
        cells = []
        for kind in ("create", "transition"):
            stats = {"events": 0, "rows": {}, "wchar": 0, "write_bytes": 0, "wal_bytes": 0,
                     **replayed["per_kind"].get(kind, {})}
            events, rows = max(1, stats["events"]), stats["rows"]
            if backend == "postgis":  # see report(): not measured per event on PostGIS yet
                cells += ["n/a", "n/a", "n/a"]
                continue
            cells += [f"{sum(rows.values()) / events:.1f} ({sum(rows.get(t, 0) for t in ROLLUPS) / events:.1f})",
                      _kb(stats["wchar"] / events), _kb(stats["write_bytes"] / events)]
        lines.append(f"| {revision} | {backend} | {n:,} | {total(bulk['sizes']) / n:,.0f} | "
                     f"{total(bulk['sizes'], ROLLUPS) / total(bulk['sizes']):.0%} | {rows_bulk / n:.1f} | "
                     f"{growth / max(1, m):,.0f} | {rollup_growth / max(1, growth):.0%} | "
                     f"{rows_live / max(1, m):.1f} | "
                     f"{zeros:,} | " + " | ".join(cells) + " |")
    return lines


def detail_lines(runs: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Bytes per incident of each table and index of ours (the rest, SpatiaLite's own, summed)."""
    ours = {"area", "assembly_point", "supply_depot", "stock", "hospital", "hospital_beds", "incident",
            "incident_contact", "incident_step", *ROLLUPS, "scenario", "dataset_info", "alembic_version"}
    names: dict[str, None] = {}
    for _, _, r in runs:
        for name, v in sorted(r["bulk"]["sizes"].items(), key=lambda kv: (kv[1]["table"], kv[0])):
            if v["table"] in ours and v["table"].startswith("incident"):
                names[name] = None
    header = "| table / index | " + " | ".join(f"{rev} {be} bulk | {rev} {be} live" for rev, be, _ in runs) + " |"
    lines = [header, "|" + "---|" * (1 + 2 * len(runs))]
    for name in [*names, "(everything else)", "(whole database)"]:
        cells = []
        for _, _, r in runs:
            for phase, per in (("bulk", r["incidents"]), ("live", max(1, r["replay"]["incidents"]))):
                sizes = r[phase]["sizes"]
                before = r["bulk"]["sizes"] if phase == "live" else None

                def size(of: dict[str, Any], name: str = name) -> int:
                    if name == "(whole database)":
                        return sum(v["bytes"] for v in of.values())
                    if name == "(everything else)":
                        return sum(v["bytes"] for k, v in of.items() if k not in names)
                    return of.get(name, {"bytes": 0})["bytes"]

                value = size(sizes) - (size(before) if before else 0)
                cells.append(f"{value / per:,.0f}" if name in sizes or name.startswith("(") else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def report(runs: list[tuple[str, str, dict[str, Any]]], args: argparse.Namespace, load: float) -> str:
    replayed = runs[0][2]["replay"]
    lines = [
        "## Storage and write cost per incident (bench/bench_storage.py)",
        "",
        f"`build_demo(days={args.days:g}, seed=7)`, then one day's lifecycles ({replayed['incidents']:,} incidents, "
        f"{replayed['events']:,} creates and steps) replayed through the intake's write path, one transaction "
        "per event. Revisions and backends in one run, side by side; load average at start "
        f"{load:.1f} (machine shared). Bulk: bytes per built incident; live: growth per replayed incident. "
        "Rows: rows the statements wrote (inserted, updated or deleted), all tables (roll-ups in brackets). "
        "Disk: the process's write_bytes (SQLite). PostGIS per event: n/a, as the roll-up upserts go "
        "through the driver's cursor (no SQLAlchemy event sees their rows) and pg_stat_wal counts the whole "
        "server, where the workers run side by side (to do: pg_stat_xact_user_tables, one PostGIS worker at a time).",
        "",
        *summary_lines(runs),
        "",
        "Bytes per incident of each incident table and index (bulk: of the built database; live: growth per "
        "replayed incident):",
        "",
        *detail_lines(runs),
        "",
        f"Command: `python bench/bench_storage.py {' '.join(args.argv)}`",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=float, default=30, help="days of incidents to build")
    parser.add_argument("--backends", default="sqlite,postgis", help="comma-separated: sqlite, postgis")
    parser.add_argument("--revisions", default=".", help="comma-separated git revisions; '.' is the work tree")
    parser.add_argument("--replay-limit", type=int, default=0, help="replay only the first N incidents of the day")
    parser.add_argument("--start-postgis", action="store_true", help="start (and stop) a throwaway PostGIS")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--root", "--backend", "--url", "--label", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    sys.path.insert(0, str(ROOT))
    from bench.bench_queries import start_postgis, stop_postgis
    from bench.results_file import write_section

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    pg_url, started_pg = os.environ.get(POSTGRES_ENV), False
    if "postgis" in backends and not pg_url:
        if args.start_postgis:
            pg_url, started_pg = start_postgis(), True
        else:
            log(f"postgis skipped: set {POSTGRES_ENV} or pass --start-postgis")
            backends.remove("postgis")
    load = os.getloadavg()[0]
    runs = []
    try:
        # All workers at once: the figures are bytes and rows, which do not depend on the machine's load.
        workers = []
        for revision in [r.strip() for r in args.revisions.split(",") if r.strip()]:
            root = export_revision(revision)
            label = "worktree" if revision == "." else revision
            for backend in backends:
                url = database_url(backend, label, pg_url)
                workers.append((label, backend, *start_worker(label, root, backend, url, args)))
        for label, backend, process, out in workers:
            if process.wait() != 0:
                raise SystemExit(f"the {label} {backend} worker failed")
            runs.append((label, backend, json.loads(out.read_text(encoding="utf-8"))))
    finally:
        if started_pg:
            stop_postgis()
    text = report(runs, args, load)
    print(text)
    if not args.no_write:
        write_section(NAME, text)
        log("wrote bench/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
