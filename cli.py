"""Command line: `python cli.py seed --days 30 --seed 7` builds the embedded demo database;
`python cli.py upgrade` runs the schema revisions (queries/migrations) up to this version's;
`python cli.py revision -m "..."` writes the next one from changes to queries/schema.py;
`python cli.py import-beds beds.xlsx` / `import-stock stock.csv` set hospital beds / depot stock
from a department's sheet;
`python cli.py users add|list|disable|enable|set-role` keeps the users (roles and home area) the app lets in."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.exc import OperationalError
from tqdm import tqdm

from errors import CityOpsError

if TYPE_CHECKING:  # for annotations only: the commands import pandas and queries/ inside their functions
    from datetime import datetime

    import pandas as pd
    from sqlalchemy.engine import Engine

    from access import Account
    from queries.facilities import Applied

    class SheetApplier(Protocol):
        """apply_bed_counts and apply_stock name their frame differently (beds, lines): both take it positionally."""

        def __call__(self, engine: Engine, frame: pd.DataFrame, source: str, at: datetime, /, *,
                     confirm_unchanged: bool = False) -> Applied: ...


SEED_STEPS = ("areas", "facilities", "incidents", "writing", "roll-ups", "analyze")


def seed_command(args: argparse.Namespace) -> int:
    from demo.build import build_demo
    from queries.engine import make_engine

    started = time.perf_counter()
    engine = make_engine(args.database_url, create=True)
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
    from queries.upgrade import head_revision, upgrade
    from settings import get_settings

    engine = make_engine(args.database_url, create=True)
    where = engine.url.render_as_string(hide_password=True)
    started = time.perf_counter()
    done = upgrade(engine, get_settings().city_code)
    if done:
        print(f"upgraded {where} in {time.perf_counter() - started:.1f} s: " + "; ".join(done))
    else:
        print(f"{where} is current (schema revision {head_revision()})")
    return 0


def ready_command(args: argparse.Namespace) -> int:
    """Readiness of the app's side for an exec probe: exit 0 when the database answers (a catalogue
    look-up), 2 with the reason when not. Streamlit's /_stcore/health only says the server runs."""
    from queries.engine import check_reachable, database_identity, make_engine

    engine = make_engine(args.database_url)
    check_reachable(engine)  # DatabaseUnavailable -> "error: ..." and exit 2 (main)
    print(f"ready: {database_identity(engine)}")
    return 0


