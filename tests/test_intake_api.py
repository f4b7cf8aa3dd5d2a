"""The Open311 intake service over real HTTP on loopback, once per backend (SpatiaLite, PostGIS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from shapely.geometry import Point
from sqlalchemy.engine import Engine

from queries.areas import area_geometries
from queries.intake import rollup_drift
from queries.schema import incident, incident_contact, incident_rollup, incident_step
from settings import PROJECT_ROOT
from tests.intake_support import BASE, CITY, Live, live_service
from tests.intake_support import incident_count as _count
from tests.intake_support import post as _post
from tests.intake_support import report as _report
from tests.support import BACKENDS, discard
from vocab import CATEGORIES, CATEGORY_CODES, CLOSED_STATUSES, TRANSITIONS


@pytest.fixture(scope="module", params=BACKENDS)
def live(request, demo_templates, tmp_path_factory):
    """A fresh copy of the demo city with one day of incidents and the service on a free port in front of it.

    Module-wide: the tests run in order and the last one checks the roll-ups after all their writes."""
    folder = tmp_path_factory.mktemp(f"intake-{request.param}")
    engine = demo_templates.copy(request.param, folder, days=1)  # the list test counts over a whole day
    with live_service(request.param, engine, folder) as running:
        yield running
    discard(engine)


def _create(live: Live, body: dict, **kw) -> str:
    response = _post(live, body, **kw)
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


def _get(live: Live, request_id: str) -> dict:
    response = live.client.get(f"{BASE}/requests/{request_id}.json")
    assert response.status_code == 200, response.text
    (row,) = response.json()
    return row


def _step(live: Live, request_id: str, action: str, note: str | None = None) -> httpx.Response:
    return live.client.post(f"{BASE}/requests/{request_id}/transitions.json", json={"action": action, "note": note})


def _row(engine: Engine, request_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(incident).where(incident.c.id == int(request_id))).mappings().one())


def _grid_containing(engine: Engine, lon: float, lat: float) -> str:
    """Independent of the service's STRtree: every grid polygon tested in turn."""
    grids = area_geometries(engine, CITY, "grid")
    return sorted(grids.loc[grids.geometry.covers(Point(lon, lat)), "code"])[0]


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def test_services_are_the_incident_categories(live):
    services = live.client.get(f"{BASE}/services.json").json()
    assert [s["service_code"] for s in services] == list(CATEGORY_CODES)
    assert [s["service_name"] for s in services] == [t.zh for t in CATEGORIES]
    assert {(s["metadata"], s["type"]) for s in services} == {(False, "realtime")}
    assert all(s["group"] and s["keywords"] for s in services)


def test_json_report_round_trip(live):
    body = _report(live, 1, first_name="小明", last_name="王", phone="13800001111", email="w@example.cn")
    before = _count(live.engine)
    request_id = _create(live, body)
    got = _get(live, request_id)
    assert _count(live.engine) == before + 1
    assert (got["service_code"], got["service_name"], got["description"]) == ("greening", "园林绿化", "路边树枝折断")
    assert (got["lat"], got["long"]) == (body["lat"], body["long"])
    assert (got["status"], got["state"], got["status_notes"]) == ("open", "reported", "受理 (reported)")
    assert got["grid_code"] == _grid_containing(live.engine, body["long"], body["lat"])
    assert got["district_code"] == got["grid_code"][:6] and got["community_code"] == got["grid_code"][:12]
    due = _moment(got["expected_datetime"]) - _moment(got["requested_datetime"])
    assert due == timedelta(hours=48)  # routine
    assert (got["source"], got["priority"]) == ("hotline_12345", "routine")
    # The reporter's details are stored apart and never come back through the API.
    assert "13800001111" not in json.dumps(got) and "王小明" not in json.dumps(got, ensure_ascii=False)
    with live.engine.connect() as conn:
        contact = (
            conn.execute(sa.select(incident_contact).where(incident_contact.c.incident_id == int(request_id)))
            .mappings()
            .one()
        )
    assert (contact["name"], contact["phone"], contact["email"]) == ("王小明", "13800001111", "w@example.cn")


def test_form_report_round_trip(live):
    body = _report(
        live,
        2,
        service_code="flood_typhoon",
        priority="urgent",
        source="grid_patrol",
        address_string="宁波市鄞州区桥下",
        description="桥洞积水",
    )
    request_id = _create(live, body, form=True)
    got = _get(live, request_id)
    assert (got["service_code"], got["priority"], got["source"], got["address"]) == (
        "flood_typhoon",
        "urgent",
        "grid_patrol",
        "宁波市鄞州区桥下",
    )
    assert _moment(got["expected_datetime"]) - _moment(got["requested_datetime"]) == timedelta(hours=8)
    assert got["grid_code"] == _grid_containing(live.engine, body["long"], body["lat"])


