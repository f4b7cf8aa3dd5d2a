"""The wall in headless chromium at 1080p and 4K: one screen, no chrome, its figures, rotation, outage."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.engine import make_url

from clock import now_utc
from queries import areas
from tests.browser import IDLE, ServedApp, free_port, screenshot, serve_dashboard
from tests.test_wall import expected_figures, matches

pytestmark = pytest.mark.timeout(240)

CITY, DISTRICT = "330200", "330212"
RESOLUTIONS = [(1920, 1080), (3840, 2160)]
CHROME = ("stHeader", "stToolbar", "stDecoration", "stStatusWidget", "stSidebar", "stSidebarNav",
          "stSidebarCollapsedControl", "stExpandSidebarButton", "stMainMenu", "stAppDeployButton", "stBottom")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Streamlit's client probes a page path for its base URL (/wall/_stcore/health) before the root: a 404
# it expects, not a fault of the wall.
BASE_PATH_PROBES = ("/_stcore/health", "/_stcore/host-config")


class WallPage:
    """A wall in its own browser context, with everything the page logged or requested."""

    def __init__(self, browser: Browser, size: tuple[int, int], signed_in: dict) -> None:
        self.context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="zh-CN",
                                           storage_state=signed_in)  # type: ignore[arg-type]
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.received: list[int] = []  # sizes of the websocket messages from the server
        self.page.on("console", self._console)
        self.page.on("websocket", lambda ws: ws.on("framereceived", lambda data: self.received.append(len(data))))
        self.page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message) -> None:
        where = (message.location or {}).get("url", "")
        path = urlparse(where).path
        if message.type == "error" and not (path.endswith(BASE_PATH_PROBES) and not path.startswith("/_stcore")):
            self.errors.append(f"{message.text} ({where})")

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Until the figures and the map are drawn."""
        self.page.wait_for_selector(".wall-scope[data-scope^='3302']", timeout=60_000)
        self.page.wait_for_selector("div[class*=st-key-wall-map-] canvas", timeout=90_000)
        self.page.wait_for_timeout(1500)  # the clock reports the screen size once; the map is refitted

    def scope(self) -> str:
        return self.page.locator(".wall-scope").get_attribute("data-scope") or ""

    def figures(self) -> dict[str, str]:
        shown = self.page.locator("[data-kpi]").evaluate_all(
            "els => els.map(e => [e.dataset.kpi, e.dataset.value])")
        bars = self.page.locator("[data-category]").evaluate_all(
            "els => els.map(e => ['category:' + e.dataset.category, e.dataset.value])")
        return dict(shown + bars)

    def foreign_hosts(self) -> set[str | None]:  # None: a URL without a host
        hosts = {urlparse(u).hostname for u in self.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
        return hosts - LOCAL_HOSTS

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def wall_page(chromium: Browser, dashboard: ServedApp) -> Iterator:
    """Walls signed in as the tests' user, to the dashboard or to the app given (a sign-in holds for the origin
    it was made on only: Streamlit's cookie names it)."""
    opened: list[WallPage] = []

    def make(size: tuple[int, int] = RESOLUTIONS[0], app: ServedApp | None = None) -> WallPage:
        opened.append(WallPage(chromium, size, (app or dashboard).signed_in(chromium)))
        return opened[-1]

    yield make
    for page in opened:
        page.close()


def assert_shows_query_figures(wall: WallPage, engine, code: str, timeout: float = 30) -> dict[str, str]:
    """The figures on screen equal the query layer's (overdue moves with the clock: poll a little)."""
    deadline = time.monotonic() + timeout
    while True:
        shown, expected = wall.figures(), expected_figures(engine, code)
        if matches(shown, expected):
            return shown
        if time.monotonic() > deadline:
            raise AssertionError(f"wall shows {shown}, the query layer says {expected}")
        wall.page.wait_for_timeout(1000)


def scroll_sizes(page: Page) -> dict[str, list[int]]:
    return page.evaluate("""() => Object.fromEntries([['document', document.documentElement],
        ...['stMain', 'stAppViewContainer'].map(id => [id, document.querySelector(`[data-testid=${id}]`)])]
        .map(([name, el]) => [name, [el.scrollWidth, el.scrollHeight, el.clientWidth, el.clientHeight]]))""")


def url_params(page: Page) -> set[str]:
    return set(page.evaluate("[...new URLSearchParams(location.search).keys()]"))


def font_px(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def clock_text(page: Page) -> str:
    return page.locator(".st-key-wall-clock .time").inner_text()  # Playwright's CSS enters the shadow root


def clock_ticks_past(page: Page, shown: str, within_s: float = 3.0) -> bool:
    """Whether the clock moves on from `shown` within a few seconds (it ticks every second)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if clock_text(page) != shown:
            return True
        page.wait_for_timeout(200)
    return False


def tag_map_canvases(page: Page) -> None:
    page.evaluate("document.querySelectorAll('div[class*=st-key-wall-map-] canvas').forEach(c => c._kept = true)")


def map_canvases_kept(page: Page) -> list[bool]:
    return page.evaluate("[...document.querySelectorAll('div[class*=st-key-wall-map-] canvas')].map(c => !!c._kept)")


@pytest.mark.parametrize("size", RESOLUTIONS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_wall_fills_one_screen_with_no_chrome_and_the_query_figures(dashboard: ServedApp, wall_page, size):
    wall = wall_page(size)
    wall.open(dashboard.url("", wall="1", playlist=DISTRICT))
    tag_map_canvases(wall.page)
    stamp, ticked, received = wall.page.locator(".wall-asof").inner_text(), clock_text(wall.page), len(wall.received)
    width, height = size
    sizes = scroll_sizes(wall.page)
    assert sizes == {name: [width, height, width, height] for name in sizes}, sizes
    for testid in CHROME:
        assert not wall.page.locator(f"[data-testid={testid}]").is_visible(), f"{testid} is visible"
    assert wall.page.locator("[data-testid=stMain] :is(input, select, button):visible").count() == 0
    assert urlparse(wall.page.url).path == "/wall"
    assert wall.page.locator(".wall-scope").inner_text() == areas.scope_of(dashboard.engine, DISTRICT).name
    shown = assert_shows_query_figures(wall, dashboard.engine, DISTRICT)
    assert wall.page.locator("[data-kpi=incidents] .wall-value").inner_text() == f"{int(shown['incidents']):,}"
    # Legible from 5 m: figures at least 6 % of the screen's height, labels and the clock's digits more than 2 %.
    assert font_px(wall.page, ".wall-value") >= 0.06 * height
    assert font_px(wall.page, ".wall-label") >= 0.02 * height
    assert font_px(wall.page, ".st-key-wall-clock .time") >= 0.04 * height
    pulse = wall.page.evaluate("getComputedStyle(document.querySelector('div[class*=st-key-wall-map-] > "
                               "[data-testid=stElementContainer]:last-child')).animationName")
    assert pulse == "wall-pulse"  # the recent incidents' deck breathes above the choropleth
    background = wall.page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundImage")
    assert "gradient" in background  # the dark wall theme, not the app's light one
    screenshot(wall.page, f"wall-{width}x{height}", whole=False)

    # The clock runs in the browser, in the city's time (Asia/Shanghai: UTC+8 all year).
    assert clock_ticks_past(wall.page, ticked)
    city = [(now_utc() + timedelta(hours=8, minutes=m)).strftime("%H:%M") for m in (-1, 0)]
    assert clock_text(wall.page)[:5] in city
    # A live refresh of the same scope redraws the figures but keeps the map (its canvas, hence its view).
    wall.page.wait_for_function(f"document.querySelector('.wall-asof')?.textContent !== {stamp!r}",
                                timeout=60_000)
    wall.page.wait_for_selector(IDLE, timeout=30_000)
    assert map_canvases_kept(wall.page) == [True, True]
    # The design's budget for one wall's live refresh: the unchanged choropleth is not sent again.
    assert sum(wall.received[received:]) <= 100_000, wall.received[received:]
    assert not wall.errors, wall.errors
    assert not wall.foreign_hosts(), wall.foreign_hosts()


def test_rotation_advances_through_the_url_playlist(dashboard: ServedApp, wall_page):
    wall = wall_page()
    wall.open(dashboard.url("", wall="1", rotate="5", playlist=f"{CITY},{DISTRICT}"))
    seen, deadline = [wall.scope()], time.monotonic() + 40
    while len(seen) < 2:  # the next scope of the playlist comes up by itself (wrapping round: unit test)
        wall.page.wait_for_timeout(500)
        if wall.scope() != seen[-1]:
            seen.append(wall.scope())
        assert time.monotonic() < deadline, f"the wall did not rotate: {seen}"
    assert set(seen) == {CITY, DISTRICT}
    names = {code: areas.scope_of(dashboard.engine, code).name for code in (CITY, DISTRICT)}
    assert wall.page.locator(".wall-scope").inner_text() == names[wall.scope()]
    assert not wall.errors, wall.errors


# Every state of the wall's DOM: a MutationObserver records one after each batch of changes (the browser
# paints only states that follow one) and a timer every 100 ms besides: the time, the header's scope and
# the scope each panel was computed for (data-scope; the map's container carries it in its key).
RECORD_FRAMES = """() => {
  window.wallFrames = [];
  const mapScope = el => [...el.classList].find(c => c.startsWith('st-key-wall-map-')).slice(16);
  const panel = el => [...el.classList].find(c => ['wall-kpis', 'wall-side', 'wall-legend'].includes(c));
  const record = () => window.wallFrames.push({
    t: performance.now(),
    header: document.querySelector('.wall-scope')?.dataset.scope ?? null,
    panels: [...document.querySelectorAll('.wall-kpis[data-scope], .wall-side[data-scope], .wall-legend[data-scope]')]
      .map(el => [panel(el), el.dataset.scope])
      .concat([...document.querySelectorAll('[class*=st-key-wall-map-]')].map(el => ['map', mapScope(el)])),
  });
  new MutationObserver(record).observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
  setInterval(record, 100);
}"""
PANELS = {"wall-kpis", "wall-side", "wall-legend", "map"}


def test_every_frame_of_a_rotation_shows_one_scope(dashboard: ServedApp, wall_page):
    playlist = ("330205", "330206")  # 江北区, 北仑区: the pair users saw mixed
    wall = wall_page((1920, 1080))
    wall.open(dashboard.url("", wall="1", rotate="5", playlist=",".join(playlist)))
    wall.page.evaluate(RECORD_FRAMES)
    header = "document.querySelector('.wall-scope')?.dataset.scope ?? ''"  # no waiting: '' between scopes
    headers, deadline = [wall.scope()], time.monotonic() + 90
    while len(headers) < 3 and time.monotonic() < deadline:  # two rotations: A -> B -> A
        wall.page.wait_for_timeout(100)
        if wall.page.evaluate(header) not in ("", headers[-1]):
            headers.append(wall.page.evaluate(header))
    wall.page.wait_for_timeout(2000)  # the last scope's panels finish drawing
    frames = wall.page.evaluate("window.wallFrames")
    mixed = [f for f in frames if any(scope != f["header"] for _, scope in f["panels"])]
    assert not mixed, f"{len(mixed)} of {len(frames)} frames mix scopes, e.g. {mixed[:3]}"
    assert len(headers) == 3, f"the wall did not rotate twice: {headers}"
    # Not vacuous: each scope was seen whole, all its panels under its own name.
    for code in playlist:
        assert any(f["header"] == code and {name for name, _ in f["panels"]} == PANELS for f in frames), code
    print(f"frames sampled: {len(frames)}; longest blank between two scopes: {longest_blank_ms(frames):.0f} ms")
    wall.page.wait_for_function(f"document.querySelector('.wall-scope')?.dataset.scope !== {headers[-1]!r}",
                                timeout=30_000)
    screenshot(wall.page, "wall-1920x1080-mid-rotation", whole=False)  # just after a change of scope
    assert not wall.errors, wall.errors


def longest_blank_ms(frames: list[dict]) -> float:
    """The longest run of frames with no header (the old scope dropped, the new one not drawn yet)."""
    longest, since = 0.0, None
    for frame in frames:
        if frame["header"] is None and since is None:
            since = frame["t"]
        elif frame["header"] is not None and since is not None:
            longest, since = max(longest, frame["t"] - since), None
    return longest


def test_any_page_with_wall_1_opens_the_wall_and_profiles_add_controls(dashboard: ServedApp, wall_page):
    wall = wall_page()
    wall.open(dashboard.url("incidents", wall="1", playlist=CITY, profile="picker,window"))
    assert urlparse(wall.page.url).path == "/wall"
    assert not wall.page.locator("[data-testid=stSidebar]").is_visible()
    assert wall.page.locator(".st-key-wall-controls [data-testid=stSelectbox]").is_visible()
    wall.page.locator(".st-key-wall-controls button", has_text="近7天").click()
    wall.page.wait_for_function("new URLSearchParams(location.search).get('window') === '7d'", timeout=30_000)
    wall.page.wait_for_selector("[data-kpi=incidents] .wall-label:has-text('近7天')", timeout=60_000)
    wall.page.wait_for_selector(IDLE, timeout=30_000)
    assert "近7天" in wall.page.locator(".wall-panel .wall-title").inner_text()
    assert url_params(wall.page) >= {"wall", "profile", "playlist", "window"}
    assert wall.scope() == CITY
    screenshot(wall.page, "wall-profile-picker-window", whole=False)
    assert not wall.errors, wall.errors


# ------------------------------------------------------------------ the database goes away and returns


class Outage:
    """A TCP relay to the database that can be cut (connections dropped, new ones refused) and restored."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.open_sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """The database is 'down': the port is closed and every open connection is cut."""
        with self.lock:
            sockets, self.open_sockets = self.open_sockets, []
        if self.listener:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone would not
            self.listener.close()
            self.listener = None
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open_sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@contextmanager
def relayed(database_url: str) -> Iterator[tuple[Outage, str]]:
    url = make_url(database_url)
    outage = Outage(url.host or "127.0.0.1", url.port or 5432)
    outage.start()
    try:
        yield outage, url.set(host="127.0.0.1", port=outage.port).render_as_string(hide_password=False)
    finally:
        outage.stop()


def test_wall_waits_for_the_database_and_keeps_its_figures_marked_stale_while_it_is_down(
        demo_engines, wall_page, tmp_path):
    engine = demo_engines("postgis")  # skips without the test PostGIS server (fails under CI=true)
    with relayed(engine.url.render_as_string(hide_password=False)) as (outage, relay_url), \
            serve_dashboard(relay_url, tmp_path, extra_env={"CITYOPS_LIVE_REFRESH_SECONDS": "2"}) as app:
        wall = wall_page(app=app)  # signed in while the database answers
        outage.stop()  # down before the wall's first look: it waits, calmly
        wall.page.goto(app.url("", wall="1", scope=DISTRICT))
        wall.page.wait_for_selector(".wall-waiting", timeout=60_000)
        outage.start()
        wall.wait_ready()
        before = assert_shows_query_figures(wall, engine, DISTRICT)

        outage.stop()  # down mid-run: the last good figures stay, marked stale
        wall.page.wait_for_selector(".wall-stale", timeout=40_000)
        since = wall.page.locator(".wall-stale").get_attribute("data-stale-since")
        assert wall.page.locator(".wall-stale").inner_text() == f"数据暂停更新，自 {since}"
        wall.page.wait_for_timeout(4500)  # two more failed refreshes: still up, same figures
        assert wall.figures() == before
        screenshot(wall.page, "wall-database-down", whole=False)

        outage.start()  # back: the wall catches up by itself
        wall.page.wait_for_selector(".wall-asof", timeout=40_000)
        assert wall.page.locator(".wall-stale").count() == 0
        assert_shows_query_figures(wall, engine, DISTRICT)
        screenshot(wall.page, "wall-database-back", whole=False)
        assert wall.page.locator("[data-testid=stException]").count() == 0
        assert not wall.errors, wall.errors
