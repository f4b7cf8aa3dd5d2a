"""Benchmark: recomputing a city-wide what-if scenario (budget <= 2 s) on the embedded demo database.

Run: SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_scenarios.py [--repeat 20] [--write]
`--write` puts the figures into bench/results.md between this benchmark's markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results_file import write_section
from clock import now_utc
from geo import scenario as sc
from queries import scenarios as q
from queries.engine import make_engine
from queries.incidents import Window
from scenario_model import Overrides, parse_overrides
from settings import get_settings

BUDGET_S = 2.0
NAME = "bench_scenarios"  # its section of bench/results.md


def typhoon_plan(baseline: sc.Baseline) -> Overrides:
    """A planner's typhoon plan: a flood zone over the most populous street, its points closed,
    a stadium opened as a temporary point, a field hospital, stock drawn down, flood incidents x3."""
    areas = baseline.areas
    street = areas[areas["level"] == "street"].sort_values("population").iloc[-1]
    cells = baseline.grids[baseline.grids["code"].str.startswith(street["code"])]
    minx, miny, maxx, maxy = cells["lon"].min(), cells["lat"].min(), cells["lon"].max(), cells["lat"].max()
    zone = {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy], [minx, maxy], [minx, miny]]]}
    inside = baseline.assembly[baseline.assembly["grid_code"].fillna("").str.startswith(street["code"])]
    lon, lat = float(cells["lon"].iloc[0]), float(cells["lat"].iloc[0])
    return parse_overrides({
        "close": list(inside["code"][:3]),
        "capacities": {baseline.assembly["code"].iloc[0]: 20_000},
        "new_points": [{"name": "体育中心临时安置点", "lon": lon + 0.05, "lat": lat, "capacity": 8000,
                        "kind": "stadium"}],
        "field_hospitals": [{"name": "方舱医院", "lon": lon + 0.05, "lat": lat + 0.01, "beds": 500}],
        "beds": [{"hospital_code": baseline.hospitals["code"].iloc[0], "bed_type": "icu", "total": 80}],
        "stock": [{"depot_code": baseline.stock["depot_code"].iloc[0], "item": baseline.stock["item"].iloc[0],
                   "quantity": 0}],
        "hazard_zone": zone,
        "multipliers": [{"category": "flood_typhoon", "factor": 3}],
    }, baseline.facts)


def recompute(baseline: sc.Baseline, plan: Overrides, walking_m: float) -> int:
    """What the Scenarios page computes on each change: both sides, three levels, the difference."""
    base, scen = sc.evaluate(baseline, walking_m=walking_m), sc.evaluate(baseline, plan, walking_m=walking_m)
    rows = 0
    for level in ("district", "street", "community"):
        diff = sc.compare(sc.summarise(baseline, base, level), sc.summarise(baseline, scen, level))
        rows += len(diff)
    sc.totals(baseline, base), sc.totals(baseline, scen)
    sc.supply(base, baseline), sc.supply(scen, baseline)
    return rows


def timed(function, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    end = now_utc()
    window = Window(end - timedelta(days=7), end)

    def load():
        return sc.prepare_baseline(**q.baseline_inputs(engine, settings.city_code, city_code=settings.city_code,
                                                       window=window))

    load_times = timed(load, max(3, args.repeat // 4))
    baseline = load()
    plan = typhoon_plan(baseline)
    rows = recompute(baseline, plan, settings.walking_distance_m)
    times = timed(lambda: recompute(baseline, plan, settings.walking_distance_m), args.repeat)
    verdict = "within" if max(times) <= BUDGET_S else "OVER"
    lines = [
        "## Scenarios: city-wide what-if recompute (bench/bench_scenarios.py)",
        "",
        f"- Database: {settings.database_url.rsplit('/', 1)[-1]} ({len(baseline.grids):,} grid cells, "
        f"{len(baseline.areas[baseline.areas['level'] == 'community']):,} communities, "
        f"{len(baseline.assembly):,} assembly points); machine: {platform.machine()}, {os.cpu_count()} CPUs "
        f"(shared; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}), Python "
        f"{platform.python_version()}.",
        "- Scenario: flood zone over the most populous street, 3 points closed, 1 temporary point, "
        "1 field hospital, bed/stock/capacity changes, incident multiplier.",
        f"- Recompute (baseline + scenario, summaries at district/street/community, differences: "
        f"{rows:,} rows), {args.repeat} runs: **{summary(times)}**: {verdict} the {BUDGET_S:.0f} s budget.",
        f"- Reading the baseline from the database (cached by the page for 5 minutes): {summary(load_times)}.",
        f"- Command: `SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_scenarios.py "
        f"--repeat {args.repeat} --write`",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(NAME, text)


if __name__ == "__main__":
    main()
