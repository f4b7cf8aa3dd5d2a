"""Benchmark: building a briefing pack (PDF + PPTX) for a scope and window (budget <= 20 s).

Run: .venv/bin/python bench/bench_briefing.py [--reps 3] [--no-write]
Uses the configured database (default: the embedded 30-day demo, data/cityops.sqlite, read only)
with windows ending at its latest incident. The first build of the process is "cold": it includes
starting Chromium for the charts; later builds reuse the browser, as the app does. Writes its
section of bench/results.md.
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

import pandas as pd

from bench.results_file import write_section
from clock import epoch_hour, hour_start
from exports.briefing import build_pack
from exports.figures import close_browser
from exports.provenance import ExportView
from queries.engine import make_engine
from queries.incidents import Window, latest_incidents
from settings import get_settings

BUDGET_S = 20.0
NAME = "bench_briefing"  # its section of bench/results.md
CITY = get_settings().city_code
CASES = (  # scope code, label, window hours
    (CITY, "宁波市 (city)", 24),
    (CITY, "宁波市 (city)", 24 * 30),
    ("330212", "鄞州区 (district)", 24 * 7),
    ("330212001", "寿隆街道 (street)", 24),
    ("330212001001", "溪光社区 (community)", 24),
)


def window_ending_at_data(engine, hours: int) -> Window:
    """A window of `hours` ending at the end of the hour of the latest incident (as the UI does)."""
    latest = pd.Timestamp(latest_incidents(engine, CITY, limit=1)["reported_at"].iloc[0])
    end = hour_start(epoch_hour(latest.to_pydatetime()) + 1)
    return Window(end - timedelta(hours=hours), end)


def timed_build(engine, code: str, hours: int) -> dict:
    started = time.perf_counter()
    pack = build_pack(engine, ExportView(code, window_ending_at_data(engine, hours)))
    total = time.perf_counter() - started
    t = pack.timings
    return {
        "total": total,
        "collect": t["collect"],
        "render": t["render"],
        "layout": t["total"] - t["collect"] - t["render"],
        "pdf_kb": len(pack.pdf) / 1024,
        "pptx_kb": len(pack.pptx) / 1024,
    }


def run(reps: int) -> tuple[list[dict], dict]:
    engine = make_engine(get_settings().database_url)
    close_browser()
    cold = timed_build(engine, CITY, 24) | {"case": "宁波市 (city) 24h, cold: starts Chromium"}
    rows = [cold]
    for code, label, hours in CASES:
        runs = [timed_build(engine, code, hours) for _ in range(reps)]
        row = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append(
            row
            | {
                "case": f"{label} {hours // 24 if hours >= 48 else hours}{'d' if hours >= 48 else 'h'}",
                "max": max(r["total"] for r in runs),
            }
        )
    close_browser()
    return rows, {"loadavg": os.getloadavg(), "cpus": os.cpu_count()}


def report(rows: list[dict], context: dict, reps: int) -> str:
    worst = max(max(r["total"], r.get("max", 0)) for r in rows)
    lines = [
        "## Briefing pack build (bench/bench_briefing.py)",
        "",
        f"Budget: a pack (PDF + PPTX: cover, key figures, map, 6-7 charts, resources, hotspots) in "
        f"<= {BUDGET_S:.0f} s. Worst build measured: **{worst:.1f} s** -> "
        f"{'within budget' if worst <= BUDGET_S else 'OVER BUDGET'}.",
        "",
        f"Machine: {platform.machine()}, {context['cpus']} CPUs, Python {platform.python_version()}; "
        f"load average at the end {context['loadavg'][0]:.1f} (the machine is shared). Database: "
        f"`{get_settings().database_url.split('///')[-1].replace(str(ROOT) + '/', '')}`. "
        f"Median of {reps} warm builds per case (browser already open); the cold build is one run.",
        "",
        "| case | total s | max s | read figures s | render charts s | PDF+PPTX layout s | PDF KB | PPTX KB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['total']:.2f} | {r.get('max', r['total']):.2f} | {r['collect']:.2f} | "
            f"{r['render']:.2f} | {r['layout']:.2f} | {r['pdf_kb']:.0f} | {r['pptx_kb']:.0f} |"
        )
    lines += ["", "Command: `SPATIALITE_LIBRARY_PATH=mod_spatialite .venv/bin/python bench/bench_briefing.py`"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/results.md alone")
    args = parser.parse_args()
    rows, context = run(args.reps)
    text = report(rows, context, args.reps)
    print(text)
    if not args.no_write:
        write_section(NAME, text)


if __name__ == "__main__":
    main()