def test_list_filters_agree_with_the_database(live):
    start = datetime.now().astimezone()
    made = [
        _create(live, _report(live, i, service_code=code))
        for i, code in enumerate(["fire", "fire", "disputes", "fire"])
    ]
    _step(live, made[1], "void")
    listed = live.client.get(
        f"{BASE}/requests.json", params={"service_code": "fire", "start_date": start.isoformat()}
    ).json()
    assert [r["service_request_id"] for r in listed] == [made[3], made[1], made[0]]  # newest first
    open_fire = live.client.get(
        f"{BASE}/requests.json", params={"service_code": "fire", "status": "open", "start_date": start.isoformat()}
    ).json()
    assert [r["service_request_id"] for r in open_fire] == [made[3], made[0]]
    by_id = live.client.get(f"{BASE}/requests.json", params={"service_request_id": f"{made[2]},{made[0]}"}).json()
    assert sorted(r["service_request_id"] for r in by_id) == sorted([made[2], made[0]])
    # Over the whole day of demo data, each filter returns what a direct count of the table says.
    end = datetime.now().astimezone().isoformat()
    closed = live.client.get(
        f"{BASE}/requests.json", params={"status": "closed", "limit": 1000, "end_date": end}
    ).json()
    expected = _count(live.engine, incident.c.status.in_(CLOSED_STATUSES))
    assert len(closed) == min(1000, expected) and {r["status"] for r in closed} == {"closed"}
    assert len(live.client.get(f"{BASE}/requests.json").json()) == 100  # the default limit


def test_lifecycle_to_closed(live):
    request_id = _create(live, _report(live, 5, priority="critical"))
    for action, state in [("dispatch", "dispatched"), ("handle", "handling"), ("resolve", "resolved")]:
        response = _step(live, request_id, action, note=f"{action} 已办")
        assert response.status_code == 200, response.text
        (row,) = response.json()
        assert (row["state"], row["status"]) == (state, "open")
        assert row["status_notes"].endswith(f"({state}): {action} 已办")
    (row,) = _step(live, request_id, "close", note="核查通过").json()
    assert (row["status"], row["state"]) == ("closed", "closed")
    assert _get(live, request_id)["status_notes"] == "结案 (closed): 核查通过"
    stored = _row(live.engine, request_id)
    minutes = (stored["closed_at"] - stored["reported_at"]).total_seconds() / 60
    assert stored["close_minutes"] == round(minutes) and stored["on_time"] is True
    assert stored["close_bin"] == 0  # closed within the first 10 minutes
    assert stored["dispatched_at"] <= stored["handling_at"] <= stored["resolved_at"] <= stored["closed_at"]
    with live.engine.connect() as conn:
        steps = (
            conn.execute(
                sa.select(incident_step.c.action)
                .where(incident_step.c.incident_id == int(request_id))
                .order_by(incident_step.c.id)
            )
            .scalars()
            .all()
        )
    assert steps == ["dispatch", "handle", "resolve", "close"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (["void"], "closed"),
        (["dispatch", "handle", "park"], "open"),
        (["dispatch", "handle", "park", "reopen", "resolve", "reopen"], "open"),
        (["escalate", "handle", "resolve", "close"], "closed"),
    ],
)
def test_side_states_map_to_open_or_closed(live, path, status):
    # A report of its own (the same keyless report again within 10 minutes would be a repeat of the first).
    request_id = _create(live, _report(live, 7, description=f"路边树枝折断 {' '.join(path)}"))
    state = "reported"
    for action in path:
        response = _step(live, request_id, action)
        assert response.status_code == 200, response.text
        state = TRANSITIONS[state][action]
    got = _get(live, request_id)
    assert (got["state"], got["status"]) == (state, status)


def test_out_of_order_step_is_a_409_listing_the_allowed_actions(live):
    request_id = _create(live, _report(live, 8))
    before = _row(live.engine, request_id)
    response = _step(live, request_id, "close")
    assert response.status_code == 409
    (error,) = response.json()
    assert error["code"] == 409 and error["allowed_actions"] == ["dispatch", "void", "escalate"]
    assert "dispatch, void, escalate" in error["description"]
    assert _row(live.engine, request_id) == before  # nothing written
    _step(live, request_id, "void")
    (final,) = _step(live, request_id, "reopen").json()
    assert final["allowed_actions"] == [] and "final state" in final["description"]


