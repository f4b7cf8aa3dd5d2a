"""Retries are safe (issue 13 items 2, 6): a lifecycle step sent again with its Idempotency-Key is answered as the
first time, a report sent again without any key finds its first incident, and coordinates sent in GCJ-02 or BD-09
are stored in WGS84. Over real HTTP on loopback, once per backend."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from pyproj import Geod
from shapely.geometry import Point

from clock import now_utc
from geo.crs import gcj02_to_bd09, wgs84_to_gcj02
from geo.locate import GridLocator
from queries.areas import area_geometries
from queries.intake import CONTENT_KEY_WINDOW, IncidentDraft, create_incident
from queries.schema import incident, incident_step
from tests.intake_support import BASE, CITY, Live, incident_count, live_service, post, report, written
from tests.support import BACKENDS, SMALL_DAYS, discard

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module", params=BACKENDS)
def live(request, demo_templates, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"retries-{request.param}")
    engine = demo_templates.copy(request.param, folder, days=SMALL_DAYS)
    with live_service(request.param, engine, folder) as running:
        yield running
    discard(engine)


def _created(live: Live, i: int, **fields) -> str:
    response = post(live, report(live, i, **fields), key=str(uuid.uuid4()))
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


def _step(live: Live, request_id: str, body: dict, key: str | None):
    headers = {"Idempotency-Key": key} if key else {}
    return live.client.post(f"{BASE}/requests/{request_id}/transitions.json", json=body, headers=headers)


def _steps_taken(live: Live, request_id: str) -> list[str]:
    with live.engine.connect() as conn:
        rows = conn.execute(
            sa.select(incident_step.c.action).where(incident_step.c.incident_id == int(request_id))
        ).scalars()
        return list(rows)


# Item 2a: a step retried with its key.


def test_a_step_retried_with_its_key_is_answered_as_the_first_time(live):
    request_id = _created(live, 0)
    key, body = f"step-{uuid.uuid4()}", {"action": "dispatch", "note": "派鄞州区城管中队"}
    first = _step(live, request_id, body, key)
    assert first.status_code == 200, first.text
    before = written(live.engine)
    again = _step(live, request_id, body, key)  # the client never heard the first answer and sends it again
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers.get("idempotent-replayed") == "true"
    assert written(live.engine) == before  # answered from the kept answer: nothing written
    assert _steps_taken(live, request_id) == ["dispatch"]
    # As a form, the same request is the same request.
    form = live.client.post(
        f"{BASE}/requests/{request_id}/transitions.json", data=body, headers={"Idempotency-Key": key}
    )
    assert (form.status_code, form.content) == (first.status_code, first.content)


def test_the_kept_answer_survives_a_restart_of_the_service(live, tmp_path):
    request_id = _created(live, 1)
    key, body = f"step-{uuid.uuid4()}", {"action": "dispatch"}
    first = _step(live, request_id, body, key)
    assert first.status_code == 200, first.text
    live.service.stop()
    live.service.start()  # the same port and database: the key was committed with the step
    again = _step(live, request_id, body, key)
    assert (again.status_code, again.content) == (200, first.content)
    assert _steps_taken(live, request_id) == ["dispatch"]


def test_a_step_key_sent_again_with_another_request_is_a_422(live):
    request_id, other_id = _created(live, 2), _created(live, 3)
    key = f"step-{uuid.uuid4()}"
    assert _step(live, request_id, {"action": "dispatch"}, key).status_code == 200
    before = written(live.engine)
    for request, body in ((request_id, {"action": "void"}), (request_id, {"action": "dispatch", "note": "x"}),
                          (other_id, {"action": "dispatch"})):
        refused = _step(live, request, body, key)
        assert refused.status_code == 422, refused.text
        (error,) = refused.json()
        assert error["code"] == 422 and "Idempotency-Key" in error["description"]
        assert f"request {request_id}" in error["description"]
    assert written(live.engine) == before
    assert _steps_taken(live, other_id) == []


def test_a_new_key_for_a_step_out_of_order_is_still_a_409(live):
    request_id = _created(live, 4)
    assert _step(live, request_id, {"action": "dispatch"}, f"a-{uuid.uuid4()}").status_code == 200
    again = _step(live, request_id, {"action": "dispatch"}, f"b-{uuid.uuid4()}")  # a second dispatch, not a retry
    assert again.status_code == 409 and again.json()[0]["allowed_actions"]
    assert _steps_taken(live, request_id) == ["dispatch"]


# Item 2b: a report with neither Idempotency-Key nor external_id.


def test_a_keyless_report_sent_again_finds_its_first_incident(live):
    body = report(live, 5, description=f"路灯不亮 {uuid.uuid4().hex[:8]}", phone="13800001111")
    first, again = post(live, body), post(live, body, form=True)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert incident_count(live.engine, incident.c.description == body["description"]) == 1
    # Another report (another reporter, or another place) is another incident.
    other = post(live, {**body, "phone": "13800002222"})
    moved = post(live, report(live, 6, description=body["description"], phone="13800001111"))
    assert (other.status_code, moved.status_code) == (201, 201)
    assert incident_count(live.engine, incident.c.description == body["description"]) == 3


def test_a_content_key_holds_for_its_window_only(live):
    grids = area_geometries(live.engine, CITY, "grid")
    locator = GridLocator.from_frame(grids, CITY)
    lon, lat = live.points[7]
    draft = IncidentDraft(
        category="greening", source="grid_patrol", priority="routine", lon=lon, lat=lat,
        **locator.locate(lon, lat).__dict__, description=f"window {uuid.uuid4().hex[:8]}",
    )
    start = now_utc()
    with live.engine.begin() as conn:
        first = create_incident(conn, draft, city_code=CITY, now=start)
        within = create_incident(conn, draft, city_code=CITY, now=start + CONTENT_KEY_WINDOW - timedelta(seconds=1))
        after = create_incident(conn, draft, city_code=CITY, now=start + CONTENT_KEY_WINDOW + timedelta(seconds=1))
        later = create_incident(conn, draft, city_code=CITY, now=start + CONTENT_KEY_WINDOW + timedelta(minutes=1))
    assert first.created and not within.created and within.row["id"] == first.row["id"]
    assert after.created and after.row["id"] != first.row["id"]
    assert not later.created and later.row["id"] == after.row["id"]  # the window starts again from the new one


# Item 6: coordinates in GCJ-02 / BD-09.


@pytest.mark.parametrize("crs", ["gcj02", "BD-09", "wgs84"])
def test_coordinates_in_another_system_are_stored_in_wgs84(live, crs):
    lon, lat = live.points[8 + ["gcj02", "BD-09", "wgs84"].index(crs)]
    sent = {
        "gcj02": wgs84_to_gcj02(lon, lat),
        "BD-09": gcj02_to_bd09(*wgs84_to_gcj02(lon, lat)),
        "wgs84": (np.float64(lon), np.float64(lat)),
    }[crs]
    body = {**report(live, 0), "long": float(sent[0]), "lat": float(sent[1]), "crs": crs}
    response = post(live, body, key=str(uuid.uuid4()))
    assert response.status_code == 201, response.text
    request_id = int(response.json()[0]["service_request_id"])
    with live.engine.connect() as conn:
        row = conn.execute(sa.select(incident).where(incident.c.id == request_id)).mappings().one()
    off = GEOD.inv(row["lon"], row["lat"], lon, lat)[2]
    assert off < 1.0, off  # metres from the WGS84 point the coordinates were made from
    grids = area_geometries(live.engine, CITY, "grid")
    assert row["grid_code"] in set(grids.loc[grids.geometry.covers(Point(lon, lat)), "code"])
    if crs != "wgs84":  # the coordinates as sent are hundreds of metres away: filed there, they were wrong
        assert GEOD.inv(float(sent[0]), float(sent[1]), lon, lat)[2] > 300
