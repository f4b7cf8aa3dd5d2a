"""Dashboard bench: bytes the browser gets per map view, and click-to-painted drill-down latency.

    SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_dashboard.py \
        --database-url sqlite:////tmp/cityops-365.sqlite [--clicks 21] [--write-results]

(The 365-day database: `python cli.py seed --days 365 --database-url sqlite:////tmp/cityops-365.sqlite`,
about 15 minutes and 6 GB.) Serves app.py with `streamlit run` (tests.browser.serve_dashboard) and
drives Debian's headless chromium. (1) For one map view at each level (city, district, street,
community), with the default layers and with every layer, it decodes the websocket frames the
browser receives (Streamlit ForwardMsgs) and reports the deck.gl element's bytes (budget <= 2 MB)
and the whole page load's. (2) It clicks child areas on the map, city > district > street >
community, and times each click until the child map is painted: the URL holds the child's scope,
its breadcrumb is current, the map element holds the child's spec and its canvas shows the new
picture (budget p95 <= 1.5 s), split into browser picking, server and browser drawing. Going back
up is by the city breadcrumb, not timed. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.results_file import write_section
from geo.layers import view_for_bounds
from queries import areas, facilities
from queries.engine import make_engine
from settings import get_settings
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DECK,
    VIEWPORT,
    DeckMap,
    open_page,
    serve_dashboard,
    wait_idle,
)

CITY, DISTRICT = get_settings().city_code, "330212"
ALL_LAYERS = "grids,assembly,depots,hospitals,recent"
BYTES_BUDGET = 2_000_000
LATENCY_BUDGET_S = 1.5
MAP_HEIGHT = 620
NAME = "bench_dashboard"  # its section of bench/results.md


def _message(payload: bytes | str) -> ForwardMsg | None:
    try:
        return ForwardMsg.FromString(payload.encode() if isinstance(payload, str) else payload)
    except Exception:  # not every frame is a ForwardMsg
        return None


def _is_map(message: ForwardMsg | None) -> bool:
    """A new deck.gl element sent in full (an unchanged one is sent as a small reference)."""
    return message is not None and message.WhichOneof("type") == "delta" \
        and message.delta.WhichOneof("type") == "new_element" \
        and message.delta.new_element.WhichOneof("type") == "deck_gl_json_chart"


@dataclass
class Frames:
    """Websocket frames a page received: all their bytes, and each map element's."""

    total: int = 0
    decks: list[int] = field(default_factory=list)

    def take(self, payload: bytes | str) -> None:
        self.total += len(payload.encode() if isinstance(payload, str) else payload)
        if _is_map(_message(payload)):
            self.decks.append(len(payload))


class Timeline:
    """When, after a click, the browser sent its rerun request and received the new map element."""

    def __init__(self, page: Page) -> None:
        self.clicked: float | None = None
        self.sent: float | None = None
        self.deck: float | None = None
        page.on("websocket", self._socket)

    def _socket(self, socket) -> None:
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def mark(self) -> float:
        """Start timing a click: its time."""
        self.clicked, self.sent, self.deck = time.perf_counter(), None, None
        return self.clicked

    def _sent(self, _payload) -> None:
        if self.clicked and self.sent is None:
            self.sent = time.perf_counter()

    def _received(self, payload: bytes | str) -> None:
        if self.clicked is not None and self.deck is None and _is_map(_message(payload)):
            self.deck = time.perf_counter()

    def split(self, painted_at: float) -> tuple[float, float, float]:
        """(click -> request sent, request -> new map received, received -> painted) in seconds."""
        clicked = self.clicked
        assert clicked is not None, "split() before mark()"
        sent, deck = self.sent or clicked, self.deck or painted_at
        return sent - clicked, deck - sent, painted_at - deck


def watch(page: Page) -> Frames:
    frames = Frames()
    page.on("websocket", lambda ws: ws.on("framereceived", frames.take))
    return frames


def pick_codes(engine) -> dict[str, str]:
    """One area per level down Yinzhou: its largest child at each step (as a user would click)."""
    codes, code = {"city": CITY, "district": DISTRICT}, DISTRICT
    for level in ("street", "community"):
        children = areas.children_of(engine, code)
        code = children.iloc[int(children.geometry.to_crs(3857).area.argmax())]["code"]
        codes[level] = code
    return codes


