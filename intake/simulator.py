"""Feeds the intake service over HTTP with a realistic incident stream and walks each one through its lifecycle.

    python -m intake.simulator --rate 0.12            # Ningbo's real load, daily rhythm
    python -m intake.simulator --burst 100 --duration 30   # a drill: 100 events/s for 30 s
    python -m intake.simulator --demo                 # what scripts/run-app starts

Arrivals are a Poisson process whose rate follows the demo data's hour-of-day rhythm; category,
source and priority follow the demo mix; points fall in grids weighted by population with the
same hotspots boost. Each incident is then dispatched, handled, resolved and closed after
delays drawn like the demo data's (divided by --speed), with the rare void / park / escalate.
Failed calls are retried with the same Idempotency-Key, so a retry never duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import numpy as np

from clock import now_utc, to_local
from demo.incidents import (
    CATEGORY_MIX,
    HOURLY_RHYTHM,
    NORMAL_PATH,
    PRIORITY_MIX,
    SOURCE_MIX,
    STEP_MEAN_HOURS,
    draw,
    grid_weights,
    normal_path_hours,
    side_state_mix,
)
from geo.sampling import points_in_polygon
from texts import term
from vocab import DUE_HOURS

log = logging.getLogger("intake.simulator")
BASE = "/open311/v2"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"


@dataclass
class Planned:
    """One incident to report and the lifecycle steps to take after it: (hours after report, action)."""

    body: dict
    key: str
    steps: list[tuple[float, str]]


@dataclass
class Tally:
    created: int = 0
    repeats: int = 0
    steps: int = 0
    rejected: int = 0
    failed: int = 0
    retries: int = 0
    pending: int = 0
    reporting: int = 0
    ids: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"created {self.created}, steps {self.steps}, repeats {self.repeats}, rejected {self.rejected}, "
            f"failed {self.failed}, retries {self.retries}, lifecycles pending {self.pending}"
        )


def _pick(mix: dict, rng: np.random.Generator) -> str:
    return str(draw(mix, 1, rng)[0])


def _normal_path(priority: str, rng: np.random.Generator) -> list[tuple[float, str]]:
    """Dispatch, handle, resolve, close: hours after report, drawn as the demo data draws them."""
    hours = normal_path_hours([priority], rng)
    return [(float(hours[step][0]), step) for step in NORMAL_PATH]


def _lifecycle(priority: str, rng: np.random.Generator) -> list[tuple[float, str]]:
    """The steps one incident will take, with the demo data's rare void / park / escalate."""
    side = _pick(side_state_mix(), rng)
    if side == "voided":
        return [(rng.exponential(STEP_MEAN_HOURS["void"]), "void")]
    path = _normal_path(priority, rng)
    handle = path[1][0]
    if side == "parked":
        return [*path[:2], (handle + rng.exponential(STEP_MEAN_HOURS["park"]), "park")]
    if side == "escalated":  # overdue: the supervision office takes it up at the due time
        due = max(DUE_HOURS[priority], handle + 0.01)
        return [*path[:2], (due, "escalate"), (due + rng.exponential(STEP_MEAN_HOURS["resolve_escalated"]), "resolve")]
    return path


# How many steps of the normal path an incident found open in a state has already taken.
STEPS_TAKEN = {"reported": 0, "dispatched": 1, "handling": 2, "resolved": 3}


def remaining_steps(state: str, priority: str, rng: np.random.Generator) -> list[tuple[float, str]]:
    """The steps still to take (hours from now) for an incident found open, e.g. after a restart."""
    if state == "escalated":
        return [(rng.exponential(STEP_MEAN_HOURS["resolve_escalated"]), "resolve")]
    if state not in STEPS_TAKEN:  # parked stays parked; closed and voided are final
        return []
    taken = STEPS_TAKEN[state]
    path = _normal_path(priority, rng)
    offset = path[taken - 1][0] if taken else 0.0
    return [(at - offset, action) for at, action in path[taken:]]


class Stream:
    """Draws incidents like the demo data: grid by population with hotspots, point inside the grid."""

    def __init__(self, grids, rng: np.random.Generator, run_id: str) -> None:
        weight = grid_weights(grids["population"].clip(lower=1), rng)  # an empty grid can still report
        self._p = weight / weight.sum()
        self._polygons = grids.geometry.values
        self._rng = rng
        self._run_id = run_id
        self._n = 0

    def next(self) -> Planned:
        rng = self._rng
        self._n += 1
        grid = rng.choice(self._p.size, p=self._p)
        lon, lat = points_in_polygon(self._polygons[grid], 1, rng)
        category, source, priority = _pick(CATEGORY_MIX, rng), _pick(SOURCE_MIX, rng), _pick(PRIORITY_MIX, rng)
        body = {
            "service_code": category,
            "lat": round(float(lat[0]), 7),
            "long": round(float(lon[0]), 7),
            "description": f"{term('category', category, 'zh')}：模拟事件 simulated incident #{self._n}",
            "source": source,
            "priority": priority,
            "external_id": f"SIM-{self._run_id}-{self._n:07d}",
        }
        if source == "hotline_12345":  # callers leave a name and number (fake ones here)
            body.update(
                last_name=SURNAMES[rng.integers(len(SURNAMES))],
                first_name="先生",
                phone=f"13{rng.integers(0, 10**9):09d}",
            )
        return Planned(body, str(uuid.uuid4()), _lifecycle(priority, rng))


