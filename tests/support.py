"""Test helpers: demo databases on SpatiaLite files and on the test PostGIS server, built once and copied."""

from __future__ import annotations

import html
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from filelock import FileLock
from markdown_it import MarkdownIt
from sqlalchemy.engine import Engine, make_url

from clock import now_utc
from demo.build import build_demo
from queries.engine import make_engine
from queries.incidents import Window

POSTGRES_ENV = "CITYOPS_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgis")
DEMO_DAYS = 2  # the shared demo city: two days of incidents, enough for every window the tests ask
SMALL_DAYS = 0.1  # about 1,000 incidents in every status: for tests that write, quick to copy and recount


def postgres_url_or_skip() -> str:
    """The test server's URL; a missing server skips locally but fails under CI=true."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"{POSTGRES_ENV} is not set: run the suite with ./scripts/run-tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


def _on_server(*statements: str) -> None:
    """Run statements on the test server's own database, outside a transaction (CREATE/DROP DATABASE)."""
    admin = sa.create_engine(make_url(postgres_url_or_skip()), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        admin.dispose()


def _new_postgres_url() -> sa.URL:
    """The URL of a database on the test server under a name nobody uses yet."""
    return make_url(postgres_url_or_skip()).set(database=f"cityops_{uuid.uuid4().hex[:10]}")


def _new_sqlite_path(tmp_dir: Path) -> Path:
    return tmp_dir / f"cityops-{uuid.uuid4().hex[:8]}.sqlite"


def new_database(backend: str, tmp_dir: Path) -> str:
    """The URL of a new, empty database on the backend (PostGIS: a new database with postgis)."""
    if backend == "sqlite":
        return f"sqlite:///{_new_sqlite_path(tmp_dir)}"
    url = _new_postgres_url()
    _on_server(f'CREATE DATABASE "{url.database}"')
    with sa.create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    return url.render_as_string(hide_password=False)


def demo_engine(backend: str, tmp_dir: Path, days: float = DEMO_DAYS, seed: int = 7) -> Engine:
    """A new database on the backend holding the demo city with `days` of incidents (built: slow)."""
    engine = make_engine(new_database(backend, tmp_dir), create=True)
    build_demo(engine, days=days, seed=seed)
    return engine


def copy_sqlite(source: str, target: Path) -> Path:
    """A consistent copy of a SQLite file (WAL content included), via SQLite's backup API."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def copy_database(source_url: str, tmp_dir: Path) -> str:
    """The URL of a new database holding a copy of source (PostGIS: source must have no connections)."""
    source = make_url(source_url)
    if source.get_backend_name() == "sqlite":
        assert source.database, f"{source_url} names no file"
        return f"sqlite:///{copy_sqlite(source.database, _new_sqlite_path(tmp_dir))}"
    url = _new_postgres_url()
    _on_server(f'CREATE DATABASE "{url.database}" TEMPLATE "{source.database}"')
    return url.render_as_string(hide_password=False)


def discard(engine: Engine) -> None:
    """Close the engine's connections; a PostGIS copy is dropped (whoever still holds a connection)."""
    engine.dispose()
    if engine.dialect.name == "postgresql":
        _on_server(f'DROP DATABASE IF EXISTS "{engine.url.database}" WITH (FORCE)')


class DemoTemplates:
    """Each demo city (backend x days of incidents) built once per test run, handed out as fresh copies.

    `tmp_dir` is shared by the run's pytest-xdist workers: the first worker that asks for a city builds
    it there holding a file lock and records its URL; a worker asking meanwhile waits for the lock and
    copies the same template (a build costs a core for up to a minute; waiting costs nothing).
    A template is never opened after its build (PostGIS refuses connections to it), so copying
    never waits for, or copies half of, someone else's transaction."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self._urls: dict[tuple[str, float], str] = {}

    def copy(self, backend: str, tmp_dir: Path, days: float = DEMO_DAYS) -> Engine:
        """A new database of its own (SQLite file under tmp_dir) holding the demo city with `days` of incidents."""
        key = (backend, days)
        if key not in self._urls:
            self._urls[key] = self._built(backend, days)
        return make_engine(copy_database(self._urls[key], tmp_dir))

    def _built(self, backend: str, days: float) -> str:
        """The template's URL: recorded by whichever worker built it, else built now."""
        record = self.tmp_dir / f"demo-{backend}-{days}.url"
        with FileLock(self.tmp_dir / f"demo-{backend}-{days}.lock"):
            if not record.exists():
                record.write_text(self._build(backend, days), encoding="utf-8")
            return record.read_text(encoding="utf-8")

    def _build(self, backend: str, days: float) -> str:
        engine = demo_engine(backend, self.tmp_dir, days=days)
        url = engine.url.render_as_string(hide_password=False)
        engine.dispose()  # SQLite: the last close checkpoints the WAL into the file
        if backend == "postgis":
            _on_server(f'ALTER DATABASE "{engine.url.database}" ALLOW_CONNECTIONS false')
        return url


def poppler(tool: str, *args: str) -> str:
    """Run a poppler-utils tool (pdftoppm, pdftotext, pdffonts) and return its stdout."""
    path = shutil.which(tool)
    assert path, f"{tool} is missing: apt-get install poppler-utils"
    return subprocess.run([path, *args], capture_output=True, text=True, check=True).stdout  # noqa: S603


def demo_window() -> Window:
    """A window holding every incident of the 2-day demo database (and the hour to come)."""
    end = now_utc()
    return Window(end - timedelta(hours=49), end + timedelta(hours=1))


def markdown_text(source: str) -> str:
    """What a reader sees of a Markdown source (an element's value in AppTest), rendered by an
    independent CommonMark parser, tags dropped, invisible word joiners removed."""
    rendered = MarkdownIt("commonmark").render(source)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\u2060", "").strip()
