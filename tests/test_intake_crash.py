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
from queries.schema import incident, incident_rollup
from settings import get_settings

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


def test_kill_9_mid_burst_and_racing_writers_lose_and_double_nothing(writable, tmp_path):
    engine = writable
    url = engine.url.render_as_string(hide_password=False)
    grids = area_geometries(engine, CITY, "grid").sample(50, random_state=1)
    points = [(p.x, p.y) for p in grids.geometry.representative_point()]
    service = ServiceProcess(url, log_path=tmp_path / "service.log").start()
    burst = Burst(service.url, points)
    threads = [threading.Thread(target=burst.worker, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(burst.acknowledged) < 300 and time.monotonic() < deadline:
        time.sleep(0.02)
    service.kill()  # SIGKILL while the clients are still sending
    for thread in threads:
        thread.join(15)
    assert not burst.refused, burst.refused[:5]
    assert len(burst.acknowledged) >= 300 and burst.unanswered, "the kill did not land mid-burst"

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