def bytes_per_view(browser, app, engine) -> list[dict]:
    rows = []
    for level, code in pick_codes(engine).items():
        for layers in ("default", "all"):
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            frames = watch(page)
            params = {"scope": code} | ({"layers": ALL_LAYERS} if layers == "all" else {})
            open_page(page, app.url(**params))
            page.wait_for_selector(f"{DECK} canvas")
            page.wait_for_timeout(500)
            rows.append({"level": level, "code": code, "layers": layers, "deck_bytes": max(frames.decks, default=0),
                         "page_bytes": frames.total})
            context.close()
    return rows


def _dots(engine, code: str) -> list[tuple[float, float]]:
    frames = (facilities.assembly_points_in_scope(engine, code), facilities.hospitals_in_scope(engine, code))
    return [(lon, lat) for f in frames for lon, lat in zip(f["lon"], f["lat"], strict=True)]


# A fingerprint of what the map canvas shows (48x48 samples; "" before it has drawn anything).
SIGNATURE_JS = """() => {
  const canvas = document.querySelector('[class*="st-key-scope-map"] canvas');
  if (!canvas || !canvas.width) return '';
  const probe = document.createElement('canvas');
  probe.width = probe.height = 48;
  const context = probe.getContext('2d');
  context.drawImage(canvas, 0, 0, 48, 48);
  const pixels = context.getImageData(0, 0, 48, 48).data;
  let drawn = 0, hash = 2166136261;
  for (let i = 0; i < pixels.length; i++) {
    hash = Math.imul(hash ^ pixels[i], 16777619) >>> 0;
    if (i % 4 === 3 && pixels[i] > 0) drawn++;
  }
  return drawn > 40 ? `${drawn}:${hash}` : '';
}"""
# The Streamlit element behind the map holds the deck spec it was last given (React props).
SPEC_HAS_JS = """(code) => {
  const element = document.querySelector('[data-testid=stDeckGlJsonChart]');
  const key = element && Object.keys(element).find(k => k.startsWith('__reactFiber$'));
  for (let fiber = key && element[key]; fiber; fiber = fiber.return) {
    const json = fiber.memoizedProps?.element?.json;
    if (typeof json === 'string') return json.includes(`"id":"areas-${code}"`);
  }
  return false;
}"""
# The child's map is painted when the URL names it, its breadcrumb is current, the map has been
# given the child's spec (its areas layer is named after the scope) and, from the next poll on,
# the canvas shows a new picture that held still for one poll.
PAINTED_JS = f"""([code, before]) => {{
  const bench = window.__bench || (window.__bench = {{}});
  if (new URLSearchParams(location.search).get('scope') !== code) return false;
  if (!document.querySelector(`.st-key-crumb-${{code}} button[disabled]`)) return false;
  if (!bench.given) {{ bench.given = ({SPEC_HAS_JS})(code); return false; }}
  const now = ({SIGNATURE_JS})();
  const steady = now !== '' && now !== before && now === bench.last;
  bench.last = now;
  return steady;
}}"""


def wait_painted(page: Page, code: str, before: str) -> None:
    """Wait until the map shows the scope `code`, drawn anew since its picture was `before`."""
    page.wait_for_function(PAINTED_JS, arg=[code, before], timeout=30_000, polling=25)


def picture(page: Page) -> str:
    """The map's current picture (fingerprint); also resets the painted-check's state."""
    return page.evaluate(f"() => {{ window.__bench = {{}}; return ({SIGNATURE_JS})(); }}")


def click_and_time(page: Page, timeline: Timeline, engine, parent: str, child) -> dict:
    """Seconds from the click on a child area to its map painted (and its parts), and to the run's end."""
    children = areas.children_of(engine, parent)
    view = view_for_bounds(tuple(children.total_bounds), height_px=MAP_HEIGHT)
    deck = DeckMap(page, view.longitude, view.latitude, view.zoom)
    x, y = deck.spot(child.geometry, child["name"], _dots(engine, parent))
    page.mouse.move(x, y)
    page.wait_for_timeout(300)  # the hovered area's highlight is drawn before the picture is taken
    before = picture(page)
    clicked = timeline.mark()
    page.mouse.click(x, y)
    wait_painted(page, child["code"], before)
    painted_at = time.perf_counter()
    wait_idle(page)
    pick, server, render = timeline.split(painted_at)
    return {"painted_s": painted_at - clicked, "run_s": time.perf_counter() - clicked,
            "pick_s": pick, "server_s": server, "render_s": render}


