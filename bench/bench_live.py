"""Live bench: from an Open311 201 to the new count on the dashboard or the wall, in the browser (budget <= 5 s).

    SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_live.py [--reports 15] [--view wall]
        [--write-results]

Copies the demo database (data/cityops.sqlite, built by `python cli.py seed` if absent) to a
temporary file, serves the intake service (intake.process.ServiceProcess) and the dashboard
(`streamlit run app.py`) on it, and opens the city overview (or, with --view wall, the city on the
video wall at 1920x1080) in Debian's headless chromium. Then, one report at a time and at a random
moment of the refresh cycle, it POSTs an incident and times from the 201 until the "incidents
today" figure shows the new count (read from the page, every 50 ms). The figure is what a duty
officer waits: the live fragment's period, the cache's ttl, the queries and the browser's drawing.
It also counts the websocket bytes of each live refresh.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, ViewportSize, sync_playwright

from bench.bench_dashboard import watch
from bench.results_file import write_section
from intake.process import ServiceProcess
from settings import DEFAULT_SQLITE_PATH, get_settings
from tests.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, open_page, serve_dashboard
from texts import text
from ui.data import LIVE_TTL

BUDGET_S = 5.0
WALL_TICK_BUDGET = 100_000  # bytes per live refresh of one wall (bench/README.md)
CITY = get_settings().city_code
# Points well inside Ningbo's urban districts (WGS84), where a grid cell is sure to be found.
POINTS = [(29.8683, 121.5440), (29.8890, 121.5560), (29.8570, 121.5230), (29.8360, 121.5600)]
NAME = "bench_live"  # its section of bench/results.md


WALL_VIEWPORT: ViewportSize = {"width": 1920, "height": 1080}
SECTIONS = {"overview": NAME, "wall": "bench_live_wall"}


def today_tile(page: Page) -> int:
    """The number on the 'incidents today' KPI tile (overview) or panel (wall), as the browser shows it."""
    wall_figure = page.locator("[data-kpi=incidents]")
    if wall_figure.count():
        value = wall_figure.first.get_attribute("data-value")
        assert value is not None, "the wall's KPI panels carry their figure in data-value"
        return int(value)
    label = text("incidents_today", "zh")
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return int(tile.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def post_report(client: httpx.Client, base: str, n: int) -> float:
    """POST one incident; the moment its 201 arrived."""
    lat, lon = POINTS[n % len(POINTS)]
    body = {"service_code": "city_appearance", "lat": lat, "long": lon, "source": "hotline_12345",
            "description": f"bench_live {n}", "address_string": "bench"}
    answer = client.post(f"{base}/open311/v2/requests.json", json=body, headers={"Idempotency-Key": f"live-{n}"})
    answer.raise_for_status()
    return time.perf_counter()


def wait_for(page: Page, count: int, timeout: float = 60.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with contextlib.suppress(ValueError, PlaywrightError):  # the tile is being redrawn
            if today_tile(page) >= count:
                return time.perf_counter()
        page.wait_for_timeout(50)
    raise TimeoutError(f"the tile never showed {count}")


def measure(page: Page, intake: str, reports: int, period: float) -> list[float]:
    latencies, rng = [], random.Random(7)  # noqa: S311 - not security
    with httpx.Client(timeout=30) as client:
        for n in range(reports):
            page.wait_for_timeout(rng.uniform(0, period) * 1000)  # a random phase of the refresh cycle
            before = today_tile(page)
            accepted = post_report(client, intake, n)
            latencies.append(wait_for(page, before + 1) - accepted)
            print(f"  report {n + 1:>2}: {latencies[-1]:.2f} s", flush=True)
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(view: str, latencies: list[float], refresh_bytes: int, period: float, command: str, load: str) -> str:
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    verdict = "within budget" if p95 <= BUDGET_S else "OVER BUDGET"
    if view == "wall":
        screen = f"the city on the video wall (1920x1080, `?wall=1&playlist={CITY}`)"
        where = "the wall's 'incidents today' panel"
        traffic = (f"- Websocket bytes one wall receives per live refresh (every {period:g} s), averaged over "
                   f"{5 * period:g} s: {refresh_bytes:,.0f} B "
                   f"({'within' if refresh_bytes <= WALL_TICK_BUDGET else 'OVER'} the "
                   f"{WALL_TICK_BUDGET // 1000} KB budget).")
    else:
        screen = "the city overview"
        where = "the 'incidents today' tile"
        traffic = (f"- Websocket bytes the overview receives per KPI refresh period, averaged over {5 * period:g} s "
                   f"(KPI tiles every {period:g} s; map and ranking every {get_settings().map_refresh_seconds} s): "
                   f"{refresh_bytes:,.0f} B.")
    return "\n".join([
        f"## Live: Open311 201 -> count on the {'wall' if view == 'wall' else 'dashboard'} (bench/bench_live.py)",
        "",
        f"- {len(latencies)} reports, one at a time at a random phase of the refresh cycle; {screen} "
        f"in headless chromium; live fragment every {period:g} s, live cache ttl {LIVE_TTL} s.",
        f"- Accepted (201) to visible on {where}: **p50 {p50:.2f} s, p95 {p95:.2f} s**, "
        f"max {max(latencies):.2f} s, min {min(latencies):.2f} s: {verdict} (p95 <= {BUDGET_S:g} s).",
        traffic,
        f"- Machine: 2 CPUs shared; load average {load}.",
        f"- Command: `{command}`",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=15)
    parser.add_argument("--view", choices=list(SECTIONS), default="overview")
    parser.add_argument("--write-results", action="store_true", help="update bench/results.md")
    args = parser.parse_args(argv)
    if not DEFAULT_SQLITE_PATH.exists():
        sys.exit(f"{DEFAULT_SQLITE_PATH} is missing: build it with `python cli.py seed --days 30 --seed 7`")
    period, load_before = float(get_settings().live_refresh_seconds), os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as work:
        database = Path(work) / "live.sqlite"
        shutil.copyfile(DEFAULT_SQLITE_PATH, database)
        url = f"sqlite:///{database}"
        service = ServiceProcess(url, log_path=Path(work) / "intake.log").start()
        try:
            with serve_dashboard(url, Path(work)) as app, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=WALL_VIEWPORT if args.view == "wall" else VIEWPORT)
                frames = watch(page)
                if args.view == "wall":
                    open_page(page, app.url("", wall="1", playlist=CITY), ready="[data-kpi=incidents]")
                else:
                    open_page(page, app.url(scope=CITY, window="today"))
                latencies = measure(page, service.url, args.reports, period)
                frames.total, start = 0, time.perf_counter()
                page.wait_for_timeout(period * 5 * 1000)
                refreshes = max(1, round((time.perf_counter() - start) / period))
                refresh_bytes = frames.total // refreshes
                browser.close()
        finally:
            service.stop()
    command = "SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_live.py " + " ".join(
        a for a in (argv if argv is not None else sys.argv[1:]) if a != "--write-results")
    text = report(args.view, latencies, refresh_bytes, period, command.strip(),
                  f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print(text)
    if args.write_results:
        write_section(SECTIONS[args.view], text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
