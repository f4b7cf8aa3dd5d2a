"""Playwright helpers for browser tests: Debian chromium, a served dashboard, screenshots, the deck map.

tests/conftest.py imports the fixtures, so the whole session shares them: a test module that
imported them by name would start a second Playwright, which fails inside the first one's event
loop. The fixtures:

- ``chromium``: one headless Debian chromium per session (skipped if absent, a failure under CI=true);
- ``dashboard``: one ``streamlit run app.py`` per session on a free port, over a copy of the
  shared SpatiaLite demo database: ``dashboard.url("incidents", scope="330212")`` (the overview is
  the default page, ``dashboard.url(scope=...)``; ``/overview`` is "page not found"),
  ``dashboard.engine`` for the figures to compare with;
- ``dashboard_page``: a fresh 1600x1000 page; ``requested_urls``: every URL that page asks for.

The functions: ``open_page`` (go to a URL, wait for the breadcrumbs that every page frame draws, or
another ``ready`` selector, and for the script run's end), ``wait_idle``, ``screenshot`` (PNG under
test-artifacts/, whole page by default), ``serve_dashboard`` (any database URL, own port and log),
``copy_sqlite`` and ``DeckMap`` (a pydeck map: lon/lat -> page pixel from the view state the app
gave it, ``spot`` = a pixel where the tooltip names an area, ``tooltip_at``, ``drag``, ``wheel_zoom``).

PYTEST_DONT_REWRITE: test modules import helpers from here before pytest loads it as a plugin.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
import shapely
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, BrowserContext, FloatRect, Locator, Page, ViewportSize, sync_playwright
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.engine import Engine

from demo.signin import DemoAccount, auth_secrets, demo_accounts
from queries.engine import make_engine
from tests.support import copy_sqlite

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
VIEWPORT: ViewportSize = {"width": 1600, "height": 1000}
DECK = "[data-testid=stDeckGlJsonChart]"
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
TILE_SIZE = 512  # deck.gl's Web Mercator: 512 * 2**zoom pixels round the world
# Every served app of a run shares one cookie secret. A sign-in still holds only on the app it was made on:
# Streamlit's cookie names the origin (port included), and another app takes it for no sign-in at all.
COOKIE_SECRET = "cityops-tests-" + os.urandom(12).hex()
# The existing tests look at every page but the admin's: they sign in as a city-wide user with the roles that open
# them (duty officer, planner, data officer); tests/test_signin_browser.py signs in as each demo account.
TESTER = DemoAccount("tester", "Tester", ("duty_officer", "planner", "data_officer"), "330200")
DEFAULT_SUBJECT = TESTER.subject
SIGN_IN = "[class*='st-key-sign-in'] button"
_PROVIDER: list[str] = []  # the run's OpenID provider's URL, once started
_ON_EXIT = ExitStack()
atexit.register(_ON_EXIT.close)


def provider_url() -> str:
    """The run's OpenID provider (oidc-provider-mock on loopback, in a thread), started on first use with the
    demo accounts (demo.signin)."""
    if not _PROVIDER:
        users = [User(sub=a.subject, claims=a.claims()) for a in (*demo_accounts(), TESTER)]
        server = _ON_EXIT.enter_context(run_server_in_thread(port=free_port(), user_claims=users))
        _PROVIDER.append(f"http://localhost:{server.server_port}")
    return _PROVIDER[0]


def sign_in(page: Page, base_url: str, subject: str = DEFAULT_SUBJECT, *, timeout: float = 60_000) -> None:
    """The real OpenID Connect flow: the app's sign-in button, the provider's page (the account picked by its
    subject), back to the app signed in."""
    page.goto(base_url)
    page.locator(SIGN_IN).click(timeout=timeout)
    page.locator(f"button[name=sub][value='{subject}']").click(timeout=timeout)
    page.wait_for_url(f"{base_url}/**", timeout=timeout)
    page.wait_for_selector("[class*='st-key-account-box'], [data-testid=stAlert]", timeout=timeout)


def chromium_or_skip() -> str:
    """The chromium binary; missing, it skips locally but fails under CI=true."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"{CHROMIUM} is missing: apt-get install chromium (scripts/bootstrap --dev)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServedApp:
    """A running dashboard: its base URL, the database it reads, its log file."""

    base_url: str
    database_url: str
    log_path: Path
    _states: dict[str, dict] | None = None

    def signed_in(self, browser: Browser, subject: str = DEFAULT_SUBJECT) -> dict:
        """The storage state (cookies) of a browser signed in to this app as `subject`, signed in once."""
        if self._states is None:
            self._states = {}
        if subject not in self._states:
            context = browser.new_context(viewport=VIEWPORT)
            try:
                sign_in(context.new_page(), self.base_url, subject)
                self._states[subject] = context.storage_state()  # type: ignore[assignment]
            finally:
                context.close()
        return self._states[subject]

    def context(self, browser: Browser, subject: str = DEFAULT_SUBJECT, **options) -> BrowserContext:
        """A new browser context signed in to this app as `subject`."""
        return browser.new_context(storage_state=self.signed_in(browser, subject), **options)  # type: ignore[arg-type]

    def url(self, path: str = "", **params: str) -> str:
        """e.g. url("incidents", scope="330212") -> http://127.0.0.1:PORT/incidents?scope=330212"""
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}/{path}{query}"

    @property
    def engine(self) -> Engine:
        """An engine on the same database, for the independent figures a test compares with."""
        return make_engine(self.database_url)