def revision_command(args: argparse.Namespace) -> int:
    """Autogenerate the next schema revision against a database at head (a scratch SpatiaLite file by default)."""
    from queries.engine import make_engine
    from queries.upgrade import upgrade, write_revision
    from settings import get_settings

    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(args.database_url or f"sqlite:///{Path(scratch) / 'head.sqlite'}", create=True)
        if not args.database_url:
            upgrade(engine, get_settings().city_code)
        path = write_revision(engine, args.message)
        engine.dispose()
    if path is None:
        print("queries/schema.py and the revisions agree: no revision written")
        return 0
    print(f"wrote {path}: read it, add what a comparison cannot know (e.g. recounting derived rows), "
          "then run `python cli.py upgrade`")
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Check a sheet whole; apply it whole only when every line is right."""
    from clock import now_utc
    from imports.beds import check_bed_sheet
    from imports.sheets import source_name
    from imports.stock import check_stock_sheet
    from imports.tables import read_table
    from queries import facilities
    from queries.engine import make_engine

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file {path}", file=sys.stderr)
        return 2
    source = source_name(args.source)
    engine = make_engine(args.database_url)
    frame = read_table(path.read_bytes(), path.name)
    apply: SheetApplier
    if args.command == "import-beds":
        sheet, owner, apply = check_bed_sheet(frame, facilities.hospital_codes(engine)), "hospital_code", \
            facilities.apply_bed_counts
    else:
        sheet, owner, apply = check_stock_sheet(frame, facilities.stock_units(engine)), "depot_code", \
            facilities.apply_stock
    for problem in sheet.problems:
        print(str(problem), file=sys.stderr)
    if not sheet.ok:
        print(f"{path.name}: {len(sheet.problems)} problem(s); nothing was imported. "
              "Correct the lines above and run the command again.", file=sys.stderr)
        return 1
    owners = sheet.rows[owner].nunique()
    if args.check:
        print(f"{path.name}: {len(sheet.rows)} lines for {owners} facilities are ready to import")
        return 0
    done = apply(engine, sheet.rows, source, now_utc(), confirm_unchanged=args.confirm_unchanged)
    print(f"{path.name}: {done.changed} lines changed, {done.same} the same (not written, stamps kept), "
          f"{done.confirmed} confirmed unchanged; {done.facilities} facilities stamped as updated (source: {source})")
    return 0


def _user_line(account: Account) -> str:
    state = "enabled" if account.enabled else "DISABLED"
    return "\t".join([account.subject, account.name, account.email or "-", ",".join(account.roles),
                      account.home_code, state])


def users_command(args: argparse.Namespace) -> int:
    """The app_user table through the same query functions as the Users page."""
    from clock import now_utc
    from queries import users
    from queries.engine import make_engine

    engine = make_engine(args.database_url)
    if args.action == "list":
        accounts = users.list_users(engine)
        print("\t".join(["subject", "name", "email", "roles", "home", "state"]))
        for account in accounts:
            print(_user_line(account))
        return 0
    if args.action == "add":
        done = users.add_user(engine, args.subject, name=args.name or args.subject, roles=args.roles.split(","),
                              home_code=args.home, email=args.email, at=now_utc())
        print(f"added {_user_line(done)}")
    elif args.action == "set-role":
        done = users.set_roles(engine, args.subject, args.roles.split(","), home_code=args.home, at=now_utc())
        print(f"changed {_user_line(done)}")
    else:
        done = users.set_enabled(engine, args.subject, args.action == "enable", at=now_utc())
        print(f"{args.action}d {_user_line(done)}" + (": open sessions lose their data at their next refresh"
                                                       if args.action == "disable" else ""))
    return 0


def _users_parser(sub: argparse._SubParsersAction) -> None:
    from access import ROLES

    command = sub.add_parser("users", help="the users the app lets in: their roles and home area")
    actions = command.add_subparsers(dest="action", required=True)
    roles_help = f"comma-separated roles: {', '.join(ROLES)}"
    add = actions.add_parser("add", help="add an enabled user")
    add.add_argument("subject", help="the user's id in the identity provider (the ID token's `sub`)")
    add.add_argument("--roles", required=True, help=roles_help)
    add.add_argument("--home", required=True, help="home area code: the user sees it and the areas inside it")
    add.add_argument("--name", default=None, help="display name (default: the subject)")
    add.add_argument("--email", default=None, help="found by it when the subject is not (a verified email only)")
    actions.add_parser("list", help="every user with roles, home area and state")
    for name, what in (("disable", "refuse a user (open sessions lose their data at their next refresh)"),
                       ("enable", "let a disabled user in again")):
        action = actions.add_parser(name, help=what)
        action.add_argument("subject")
    set_role = actions.add_parser("set-role", help="replace a user's roles (and home area)")
    set_role.add_argument("subject")
    set_role.add_argument("roles", help=roles_help)
    set_role.add_argument("--home", default=None, help="a new home area code")
    for action in actions.choices.values():
        action.add_argument("--database-url", default=None, help="default: settings DATABASE_URL")
    command.set_defaults(handler=users_command)


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
    ready = sub.add_parser("ready", help="exit 0 when the database answers (readiness probe), 2 when not")
    ready.add_argument("--database-url", default=None, help="default: settings DATABASE_URL")
    ready.set_defaults(handler=ready_command)
    revision = sub.add_parser("revision", help="write the next schema revision from changes to queries/schema.py")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes, e.g. 'reshape roll-ups'")
    revision.add_argument("--database-url", default=None,
                          help="compare with this database at head (default: a scratch SpatiaLite file)")
    revision.set_defaults(handler=revision_command)
    for name, what, columns, source in (
        ("import-beds", "hospital bed counts", "医院编码, 床位类型, 总床位, 占用床位", "市卫健委"),
        ("import-stock", "depot stock", "仓库编码, 物资名称, 数量 [, 储备下限]", "市应急管理局"),
    ):
        command = sub.add_parser(name, help=f"set {what} from a CSV/XLSX sheet (all lines or none)")
        command.add_argument("file", help=f"a .csv (UTF-8 or GBK) or .xlsx: {columns}")
        command.add_argument("--source", default=source, help="who sent the figures")
        command.add_argument("--check", action="store_true", help="only check the sheet; change nothing")
        command.add_argument("--confirm-unchanged", action="store_true",
                             help="the department confirms the lines with today's figures: stamp them as updated "
                                  "too (by default only lines whose figures change are written and stamped)")
        command.add_argument("--database-url", default=None, help="default: settings DATABASE_URL")
        command.set_defaults(handler=import_command)
    _users_parser(sub)
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
