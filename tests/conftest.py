"""Shared fixtures: each demo database built once per session, then copied (read-only tests share one copy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from tests.browser import (  # noqa: F401 - fixtures, one per session
    chromium,
    dashboard,
    dashboard_page,
    requested_urls,
)
from tests.support import BACKENDS, SMALL_DAYS, DemoTemplates, discard


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory) -> DemoTemplates:
    """The session's demo cities, each built on first use: `demo_templates.copy(backend, folder, days=...)`."""
    return DemoTemplates(tmp_path_factory.mktemp("templates"))


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
