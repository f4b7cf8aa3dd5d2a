"""Crashes and races: kill -9 mid-burst, two writer processes on one key; nothing lost or doubled."""

from __future__ import annotations

import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from intake.process import ServiceProcess
from queries.areas import area_geometries
from queries.intake import rollup_drift
from queries.schema import incident, incident_rollup, incident_step
from settings import get_settings
from vocab import TRANSITIONS

CITY = get_settings().city_code
URL = "/open311/v2/requests.json"
WORKERS = 8


class Burst:
    """Clients posting distinct reports as fast as the service answers, until it dies."""

    def __init__(self, base_url: str, points: list[tuple[float, float]]) -> None:
        self.base_url, self.points = base_url, points
        self.acknowledged: dict[str, str] = {}  # Idempotency-Key -> service_request_id (201 answers)
        self.unanswered: set[str] = set()  # sent, no answer: may or may not have been committed
        self.refused: list[str] = []  # any other answer (there should be none)
        self.lock = threading.Lock()

    def body(self, key: str) -> dict:
        lon, lat = self.points[zlib.crc32(key.encode()) % len(self.points)]
        return {"service_code": "city_appearance", "lat": lat, "long": lon, "description": f"burst {key}"}

    def worker(self, w: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            for n in range(100_000):
                key = f"crash-{w}-{n}"
                try:
                    response = client.post(URL, json=self.body(key), headers={"Idempotency-Key": key})
                except httpx.HTTPError:
                    with self.lock:
                        self.unanswered.add(key)
                    return
                with self.lock:
                    if response.status_code == 201:
                        self.acknowledged[key] = response.json()[0]["service_request_id"]
                    else:
                        self.refused.append(f"{response.status_code} {response.text[:200]}")


def _rows_by_key(engine) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(incident.c.idempotency_key, incident.c.id).where(incident.c.idempotency_key.like("crash-%"))
        ).all()
    for key, incident_id in rows:
        found.setdefault(key, []).append(incident_id)
    return found


def _race(burst: Burst, key: str, urls: tuple[str, str]) -> list[httpx.Response]:
    """The same report with the same key sent to two services at the same moment."""
    body, headers = burst.body(key), {"Idempotency-Key": key}
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda base: httpx.post(f"{base}{URL}", json=body, headers=headers, timeout=30), urls))


def _city_points(engine, seed: int) -> list[tuple[float, float]]:
    points = area_geometries(engine, CITY, "grid").sample(50, random_state=seed).geometry.representative_point()
    return list(zip(points.x, points.y, strict=True))