def drill_latencies(browser, app, engine, clicks: int) -> list[dict]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    timeline = Timeline(page)
    open_page(page, app.url(scope=CITY))
    page.wait_for_selector(f"{DECK} canvas")
    rows, districts = [], areas.children_of(engine, CITY)
    for district in districts.itertuples(index=False):
        parent, child = CITY, districts.loc[districts["code"] == district.code].iloc[0]
        for level in ("district", "street", "community"):
            row = {"level": level, "code": child["code"]} | click_and_time(page, timeline, engine, parent, child)
            rows.append(row)
            print(f"  {level:<9} {child['code']:<12} painted {row['painted_s']:5.2f} s (request sent "
                  f"{row['pick_s']:4.2f}, map received +{row['server_s']:4.2f}, painted +{row['render_s']:4.2f})"
                  f"  run ended {row['run_s']:5.2f} s", flush=True)
            if len(rows) >= clicks:
                break
            grandchildren = areas.children_of(engine, child["code"])
            parent, child = child["code"], grandchildren.iloc[int(grandchildren.geometry.to_crs(3857).area.argmax())]
        if len(rows) >= clicks:
            break
        before = picture(page)
        page.locator(f".st-key-crumb-{CITY} button").click()
        wait_painted(page, CITY, before)
        wait_idle(page)
    context.close()
    return rows


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def report(database_url: str, incidents: int, views: list[dict], clicks: list[dict], command: str,
           load: str) -> str:
    worst = max((row["deck_bytes"] for row in views), default=0)
    painted = [row["painted_s"] for row in clicks]
    finished = [row["run_s"] for row in clicks]
    p50, p95 = statistics.median(painted), percentile(painted, 0.95)
    lines = [
        f"## Dashboard (bench/bench_dashboard.py) — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`  ",
        f"Database: `{database_url}` ({incidents:,} incidents); headless Debian chromium, 1600x1000, "
        f"software WebGL; 2 cores shared with other work (load average during the run: {load}).",
        "",
        "### Bytes the browser receives for one map view (websocket ForwardMsgs)",
        "",
        "| level | scope | layers | deck element | whole page load |",
        "|---|---|---|---:|---:|",
        *(f"| {r['level']} | {r['code']} | {r['layers']} | {r['deck_bytes']:,} B | {r['page_bytes']:,} B |"
          for r in views),
        "",
        f"Largest map view: {worst:,} B — budget {BYTES_BUDGET:,} B: **{'PASS' if worst <= BYTES_BUDGET else 'FAIL'}**",
        "",
        f"### Click a region -> child map painted ({len(clicks)} clicks, city > district > street > community)",
        "",
        "| figure | p50 | p95 | max |",
        "|---|---:|---:|---:|",
        f"| click -> child map painted | {p50:.2f} s | {p95:.2f} s | {max(painted):.2f} s |",
        *(f"| {label} | {statistics.median(v):.2f} s | {percentile(v, 0.95):.2f} s | {max(v):.2f} s |"
          for label, v in (
              ("… click -> rerun request sent (browser: deck.gl picking)", [r["pick_s"] for r in clicks]),
              ("… request -> new map element received (server)", [r["server_s"] for r in clicks]),
              ("… map received -> painted (browser)", [r["render_s"] for r in clicks]))),
        f"| click -> script run finished | {statistics.median(finished):.2f} s | "
        f"{percentile(finished, 0.95):.2f} s | {max(finished):.2f} s |",
        "",
        f"Budget p95 <= {LATENCY_BUDGET_S} s: **{'PASS' if p95 <= LATENCY_BUDGET_S else 'FAIL'}**",
        "",
        "| level | p50 painted | max painted |",
        "|---|---:|---:|",
        *(f"| {level} | {statistics.median(v):.2f} s | {max(v):.2f} s |"
          for level in ("district", "street", "community")
          if (v := [r["painted_s"] for r in clicks if r["level"] == level])),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/cityops-365.sqlite")
    parser.add_argument("--clicks", type=int, default=21)
    parser.add_argument("--skip-bytes", action="store_true")
    parser.add_argument("--write-results", action="store_true", help="update bench/results.md")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    with engine.connect() as conn:
        incidents = conn.exec_driver_sql("SELECT count(*) FROM incident").scalar_one()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as logs, serve_dashboard(args.database_url, Path(logs)) as app, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        open_page(browser.new_page(viewport=VIEWPORT), app.url(scope=CITY))  # warm the server's caches
        views = [] if args.skip_bytes else bytes_per_view(browser, app, engine)
        for row in views:
            print(f"  {row['level']:<9} {row['layers']:<7} deck {row['deck_bytes']:>9,} B  "
                  f"page {row['page_bytes']:>9,} B", flush=True)
        clicks = drill_latencies(browser, app, engine, args.clicks)
        browser.close()
    command = "SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_dashboard.py " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-results")
    load = f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    text = report(args.database_url, incidents, views, clicks, command, load)
    print(text)
    if args.write_results:
        write_section(NAME, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
