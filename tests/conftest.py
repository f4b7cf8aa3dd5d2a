"""Shared fixtures: each demo database built once per session, then copied (read-only tests share one copy)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from xdist.scheduler import LoadFileScheduling

from tests.browser import (  # noqa: F401 - fixtures, one per session
    chromium,
    dashboard,
    dashboard_page,
    requested_urls,
)
from tests.support import BACKENDS, SMALL_DAYS, DemoTemplates, discard


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory) -> DemoTemplates:
    """The run's demo cities, each built on first use: `demo_templates.copy(backend, folder, days=...)`.

    Under pytest-xdist each worker's temporary folder sits inside the run's: the templates go there, so
    the workers share them (a serial run keeps them in its own)."""
    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_folder = run_folder.parent
    folder = run_folder / "templates"
    folder.mkdir(exist_ok=True)
    return DemoTemplates(folder)


@pytest.fixture(scope="session")
def demo_engines(demo_templates, tmp_path_factory):
    """Lazily made read-only demo databases (two days of incidents) keyed by backend."""
    shared = {}

    def get(backend: str) -> Engine:
        if backend not in shared:
            shared[backend] = demo_templates.copy(backend, tmp_path_factory.mktemp(backend))
        return shared[backend]

    return get


@pytest.fixture(params=BACKENDS)
def engine(request, demo_engines):
    """The shared read-only demo database, once on SpatiaLite and once on PostGIS."""
    return demo_engines(request.param)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Backend name, for tests that make their own database."""
    return request.param


@pytest.fixture
def writable(backend, demo_templates, tmp_path) -> Iterator[Engine]:
    """A fresh copy of the small demo city for one test that writes, on SpatiaLite and on PostGIS."""
    engine = demo_templates.copy(backend, tmp_path, days=SMALL_DAYS)
    yield engine
    discard(engine)


# The test files with browser tests (their tests use the chromium fixture; collection checks this list).
# Under run-tests' two workers they are one unit of work together: one worker runs them one after another
# with one chromium and one served dashboard, while the other runs the database and service tests (two
# browsers drawing at once on two cores only slow each other down, and time out sooner under load).
BROWSER_FILES = frozenset({
    "test_attack_catalogue.py", "test_browser_dashboard.py", "test_imports_browser.py", "test_map_clicks_browser.py",
    "test_signin_browser.py",
    "test_scenarios_browser.py", "test_texts_browser.py", "test_view_follows.py", "test_wall_browser.py",
})
ALONE_FIRST = ("test_types.py",)  # a cold mypy cache: minutes of one core, best begun early


class BrowserFilesTogether(LoadFileScheduling):
    """xdist's `--dist loadfile` (each test file whole to one worker: its module fixtures are built once),
    but with every browser file in one unit. (`--dist loadgroup` would say this with marks, but it does
    not group under pytest 9.2: pytest-xdist issue #1386.)"""

    def _split_scope(self, nodeid: str) -> str:
        file = super()._split_scope(nodeid)
        return "browser" if Path(file).name in BROWSER_FILES else file


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before xdist's own, which would answer first
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadFileScheduling | None:
    if config.getvalue("dist") != "loadfile":
        return None
    config.option.loadscopereorder = False  # the units go in the workers' collection order (below)
    return BrowserFilesTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """BROWSER_FILES names exactly the collected files with browser tests; under pytest-xdist the work
    is queued longest first, so that no worker is left with a long pole at the end while the other
    idles: the browser files, then ALONE_FIRST, then the other files by number of tests (xdist's own
    order). A serial run keeps pytest's order."""
    by_file: dict[str, list[pytest.Item]] = {}
    for item in items:
        by_file.setdefault(item.path.name, []).append(item)
    browser = {name for name, tests in by_file.items()
               if any("chromium" in getattr(test, "fixturenames", ()) for test in tests)}
    if wrong := browser ^ (BROWSER_FILES & by_file.keys()):
        raise pytest.UsageError(f"tests/conftest.py BROWSER_FILES is wrong about {sorted(wrong)}")
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return

    def rank(name: str) -> tuple[int, int]:
        return (0 if name in browser else 1 if name in ALONE_FIRST else 2), -len(by_file[name])

    items[:] = [item for name in sorted(by_file, key=rank) for item in by_file[name]]