def rate_now(rate: float, rhythm: bool) -> float:
    """Events per second at this hour: the mean rate shaped by the demo's hour-of-day rhythm."""
    if not rhythm:
        return rate
    return rate * HOURLY_RHYTHM[to_local(now_utc()).hour] / HOURLY_RHYTHM.mean()


class Simulator:
    """Posts the stream and the lifecycle steps, with retries; counts what happened."""

    def __init__(self, client: httpx.AsyncClient, stream: Stream, args: argparse.Namespace) -> None:
        self.client, self.stream, self.args = client, stream, args
        self.tally = Tally()
        self._in_flight = asyncio.Semaphore(args.concurrency)
        self._tasks: set[asyncio.Task] = set()

    async def _post(self, path: str, body: dict, key: str | None = None) -> httpx.Response | None:
        """POST with retries on transport errors and 5xx (same key each time); None when given up."""
        headers = {"Idempotency-Key": key} if key else {}
        delay = 0.25
        for attempt in range(1, self.args.attempts + 1):
            try:
                async with self._in_flight:
                    response = await self.client.post(path, json=body, headers=headers)
                if response.status_code < 500:
                    return response
                problem = response.text[:200]
            except httpx.TransportError as exc:
                problem = repr(exc)
            if attempt < self.args.attempts:
                self.tally.retries += 1
                log.debug("retry %d of POST %s: %s", attempt, path, problem)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        log.warning("gave up on POST %s after %d attempts: %s", path, self.args.attempts, problem)
        self.tally.failed += 1
        return None

    async def incident(self, planned: Planned) -> None:
        self.tally.reporting += 1
        try:
            response = await self._post(f"{BASE}/requests.json", planned.body, planned.key)
        finally:
            self.tally.reporting -= 1
        if response is None:
            return
        if response.status_code not in (200, 201):
            self.tally.rejected += 1
            log.warning("report rejected (%d): %s", response.status_code, response.text[:300])
            return
        request_id = response.json()[0]["service_request_id"]
        if response.status_code == 201:
            self.tally.created += 1
            self.tally.ids.append(request_id)
        else:
            self.tally.repeats += 1
        await self._walk(request_id, planned.steps)

    async def _walk(self, request_id: str, steps: list[tuple[float, str]]) -> None:
        self.tally.pending += 1
        try:
            elapsed, walk = 0.0, uuid.uuid4().hex
            for n, (at_hours, action) in enumerate(steps):
                await asyncio.sleep(max(0.0, at_hours - elapsed) * 3600 / self.args.speed)
                elapsed = at_hours
                response = await self._post(
                    f"{BASE}/requests/{request_id}/transitions.json",
                    {"action": action, "note": "模拟 simulated"},
                    f"sim-step-{walk}-{n}",  # a retry of the step gets its first answer, never a 409
                )
                if response is None or not self._step_done(response, action, request_id):
                    return
        finally:
            self.tally.pending -= 1

    def _step_done(self, response: httpx.Response, action: str, request_id: str) -> bool:
        if response.status_code == 200:
            self.tally.steps += 1
            return True
        # 409: another client moved the incident on (a retry of our own step is answered 200 by its key).
        log.info("step %s of %s not taken (%d): %s", action, request_id, response.status_code, response.text[:200])
        self.tally.rejected += 1
        return False

    async def resume(self, pages: int = 10) -> int:
        """Walk on the simulator's own incidents left open by an earlier run (newest first)."""
        rng = np.random.default_rng()
        params: dict = {"status": "open", "limit": 1000}
        resumed, seen = 0, set()
        for _ in range(pages):
            response = await self.client.get(f"{BASE}/requests.json", params=params)
            if response.status_code != 200:
                break
            rows = response.json()
            for row in rows:
                if row["service_request_id"] in seen:
                    continue
                seen.add(row["service_request_id"])
                if (row["external_id"] or "").startswith("SIM-"):
                    self._spawn(
                        self._walk(row["service_request_id"], remaining_steps(row["state"], row["priority"], rng))
                    )
                    resumed += 1
            if len(rows) < params["limit"]:
                break
            # Stamps are whole seconds and end_date is exclusive: ask again from the end of the last
            # row's second, so rows sharing it are not skipped (those already seen are).
            last = datetime.fromisoformat(rows[-1]["requested_datetime"]) + timedelta(seconds=1)
            params["end_date"] = last.isoformat()
        return resumed

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, stop: asyncio.Event) -> Tally:
        rng = np.random.default_rng(None if self.args.seed is None else self.args.seed + 1)
        if self.args.resume:
            log.info("resumed the lifecycle of %d open simulated incidents", await self.resume())
        started = last_log = time.monotonic()
        rate, rhythm = (self.args.burst, False) if self.args.burst else (self.args.rate, True)
        deadline = started + self.args.duration if self.args.duration else None
        while not stop.is_set():
            gap = rng.exponential(1.0 / max(rate_now(rate, rhythm), 1e-6))
            wake = time.monotonic() + gap
            if deadline and wake > deadline:
                await _sleep_until(stop, deadline)
                break
            await _sleep_until(stop, wake)
            if stop.is_set():
                break
            self._spawn(self.incident(self.stream.next()))
            if time.monotonic() - last_log >= self.args.log_every:
                last_log = time.monotonic()
                log.info("%s (%.0f s)", self.tally.line(), last_log - started)
        await self._finish()
        return self.tally

    async def _finish(self) -> None:
        """Let reports in flight finish, lifecycles up to --drain seconds, then cancel the rest."""
        deadline = time.monotonic() + 30
        while self.tally.reporting and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self._tasks and self.args.drain:
            await asyncio.wait(set(self._tasks), timeout=self.args.drain)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)