def _kill_mid_burst(service: ServiceProcess, burst: Burst | StepBurst, within: float) -> None:
    """The burst's clients run until 300 writes are acknowledged, then the service is killed (-9) under them."""
    threads = [threading.Thread(target=burst.worker, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + within
    while len(burst.acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    service.kill()  # SIGKILL while the clients are still sending
    for thread in threads:
        thread.join(15)
    assert not burst.refused, burst.refused[:5]
    assert len(burst.acknowledged) >= 300 and burst.unanswered, "the kill did not land mid-burst"


def test_kill_9_mid_burst_and_racing_writers_lose_and_double_nothing(writable, tmp_path):
    engine = writable
    url = engine.url.render_as_string(hide_password=False)
    service = ServiceProcess(url, log_path=tmp_path / "service.log").start()
    burst = Burst(service.url, _city_points(engine, seed=1))
    _kill_mid_burst(service, burst, within=30)

    restarted = ServiceProcess(url, port=service.port, log_path=tmp_path / "service.log").start()
    second = ServiceProcess(url, log_path=tmp_path / "second.log")
    try:
        stored = _rows_by_key(engine)
        for key, request_id in burst.acknowledged.items():
            assert stored.get(key) == [int(request_id)], key  # present, exactly once, same id
        # The clients that got no answer retry with the same key: each lands exactly once.
        with httpx.Client(base_url=restarted.url, timeout=10) as client:
            for key in burst.unanswered:
                retry = client.post(URL, json=burst.body(key), headers={"Idempotency-Key": key})
                assert retry.status_code in (200, 201), retry.text
        # Two writer processes (two instances on one database) given the same retry at once.
        second.start()
        for n in range(30):
            answers = _race(burst, f"crash-race-{n}", (restarted.url, second.url))
            assert sorted(r.status_code for r in answers) == [200, 201], [r.text for r in answers]
            assert len({r.json()[0]["service_request_id"] for r in answers}) == 1
    finally:
        restarted.stop()
        second.stop()
    stored = _rows_by_key(engine)
    attempted = {*burst.acknowledged, *burst.unanswered, *(f"crash-race-{n}" for n in range(30))}
    assert set(stored) == attempted and all(len(ids) == 1 for ids in stored.values())
    drift = rollup_drift(engine, CITY)
    assert drift.empty, drift.head(20).to_string()
    with engine.connect() as conn:
        city_total = conn.execute(
            sa.select(sa.func.sum(incident_rollup.c.n)).where(incident_rollup.c.area_code == CITY)
        ).scalar()
        total = conn.execute(sa.select(sa.func.count()).select_from(incident)).scalar()
    assert city_total == total


STEPS = ("dispatch", "handle", "resolve", "close")


class StepBurst:
    """Clients walking their own incidents through the lifecycle, one Idempotency-Key per step, until the service dies.

    A client sends its next step only after the last one was answered, as a real one does."""

    def __init__(self, base_url: str, incidents: list[list[str]]) -> None:
        self.base_url, self.incidents = base_url, incidents  # one list of incident ids per worker
        self.acknowledged: dict[str, tuple[str, str]] = {}  # key -> (incident id, action) answered 200
        self.unanswered: dict[str, tuple[str, str]] = {}  # sent, no answer: applied or not, nobody knows
        self.refused: list[str] = []
        self.lock = threading.Lock()

    @staticmethod
    def send(client: httpx.Client, key: str, request_id: str, action: str) -> httpx.Response:
        return client.post(
            f"/open311/v2/requests/{request_id}/transitions.json",
            json={"action": action, "note": f"crash {key}"},
            headers={"Idempotency-Key": key},
        )

    def worker(self, w: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            for request_id in self.incidents[w]:
                for action in STEPS:
                    key = f"step-crash-{request_id}-{action}"
                    try:
                        response = self.send(client, key, request_id, action)
                    except httpx.HTTPError:
                        with self.lock:
                            self.unanswered[key] = (request_id, action)
                        return
                    with self.lock:
                        if response.status_code == 200:
                            self.acknowledged[key] = (request_id, action)
                        else:
                            self.refused.append(f"{response.status_code} {response.text[:200]}")
                            return


def _new_incidents(base_url: str, points: list[tuple[float, float]], n: int) -> list[str]:
    """n new reports (keyed), made before the burst: the ids the step clients walk."""
    def create(i: int) -> str:
        lon, lat = points[i % len(points)]
        body = {"service_code": "greening", "lat": lat, "long": lon, "description": f"step burst {i}"}
        response = httpx.post(f"{base_url}{URL}", json=body, headers={"Idempotency-Key": f"step-crash-new-{i}"},
                              timeout=30)
        assert response.status_code == 201, response.text
        return response.json()[0]["service_request_id"]

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(create, range(n)))


def _steps_by_incident(engine, ids: list[str]) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(incident_step.c.incident_id, incident_step.c.action)
            .where(incident_step.c.incident_id.in_([int(i) for i in ids]))
            .order_by(incident_step.c.id)
        ).all()
    found: dict[str, list[str]] = {}
    for incident_id, action in rows:
        found.setdefault(str(incident_id), []).append(action)
    return found


def test_kill_9_mid_step_burst_and_retries_by_key_lose_and_double_no_step(writable, tmp_path):
    engine = writable
    url = engine.url.render_as_string(hide_password=False)
    service = ServiceProcess(url, log_path=tmp_path / "service.log").start()
    ids = _new_incidents(service.url, _city_points(engine, seed=2), WORKERS * 30)
    burst = StepBurst(service.url, [ids[w::WORKERS] for w in range(WORKERS)])
    _kill_mid_burst(service, burst, within=60)
    applied_before_retry = _steps_by_incident(engine, ids)
    in_doubt_applied = [
        key for key, (request_id, action) in burst.unanswered.items()
        if action in applied_before_retry.get(request_id, [])
    ]

    restarted = ServiceProcess(url, port=service.port, log_path=tmp_path / "service.log").start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=10) as client:
            for key, (request_id, action) in burst.unanswered.items():
                retry = StepBurst.send(client, key, request_id, action)
                # Applied before the kill or not, the retry is answered 200, never 409 "it is <the next state>".
                assert retry.status_code == 200, (key, retry.text)
                assert retry.json()[0]["state"] == TRANSITIONS[_before(action)][action]
            # Every acknowledged step sent again is answered from its kept answer too.
            for key, (request_id, action) in list(burst.acknowledged.items())[:20]:
                assert StepBurst.send(client, key, request_id, action).status_code == 200
    finally:
        restarted.stop()
    taken = _steps_by_incident(engine, ids)
    expected: dict[str, list[str]] = {}
    for request_id, action in sorted({*burst.acknowledged.values(), *burst.unanswered.values()},
                                     key=lambda step: (step[0], STEPS.index(step[1]))):
        expected.setdefault(request_id, []).append(action)
    assert taken == expected  # every step once, none lost, none doubled, in order
    drift = rollup_drift(engine, CITY)
    assert drift.empty, drift.head(20).to_string()
    print(f"steps acknowledged {len(burst.acknowledged)}, in doubt {len(burst.unanswered)}, "
          f"of which applied before the kill {len(in_doubt_applied)}")


def _before(action: str) -> str:
    """The state an incident is in when the main line's `action` is its next step."""
    return ("reported", "dispatched", "handling", "resolved")[STEPS.index(action)]
