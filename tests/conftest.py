"""Shared fixtures: one demo database per backend per session (read-only tests share it)."""

from __future__ import annotations

import pytest

from settings import get_settings
from tests.browser import chromium, dashboard, dashboard_page, requested_urls  # noqa: F401 - fixtures, one per session
from tests.support import BACKENDS, demo_engine

get_settings()  # exports SPATIALITE_LIBRARY_PATH before any engine connects


@pytest.fixture(scope="session")
def demo_engines(tmp_path_factory):
    """Lazily built demo databases keyed by backend (built on first use)."""
    built = {}

    def get(backend: str):
        if backend not in built:
            built[backend] = demo_engine(backend, tmp_path_factory.mktemp(backend))
        return built[backend]

    return get


@pytest.fixture(params=BACKENDS)
def engine(request, demo_engines):
    """The shared read-only demo database, once on SpatiaLite and once on PostGIS."""
    return demo_engines(request.param)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Backend name, for tests that build their own (writable) database."""
    return request.param