def test_repeats_with_the_same_key_or_external_id_create_nothing(live):
    key, body = str(uuid.uuid4()), _report(live, 9)
    first = _post(live, body, key=key)
    again = _post(live, body, key=key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    assert _count(live.engine, incident.c.idempotency_key == key) == 1
    external = _report(live, 10, external_id=f"12345-{uuid.uuid4().hex[:10]}")
    ids = {_post(live, external).json()[0]["service_request_id"] for _ in range(3)}
    assert len(ids) == 1 and _count(live.engine, incident.c.external_id == external["external_id"]) == 1
    changed = _post(live, {**body, "service_code": "fire"}, key=key)
    assert changed.status_code == 422 and "different category" in changed.json()[0]["description"]
    # Ten clients retrying at once with one key: one incident, every answer names it.
    race_key = str(uuid.uuid4())
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: _post(live, _report(live, 11), key=race_key), range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()[0]["service_request_id"] for a in answers}) == 1
    assert _count(live.engine, incident.c.idempotency_key == race_key) == 1


def test_openapi_and_docs_are_served_without_a_cdn(live):
    spec = live.client.get("/openapi.json").json()
    assert {
        f"{BASE}/services.json",
        f"{BASE}/requests.json",
        f"{BASE}/requests/{{request_id}}.json",
        f"{BASE}/requests/{{request_id}}/transitions.json",
    } <= set(spec["paths"])
    page = live.client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text


def test_schemathesis_finds_no_server_error(live, tmp_path):
    checks = (
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance,response_headers_conformance"
    )
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{live.service.url}/openapi.json",
        "--checks",
        checks,
        "--max-examples",
        "20",
        # One worker: CPython 3.11.7's ast.parse is not thread-safe (gh-106905, "AST constructor
        # recursion depth mismatch"), and hypothesis parses lambdas while schemathesis's threads run.
        "--workers",
        "1",
        "--seed",
        "7",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)  # noqa: S603
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout


def _simulate(live: Live, *args: str) -> dict:
    command = [sys.executable, "-m", "intake.simulator", "--url", live.service.url, *args]
    result = subprocess.run(  # noqa: S603 - our own fixed command
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=90, env=_env(live)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_simulator_feeds_the_service_and_resumes_lifecycles(live):
    run_id = uuid.uuid4().hex[:8]
    ours = incident.c.external_id.like(f"SIM-{run_id}-%")
    # Real-time lifecycle: within the run nothing is due yet, so every incident stays reported.
    fed = _simulate(live, "--burst", "20", "--duration", "1.5", "--seed", "5", "--run-id", run_id)
    assert fed["created"] > 5 and fed["created"] == _count(live.engine, ours)
    assert _count(live.engine, ours & (incident.c.status == "reported")) == fed["created"]
    # A second run (as after a restart) walks them on, here 10 hours per second.
    walked = _simulate(
        live, "--resume", "--burst", "0.01", "--duration", "0.5", "--speed", "36000", "--drain", "10", "--seed", "6"
    )
    with live.engine.connect() as conn:
        steps = sa.select(sa.func.count()).where(incident_step.c.incident_id == incident.c.id).scalar_subquery()
        walks = conn.execute(sa.select(incident.c.status, steps).where(ours)).all()
    # Each incident took exactly the steps from reported to its state (run 1 took none); a step
    # whose answer was cut off as the run ended is stored but missing from the simulator's tally.
    taken = {"reported": 0, "dispatched": 1, "handling": 2, "resolved": 3, "closed": 4}
    assert all(n == taken[state] for state, n in walks), walks
    assert sum(state == "closed" for state, _ in walks) > fed["created"] // 2
    assert sum(n for _, n in walks) >= walked["steps"] - 4 * walked["created"] > 0


def _env(live: Live) -> dict:
    return {**os.environ, "DATABASE_URL": live.engine.url.render_as_string(hide_password=False)}


def test_rollups_after_all_writes_equal_a_recount(live):
    """Runs last in the module: every write above (and the fuzzing) kept the roll-ups exact."""
    drift = rollup_drift(live.engine, CITY)
    assert drift.empty, drift.head(20).to_string()
    with live.engine.connect() as conn:
        city_total = conn.execute(
            sa.select(sa.func.sum(incident_rollup.c.n)).where(incident_rollup.c.area_code == CITY)
        ).scalar()
    assert city_total == _count(live.engine)
