"""The one place that creates database engines and prepares every new connection."""

from __future__ import annotations

import importlib
import sqlite3
from functools import lru_cache, partial
from pathlib import Path
from types import ModuleType
from typing import Any, Literal
from urllib.parse import quote

import sqlalchemy as sa
from geoalchemy2.admin.dialects.sqlite import init_spatialite
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from access import Jurisdiction
from errors import DatabaseUnavailable, Message, SpatialiteMissing
from settings import get_settings

SEED_COMMAND = "python cli.py seed --days 30 --seed 7"
SPATIALITE_INSTALL_HINT = Message("db.no_spatialite", command="sudo apt-get install libsqlite3-mod-spatialite",
                                  setting="CITYOPS_SPATIALITE_LIBRARY_PATH")


def _sqlite_dbapi() -> ModuleType:
    """pysqlite3 when the interpreter's sqlite3 cannot load extensions (pyenv builds often can't)."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        return importlib.import_module("pysqlite3.dbapi2")
    except ImportError as exc:
        raise SpatialiteMissing(Message("db.no_extensions", command="pip install pysqlite3-binary")) from exc


def _load_spatialite(dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
    """Load the extension the settings name, then give a new database SpatiaLite's metadata tables.

    Not GeoAlchemy2's load_spatialite: it reads SPATIALITE_LIBRARY_PATH from the environment, so a
    process that had not exported it first (e.g. by calling get_settings) found no SpatiaLite.
    """
    dbapi_conn.enable_load_extension(True)
    dbapi_conn.load_extension(get_settings().spatialite_library_path)
    dbapi_conn.enable_load_extension(False)
    init_spatialite(dbapi_conn, record, init_mode="WGS84", transaction=True)


# How hard a commit waits for the disk. NORMAL (readers, bulk loads) syncs only at WAL checkpoints:
# a power cut can roll back the last commits. FULL syncs the WAL at every commit: what a writer
# that answers "stored" (the intake's 201) must use. On PostgreSQL the same promise is
# synchronous_commit = on, set on the connection whatever the server's default.
Synchronous = Literal["NORMAL", "FULL"]


# sqlite3.Connection stands for pysqlite3's too: the same DB-API class, built from the same source.
def _prepare_sqlite_connection(
    dbapi_conn: sqlite3.Connection, record: ConnectionPoolEntry, *, synchronous: Synchronous = "NORMAL"
) -> None:
    # WAL lets the app, the intake service and the simulator read while one process writes.
    dbapi_conn.execute("PRAGMA busy_timeout = 15000")
    dbapi_conn.execute("PRAGMA journal_mode = WAL")
    dbapi_conn.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[synchronous]}")
    dbapi_conn.execute("PRAGMA foreign_keys = ON")
    try:
        _load_spatialite(dbapi_conn, record)
    except Exception as exc:  # the driver raises its own OperationalError type
        raise SpatialiteMissing(SPATIALITE_INSTALL_HINT) from exc


def _sqlite_begin(conn: sa.Connection) -> None:
    # pysqlite's own transaction handling is off (isolation_level=None), so SQLAlchemy begins;
    # BEGIN IMMEDIATE would serialise readers too, plain BEGIN is enough with one writer path.
    # A schema change asks for IMMEDIATE (execution option sqlite_immediate): it must hold the write
    # lock before it reads the schema, or two at once would both read "not yet done".
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")


_SYNCHRONOUS: dict[Synchronous, str] = {"NORMAL": "NORMAL", "FULL": "FULL"}  # never a caller's text in a PRAGMA


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The file of a SpatiaLite URL (None for PostGIS or an in-memory database)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _open_existing_only(dialect: sa.Dialect, record: ConnectionPoolEntry, cargs: list[Any],
                        cparams: dict[str, Any]) -> None:
    """Open the SQLite file read-write only (SQLite's URI mode=rw): a missing file is an error, never
    a new empty database, so a mistyped path or a deleted file cannot turn into an empty city.
    Changes the driver's arguments only: engine.url stays the URL it was given."""
    filename = cargs[0] if cargs else cparams.pop("database")
    if filename.startswith("file:") or filename in ("", ":memory:"):
        return
    cargs[:] = [f"file:{quote(str(Path(filename).resolve()))}?mode=rw"]
    cparams["uri"] = True


@lru_cache(maxsize=8)
def make_engine(url: str | None = None, *, synchronous: Synchronous = "NORMAL", create: bool = False) -> Engine:
    """The engine for a URL (default: settings.database_url), one per process, URL, commit mode and
    create flag.

    synchronous="FULL" is for the one writer whose answers promise the data is on disk (the intake);
    it gets an engine (and pool) of its own, so the readers' connections stay NORMAL. Only the
    commands that build a database (cli.py seed, upgrade, revision; test fixtures) pass create=True:
    every reader and writer opens an existing SQLite file or fails (see check_reachable).
    """
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            module=_sqlite_dbapi(),
            connect_args={"check_same_thread": False, "timeout": 15, "isolation_level": None},
            pool_pre_ping=False,
        )
        event.listen(engine, "connect", partial(_prepare_sqlite_connection, synchronous=synchronous))
        event.listen(engine, "begin", _sqlite_begin)
        if not create:
            event.listen(engine, "do_connect", _open_existing_only)
        return engine
    durable = {"options": "-c synchronous_commit=on"} if synchronous == "FULL" else {}
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=durable)
    event.listen(engine, "begin", _postgres_begin)
    return engine