async def _sleep_until(stop: asyncio.Event, moment: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, moment - time.monotonic()))
    except TimeoutError:
        pass


async def _wait_for_service(client: httpx.AsyncClient, stop: asyncio.Event, patience: float | None) -> bool:
    started = time.monotonic()
    while not stop.is_set():
        try:
            if (await client.get("/healthz")).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        if patience is not None and time.monotonic() - started > patience:
            return False
        await _sleep_until(stop, time.monotonic() + 1.0)
    return False


def _load_grids():
    from queries.areas import area_geometries
    from queries.engine import make_engine
    from settings import get_settings

    settings = get_settings()
    return area_geometries(make_engine(settings.database_url), settings.city_code, "grid")


async def main_async(args: argparse.Namespace) -> Tally:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stream = Stream(_load_grids(), np.random.default_rng(args.seed), args.run_id)
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=args.url, timeout=args.timeout, limits=limits) as client:
        if not await _wait_for_service(client, stop, None if args.demo else 30):
            log.error("no intake service at %s", args.url)
            return Tally(failed=1)
        log.info(
            "feeding %s: %s, lifecycle speed x%g",
            args.url,
            f"burst {args.burst}/s" if args.burst else f"{args.rate}/s mean with the daily rhythm",
            args.speed,
        )
        tally = await Simulator(client, stream, args).run(stop)
    log.info("done: %s", tally.line())
    return tally


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m intake.simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=get_settings().intake_url, help="intake service base URL")
    parser.add_argument("--rate", type=float, default=0.12, help="mean events/s over a day (Ningbo: 0.12)")
    parser.add_argument("--burst", type=float, default=None, help="drill: a constant N events/s, no rhythm")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds of arrivals (default: forever; 10 with --burst)"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="lifecycle delays divided by this factor")
    parser.add_argument("--drain", type=float, default=0.0, help="at the end, wait this long for lifecycles")
    parser.add_argument("--demo", action="store_true", help="wait for the service, run until stopped, --resume")
    parser.add_argument("--resume", action="store_true", help="first walk on simulated incidents left open")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a fresh stream)")
    parser.add_argument("--run-id", default=None, help="external ids are SIM-<run-id>-<n>")
    parser.add_argument("--concurrency", type=int, default=32, help="most requests in flight")
    parser.add_argument("--attempts", type=int, default=8, help="tries per call before giving up")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP call")
    parser.add_argument("--log-every", type=float, default=60.0, help="seconds between progress lines")
    args = parser.parse_args(argv)
    if args.rate <= 0 or (args.burst is not None and args.burst <= 0) or args.speed <= 0:
        parser.error("--rate, --burst and --speed must be positive")
    args.resume = args.resume or args.demo
    if args.burst and args.duration is None:
        args.duration = 10.0
    args.run_id = args.run_id or time.strftime("%Y%m%d%H%M%S")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s simulator %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    args = parse_args(argv)
    tally = asyncio.run(main_async(args))
    summary = {k: v for k, v in tally.__dict__.items() if k not in ("ids", "reporting")}
    print(json.dumps({"run_id": args.run_id, **summary}), flush=True)
    return 0 if not tally.failed else 1


if __name__ == "__main__":
    sys.exit(main())
