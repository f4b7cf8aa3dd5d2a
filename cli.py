"""Command line: `python cli.py seed --days 30 --seed 7` builds the embedded demo database;
`python cli.py upgrade` brings a database built by an earlier version up to date;
`python cli.py import-beds beds.xlsx` sets hospital bed counts from a department's sheet."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sqlalchemy.exc import OperationalError
from tqdm import tqdm

from errors import CityOpsError

SEED_STEPS = ("areas", "facilities", "incidents", "writing", "roll-ups", "analyze")


def seed_command(args: argparse.Namespace) -> int:
    from demo.build import build_demo
    from queries.engine import make_engine

    started = time.perf_counter()
    engine = make_engine(args.database_url)
    with tqdm(total=len(SEED_STEPS), desc="demo city", unit="step") as bar:

        def progress(step: str) -> None:
            bar.set_postfix_str(step)
            if step != SEED_STEPS[0]:
                bar.update(1)

        counts = build_demo(engine, days=args.days, seed=args.seed, progress=progress)
        bar.update(1)
    print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    print(f"built {engine.url.render_as_string(hide_password=True)} in {time.perf_counter() - started:.1f} s")
    return 0


def upgrade_command(args: argparse.Namespace) -> int:
    from queries.engine import make_engine
    from queries.upgrade import upgrade
    from settings import get_settings

    engine = make_engine(args.database_url)
    started = time.perf_counter()
    done = upgrade(engine, get_settings().city_code)
    if done:
        print(f"upgraded {engine.url.render_as_string(hide_password=True)} in {time.perf_counter() - started:.1f} s: "
              + "; ".join(done))
    return 0


def import_beds_command(args: argparse.Namespace) -> int:
    """Check a bed spreadsheet whole; apply it whole only when every line is right."""
    from clock import now_utc
    from imports.beds import check_bed_sheet
    from imports.tables import read_table
    from queries.engine import make_engine
    from queries.facilities import apply_bed_counts, hospital_codes

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file {path}", file=sys.stderr)
        return 2
    engine = make_engine(args.database_url)
    sheet = check_bed_sheet(read_table(path.read_bytes(), path.name), hospital_codes(engine))
    for problem in sheet.problems:
        print(str(problem), file=sys.stderr)
    if not sheet.ok:
        print(f"{path.name}: {len(sheet.problems)} problem(s); nothing was imported. "
              "Correct the lines above and run the command again.", file=sys.stderr)
        return 1
    hospitals = sheet.rows["hospital_code"].nunique()
    if args.check:
        print(f"{path.name}: {len(sheet.rows)} bed counts of {hospitals} hospitals are ready to import")
        return 0
    updated = apply_bed_counts(engine, sheet.rows, args.source, now_utc())
    print(f"{path.name}: set {updated} bed counts of {hospitals} hospitals (source: {args.source})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cli.py", description="CityOps command line")
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed", help="build the Ningbo demo city (replaces existing data)")
    seed.add_argument("--days", type=float, default=30, help="days of incidents up to now")
    seed.add_argument("--seed", type=int, default=7, help="random seed (same seed, same city)")
    seed.add_argument("--database-url", default=None, help="default: settings DATABASE_URL")
    seed.set_defaults(handler=seed_command)
    upgrade = sub.add_parser("upgrade", help="bring a database built by an earlier version up to date")
    upgrade.add_argument("--database-url", default=None, help="default: settings DATABASE_URL")
    upgrade.set_defaults(handler=upgrade_command)
    beds = sub.add_parser("import-beds", help="set hospital bed counts from a CSV/XLSX sheet (all lines or none)")
    beds.add_argument("file", help="a .csv (UTF-8 or GBK) or .xlsx: 医院编码, 床位类型, 总床位, 占用床位")
    beds.add_argument("--source", default="卫健委 health commission", help="who sent the figures")
    beds.add_argument("--check", action="store_true", help="only check the sheet; change nothing")
    beds.add_argument("--database-url", default=None, help="default: settings DATABASE_URL")
    beds.set_defaults(handler=import_beds_command)
    args = parser.parse_args(argv)
    if args.command == "seed" and args.days <= 0:
        parser.error("--days must be positive")
    try:
        return args.handler(args)
    except CityOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # e.g. SQLite "database is locked", PostgreSQL unreachable
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        print(f"error: the database did not take the change ({reason}); nothing was changed. "
              "Stop what else writes to it (the app, the intake service) or check that it is reachable, "
              "then run the command again.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