# The execution option that carries a viewer's access.Jurisdiction (set by within(), read by
# queries.scope.resolve and, on PostgreSQL, by the row-level security policies of revision 0005).
JURISDICTION = "cityops_jurisdiction"


def within(engine: Engine, jurisdiction: Jurisdiction) -> Engine:
    """The engine as a viewer with this jurisdiction sees the database (same pool): every scope outside it is
    refused (queries.scope.resolve), and on PostgreSQL each transaction begins with the setting
    cityops.jurisdiction, which row-level security keeps every incident, facility and roll-up row inside."""
    return engine.execution_options(**{JURISDICTION: jurisdiction})


def jurisdiction_of_connection(conn: sa.Connection) -> Jurisdiction | None:
    """The jurisdiction a connection reads within (None: a system connection, e.g. the intake's)."""
    found: Jurisdiction | None = conn.get_execution_options().get(JURISDICTION)
    return found


def _postgres_begin(conn: sa.Connection) -> None:
    # set_config(..., true) is SET LOCAL with a bound value: it ends with the transaction, so a pooled
    # connection never carries one viewer's jurisdiction into the next one's.
    jurisdiction = jurisdiction_of_connection(conn)
    if jurisdiction is not None:
        conn.exec_driver_sql("SELECT set_config('cityops.jurisdiction', %(prefix)s, true)",
                             {"prefix": jurisdiction.prefix})


def writer_engine(engine: Engine, synchronous: Synchronous = "FULL") -> Engine:
    """The engine of the same database for a writer that commits with the given durability."""
    return make_engine(engine.url.render_as_string(hide_password=False), synchronous=synchronous)


def _missing_file(engine: Engine) -> Message | None:
    """What to say when the engine's SQLite file does not exist (None when it does, or for PostGIS)."""
    path = sqlite_file(engine.url)
    if path is None or path.exists():
        return None
    return Message("db.missing_file", path=str(path), command=SEED_COMMAND)


def check_reachable(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a hint when the database is down or not built."""
    missing = _missing_file(engine)
    if missing:
        raise DatabaseUnavailable(missing)
    try:
        with engine.connect() as conn:
            has_area = sa.inspect(conn).has_table("area")
    except SpatialiteMissing:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseUnavailable(Message("db.unreachable", error=exc.__class__.__name__)) from exc
    if not has_area:
        raise DatabaseUnavailable(Message("db.not_built", command=SEED_COMMAND))


def database_identity(engine: Engine) -> str:
    """Which database an engine reads, comparable across processes: the SQLite file's real path, or
    the PostgreSQL URL without its password."""
    path = sqlite_file(engine.url)
    if path is not None:
        return f"sqlite:///{path.resolve()}"
    return engine.url.render_as_string(hide_password=True)