def _wait_healthy(process: subprocess.Popen, base_url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as answer:  # noqa: S310 - localhost
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


@contextmanager
def serve_dashboard(database_url: str, log_dir: Path, *, port: int | None = None,
                    timeout: float = 90, extra_env: dict[str, str] | None = None) -> Iterator[ServedApp]:
    """Run `streamlit run app.py` on database_url until the block ends; wait for /_stcore/health."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = log_dir / f"streamlit-{port}.log"
    env = {**os.environ, "DATABASE_URL": database_url, **(extra_env or {})}
    env.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    secrets_path = log_dir / f"secrets-{port}.toml"
    secrets_path.write_text(auth_secrets(base_url, provider_url(), cookie_secret=COOKIE_SECRET), encoding="utf-8")
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--secrets.files", str(secrets_path)]
    with log_path.open("wb") as log:
        # Its own session, so the whole process group can be ended by its id afterwards.
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log,  # noqa: S603
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(process, base_url, log_path, timeout)
        yield ServedApp(base_url, database_url, log_path)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait(timeout=10)


def wait_idle(page: Page, timeout: float = 60_000) -> None:
    """Wait until the app's script run has finished (Streamlit marks it on the root element)."""
    page.wait_for_selector(IDLE, timeout=timeout)


BREADCRUMBS = "[class*='st-key-crumb-'] button"


def open_page(page: Page, url: str, *, ready: str = BREADCRUMBS, timeout: float = 60_000) -> None:
    """Go to url; wait for the `ready` selector (default: the page frame's breadcrumbs) and the run's end."""
    page.goto(url)
    page.wait_for_selector(ready, timeout=timeout)
    wait_idle(page, timeout)


def screenshot(page: Page, name: str, *, whole: bool = True) -> Path:
    """Save a PNG as test-artifacts/<name>.png; whole=True grows the window to the page's height."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size or VIEWPORT
    if whole:
        # Streamlit scrolls inside its main section, so a "full page" shot needs a taller window.
        height = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                               "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight))")
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 40)})
        page.wait_for_timeout(600)  # let charts and the deck canvas redraw at the new size
    page.screenshot(path=path)
    if whole:
        page.set_viewport_size(size)
    return path


def world_pixel(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """Web Mercator world pixel of a point at a zoom (deck.gl's 512-pixel tiles)."""
    scale = TILE_SIZE * 2**zoom
    x = scale * (lon + 180) / 360
    y = scale * (1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2
    return x, y


@dataclass
class DeckMap:
    """The pydeck map on a page, with the view it was given (longitude, latitude, zoom)."""

    page: Page
    longitude: float
    latitude: float
    zoom: float
    index: int = 0
    _box: FloatRect | None = None

    @property
    def element(self) -> Locator:
        return self.page.locator(DECK).nth(self.index)

    def box(self) -> FloatRect:
        """The canvas's box on the page, measured once (after scrolling the map into view)."""
        if self._box is None:
            self.element.scroll_into_view_if_needed()
            box = self.element.locator("canvas").first.bounding_box()
            assert box is not None, "the map's canvas is not visible"
            self._box = box
        return self._box

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        """Page coordinates where the initial view draws (lon, lat)."""
        box = self.box()
        cx, cy = world_pixel(self.longitude, self.latitude, self.zoom)
        x, y = world_pixel(lon, lat, self.zoom)
        return box["x"] + box["width"] / 2 + x - cx, box["y"] + box["height"] / 2 + y - cy

    def candidates(self, geometry, avoid: Sequence[tuple[float, float]] = (), limit: int = 6):
        """Whole pixels deep inside the geometry's largest part and clear of the `avoid` (lon, lat)
        points (facility dots drawn over it), best first."""
        box = self.box()
        part = max(getattr(geometry, "geoms", [geometry]), key=lambda g: g.area)
        shape: BaseGeometry = Polygon([self.pixel(x, y) for x, y in part.exterior.coords]).buffer(0)
        shape = shape.intersection(shapely.box(box["x"] + 4, box["y"] + 4, box["x"] + box["width"] - 4,
                                               box["y"] + box["height"] - 4))
        if shape.is_empty:
            return []
        dots = np.array([self.pixel(lon, lat) for lon, lat in avoid]) if len(avoid) else np.empty((0, 2))
        minx, miny, maxx, maxy = shape.bounds
        step = max(2.0, min(maxx - minx, maxy - miny) / 30)
        scored = []  # (distance to the outline, distance to the nearest dot, x, y)
        for x in np.round(np.arange(minx, maxx, step)):
            for y in np.round(np.arange(miny, maxy, step)):
                point = Point(x, y)
                if shape.contains(point):
                    gap = float(np.hypot(*(dots - (x, y)).T).min()) if len(dots) else math.inf
                    scored.append((shape.boundary.distance(point), gap, float(x), float(y)))
        for clear in (16, 11, 7, 0):  # as far from dots as the area allows, then deepest inside
            best = sorted((s for s in scored if s[1] >= clear and s[0] >= 3), reverse=True)
            if best:
                return [(x, y) for _, _, x, y in best[:limit]]
        return []

    def spot(self, geometry, name: str, avoid: Sequence[tuple[float, float]] = ()) -> tuple[float, float]:
        """A pixel where the map's tooltip starts with `name` (computed, then confirmed by hovering)."""
        seen = []
        for x, y in self.candidates(geometry, avoid):
            tip = self.tooltip_at(x, y)
            if tip.split("\n")[0].strip() == name:
                return x, y
            seen.append(tip)
        raise AssertionError(f"no pixel shows {name!r} in the map's tooltip; tooltips seen: {seen}")

    def tooltip_at(self, x: float, y: float, *, settle_ms: int = 400) -> str:
        """The deck tooltip's text with the mouse at (x, y) ('' when nothing is picked there)."""
        self.page.mouse.move(x - 3, y - 3)
        self.page.mouse.move(x, y)
        self.page.wait_for_timeout(settle_ms)
        shown = self.page.locator(".deck-tooltip").evaluate_all(
            "els => els.filter(e => e.style.display !== 'none').map(e => e.innerText)")
        return shown[0] if shown else ""

    def drag(self, start: tuple[float, float], by: tuple[float, float]) -> None:
        """Pan the map: press at start, move by (dx, dy) pixels in steps, release."""
        self.page.mouse.move(*start)
        self.page.mouse.down()
        self.page.mouse.move(start[0] + by[0], start[1] + by[1], steps=12)
        self.page.mouse.up()

    def wheel_zoom(self, at: tuple[float, float], delta_y: float = -500) -> None:
        """Zoom about a point with the mouse wheel (negative delta zooms in)."""
        self.page.mouse.move(*at)
        self.page.mouse.wheel(0, delta_y)
        self.page.wait_for_timeout(500)

    def canvas_png(self) -> bytes:
        return self.element.locator("canvas").first.screenshot()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless chromium, launched once per test session."""
    executable = chromium_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def dashboard(demo_engines, tmp_path_factory) -> Iterator[ServedApp]:
    """The dashboard served over a copy of the session's SpatiaLite demo database."""
    folder = tmp_path_factory.mktemp("dashboard")
    source = demo_engines("sqlite").url.database
    database = copy_sqlite(source, folder / "cityops.sqlite")
    with serve_dashboard(f"sqlite:///{database}", folder) as app:
        yield app
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dashboard_page(chromium: Browser, dashboard: ServedApp) -> Iterator[Page]:
    """A fresh page in its own context, signed in to the dashboard (as TESTER)."""
    context = dashboard.context(chromium, viewport=VIEWPORT, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def requested_urls(dashboard_page: Page) -> list[str]:
    """Every URL `dashboard_page` requests from now on (Page.requests() keeps only the last 100)."""
    urls: list[str] = []
    dashboard_page.on("request", lambda request: urls.append(request.url))
    return urls
