"""The attack review's catalogue (issue 13): each bad input, overload or stall is answered with a planned
status in the Open311 error format, and writes nothing (incidents, contacts, steps, roll-ups)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
import sqlalchemy as sa

from queries.intake import rollup_drift
from queries.schema import incident
from tests.intake_support import (
    BASE,
    CITY,
    Live,
    incident_count,
    live_service,
    post,
    report,
    write_lock_held,
    written,
)
from tests.support import BACKENDS, SMALL_DAYS, discard

# ---------------------------------------------------------------------------------------------------------------
# intake: the Open311 service (intake/), over real HTTP on loopback, once per backend
# ---------------------------------------------------------------------------------------------------------------

QUEUE_MAX = 2  # small, so a handful of concurrent writes fills it
WRITE_TIMEOUT = 2.0  # seconds
STALL_TIMEOUT = 2.0  # seconds to send headers, and the body
INTAKE_ENV = {
    "CITYOPS_INTAKE_QUEUE_MAX": str(QUEUE_MAX),
    "CITYOPS_INTAKE_WRITE_TIMEOUT_SECONDS": str(WRITE_TIMEOUT),
    "CITYOPS_INTAKE_BODY_TIMEOUT_SECONDS": str(STALL_TIMEOUT),
}
REQUESTS = f"{BASE}/requests.json"


@pytest.fixture(scope="module", params=BACKENDS)
def intake(request, demo_templates, tmp_path_factory):
    """The service with tight overload and stall limits over a fresh small demo city."""
    folder = tmp_path_factory.mktemp(f"attack-{request.param}")
    engine = demo_templates.copy(request.param, folder, days=SMALL_DAYS)
    with live_service(request.param, engine, folder, env=INTAKE_ENV) as running:
        yield running
    discard(engine)


def _refused(response: httpx.Response, status: int, hint: str) -> list[dict[str, Any]]:
    """The answer is `status` in the Open311 error format, one entry saying `hint`."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.headers
    errors = response.json()
    assert isinstance(errors, list) and errors and all(e["code"] == status for e in errors), errors
    assert any(hint in e["description"] for e in errors), errors
    return errors


def _writes_nothing(live: Live, attempt: Callable[[], httpx.Response]) -> httpx.Response:
    before = written(live.engine)
    response = attempt()
    assert written(live.engine) == before
    return response


def _raw(live: Live, data: bytes, *, wait: float = 15.0) -> tuple[bytes, float]:
    """Bytes sent on a socket of our own, then all the service answers until it closes (and how long it took)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.service.port), timeout=wait) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic() - started


def _raw_refused(answer: bytes, status: int, hint: str) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    headers = head.decode("latin-1").lower()
    assert headers.startswith(f"http/1.1 {status} "), answer[:300]
    assert "content-type: application/json" in headers and "connection: close" in headers, headers
    _refused(httpx.Response(status, headers={"content-type": "application/json"}, content=body), status, hint)


def _form(live: Live, i: int, description: bytes) -> bytes:
    lon, lat = live.points[i % len(live.points)]
    return f"service_code=greening&lat={lat}&long={lon}&description=".encode() + description


def _stored_description(live: Live, response: httpx.Response) -> str | None:
    request_id = int(response.json()[0]["service_request_id"])
    with live.engine.connect() as conn:
        return conn.execute(sa.select(incident.c.description).where(incident.c.id == request_id)).scalar_one()


# Item 4: bodies and parameters that raised inside the service (500) are 400s.


def test_json_nested_20000_deep_is_a_400(intake):
    body = b'{"service_code": "greening", "x": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    response = _writes_nothing(
        intake, lambda: intake.client.post(REQUESTS, content=body, headers={"content-type": "application/json"})
    )
    _refused(response, 400, "nested too deeply")


def test_start_date_past_year_9999_in_utc_is_a_400(intake):
    response = _writes_nothing(
        intake, lambda: intake.client.get(REQUESTS, params={"start_date": "9999-12-31T23:59:59-12:00"})
    )
    _refused(response, 400, "start_date '9999-12-31T23:59:59-12:00' is outside the years 0001 to 9999")


def test_start_date_0001_01_01_local_is_a_400(intake):
    # 0001-01-01 00:00 in the city's time (+08:00) is in the year 0 in UTC.
    response = _writes_nothing(intake, lambda: intake.client.get(REQUESTS, params={"start_date": "0001-01-01"}))
    _refused(response, 400, "start_date '0001-01-01' is outside the years 0001 to 9999")


# Item 5: form bodies that are not UTF-8 are decoded in their declared charset, or refused; never stored garbled.


def test_gbk_form_with_its_charset_declared_is_stored_as_sent(intake):
    text = "桥洞积水，请派人处理"
    before = incident_count(intake.engine)
    response = intake.client.post(
        REQUESTS,
        content=_form(intake, 1, text.encode("gbk")),
        headers={"content-type": "application/x-www-form-urlencoded; charset=gbk"},
    )
    assert response.status_code == 201, response.text
    assert _stored_description(intake, response) == text
    assert incident_count(intake.engine) == before + 1


def test_gb18030_percent_encoded_form_is_stored_as_sent(intake):
    text = "㐀 路灯不亮"  # U+3400 is in GB18030, not in GBK
    response = intake.client.post(
        REQUESTS,
        content=_form(intake, 2, quote_from_bytes(text.encode("gb18030")).encode()),
        headers={"content-type": "application/x-www-form-urlencoded; charset=GB18030"},
    )
    assert response.status_code == 201, response.text
    assert _stored_description(intake, response) == text


def test_gbk_form_sent_as_utf8_is_a_400(intake):
    body = _form(intake, 3, "桥洞积水".encode("gbk"))
    response = _writes_nothing(
        intake,
        lambda: intake.client.post(
            REQUESTS, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        ),
    )
    _refused(response, 400, "The form body is not UTF-8 text")


def test_percent_ff_fe_form_is_a_400(intake):
    body = _form(intake, 4, b"%ff%fe")
    response = _writes_nothing(
        intake,
        lambda: intake.client.post(
            REQUESTS, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        ),
    )
    _refused(response, 400, "holds the bytes ff fe")


def test_gbk_multipart_form_sent_as_utf8_is_a_400(intake):
    lon, lat = intake.points[5]
    fields = {"service_code": "greening", "lat": str(lat), "long": str(lon)}
    files = {"description": (None, "桥洞积水".encode("gbk"))}  # a text part (no file name) in GBK bytes
    response = _writes_nothing(intake, lambda: intake.client.post(REQUESTS, data=fields, files=files))
    _refused(response, 400, "The form body is not UTF-8 text")


def test_replacement_character_in_json_is_a_400(intake):
    response = _writes_nothing(intake, lambda: post(intake, report(intake, 6, description="桥洞\ufffd\ufffd积水")))
    _refused(response, 400, "contains U+FFFD")


def test_unknown_charset_is_a_415(intake):
    body = _form(intake, 7, b"abc")
    response = _writes_nothing(
        intake,
        lambda: intake.client.post(
            REQUESTS, content=body, headers={"content-type": "application/x-www-form-urlencoded; charset=koi8-r"}
        ),
    )
    _refused(response, 415, "charset 'koi8-r' is not accepted")


# Item 7: stalls are cut off, unparsable requests and overlong lists are answered in the Open311 format.


def test_stalled_body_is_a_408_and_the_connection_closed(intake):
    head = f"POST {REQUESTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    before = written(intake.engine)
    answer, took = _raw(intake, head.encode() + b'{"service_code": "gree')  # and then nothing
    _raw_refused(answer, 408, f"did not arrive within {STALL_TIMEOUT:g} s")
    assert STALL_TIMEOUT - 0.5 <= took < STALL_TIMEOUT + 5, took  # cut off, and then closed by the service
    assert written(intake.engine) == before


def test_stalled_headers_are_a_408_and_the_connection_closed(intake):
    before = written(intake.engine)
    answer, took = _raw(intake, f"POST {REQUESTS} HTTP/1.1\r\nHost: x\r\nContent-Ty".encode())
    _raw_refused(answer, 408, f"headers did not arrive within {STALL_TIMEOUT:g} s")
    assert STALL_TIMEOUT - 0.5 <= took < STALL_TIMEOUT + 5, took
    assert written(intake.engine) == before


def test_garbage_content_length_is_an_open311_400(intake):
    head = f"POST {REQUESTS} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12abc\r\n\r\n"
    before = written(intake.engine)
    answer, _ = _raw(intake, head.encode() + b'{"a": 1}')
    _raw_refused(answer, 400, "Content-Length must be a whole number")
    assert written(intake.engine) == before


def test_64_kb_url_is_an_open311_414(intake):
    url = f"{REQUESTS}?service_code={'x' * 65_536}"
    before = written(intake.engine)
    answer, _ = _raw(intake, f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    _raw_refused(answer, 414, "The URL is longer than")
    assert written(intake.engine) == before


def test_10000_ids_are_a_400_naming_the_limit(intake):
    ids = ",".join(str(i) for i in range(1, 10_001))
    # Commas as they are (httpx would percent-encode them in params, past its own URL limit).
    response = _writes_nothing(intake, lambda: intake.client.get(f"{REQUESTS}?service_request_id={ids}"))
    _refused(response, 400, "lists 10,000 ids; at most 1,000")


# Item 8: headers sent twice are ambiguous.


def test_two_idempotency_keys_are_a_400(intake):
    headers = [("Idempotency-Key", f"first-{uuid.uuid4()}"), ("Idempotency-Key", f"second-{uuid.uuid4()}")]
    response = _writes_nothing(intake, lambda: intake.client.post(REQUESTS, json=report(intake, 8), headers=headers))
    _refused(response, 400, "Idempotency-Key header is sent 2 times")


def test_two_content_types_are_a_400(intake):
    headers = [("Content-Type", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")]
    response = _writes_nothing(
        intake, lambda: intake.client.post(REQUESTS, content=b'{"service_code": "greening"}', headers=headers)
    )
    _refused(response, 400, "Content-Type header is sent 2 times")


# Item 3: overload is a 503 with Retry-After, and a write given up is never stored.


def _after_the_writer_is_free(live: Live) -> None:
    """A report the writer takes after every earlier one: once it is answered, they are all done with.

    Sent as a client should: again after Retry-After while the writer still drains the given-up jobs."""
    key = f"probe-{uuid.uuid4()}"
    for _ in range(5):
        probe = post(live, report(live, 9, description="probe"), key=key)
        if probe.status_code != 503:
            break
        time.sleep(float(probe.headers["retry-after"]))
    assert probe.status_code == 201, probe.text


def _only_the_probe_was_written(live: Live, before: dict[str, tuple[int, int]], keys: list[str]) -> None:
    after = written(live.engine)
    assert after["incident"][0] == before["incident"][0] + 1  # the probe
    assert (after["incident_contact"], after["incident_step"]) == (before["incident_contact"], before["incident_step"])
    assert incident_count(live.engine, incident.c.idempotency_key.in_(keys)) == 0
    drift = rollup_drift(live.engine, CITY)  # and the roll-ups count exactly the incidents there are
    assert drift.empty, drift.head(10).to_string()


def test_full_write_queue_is_a_503_with_retry_after(intake):
    keys = [f"queue-{n}-{uuid.uuid4()}" for n in range(3 * QUEUE_MAX + 2)]
    before = written(intake.engine)
    with write_lock_held(intake.engine), ThreadPoolExecutor(len(keys)) as pool:
        answers = list(pool.map(lambda n: post(intake, report(intake, n), key=keys[n]), range(len(keys))))
    # One batch waits on the lock, QUEUE_MAX wait in the queue: the others are refused at once,
    # and the waiting ones give up after WRITE_TIMEOUT.
    assert {a.status_code for a in answers} == {503}, [a.text for a in answers]
    assert all(a.headers.get("retry-after", "").isdigit() for a in answers)
    full = [a for a in answers if "writes waiting" in a.text]
    assert len(full) >= len(keys) - 2 * QUEUE_MAX, [a.text for a in answers]
    _refused(full[0], 503, f"{QUEUE_MAX:,} writes waiting, its limit: nothing was stored")
    _after_the_writer_is_free(intake)
    _only_the_probe_was_written(intake, before, keys)


def test_write_past_its_timeout_is_a_503_and_never_stored(intake):
    key = f"timeout-{uuid.uuid4()}"
    before = written(intake.engine)
    with write_lock_held(intake.engine):
        started = time.monotonic()
        response = intake.client.post(
            REQUESTS, json=report(intake, 10, phone="13800001234"), headers={"Idempotency-Key": key}, timeout=15
        )
        took = time.monotonic() - started
    _refused(response, 503, f"not done within {WRITE_TIMEOUT:g} s")
    assert response.headers["retry-after"].isdigit()
    assert WRITE_TIMEOUT - 0.5 <= took < WRITE_TIMEOUT + 5, took
    # The lock is gone now: the writer finishes the job it was running, sees it was given up, rolls it back.
    _after_the_writer_is_free(intake)
    _only_the_probe_was_written(intake, before, [key])


# Item 6: a coordinate system the service does not know is refused, never guessed.


def test_unknown_crs_is_a_400_naming_the_known_ones(intake):
    response = _writes_nothing(intake, lambda: post(intake, report(intake, 11, crs="epsg3857")))
    _refused(response, 400, "crs 'epsg3857' is unknown: use one of wgs84, gcj02, bd09")


def test_crs_that_is_not_text_is_a_400(intake):
    response = _writes_nothing(intake, lambda: post(intake, report(intake, 12, crs=2)))
    _refused(response, 400, "crs: Input should be a valid string")


def test_unknown_crs_in_a_form_is_a_400(intake):
    response = _writes_nothing(intake, lambda: post(intake, report(intake, 13, crs="mars"), form=True))
    _refused(response, 400, "crs 'mars' is unknown")


# Item 2: a key sent again with another request is refused (422), and nothing is written.


def _new_request(live: Live, i: int) -> str:
    response = post(live, report(live, i), key=f"catalogue-{uuid.uuid4()}")
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


def test_create_key_sent_again_with_another_report_is_a_422(intake):
    key = f"catalogue-{uuid.uuid4()}"
    assert post(intake, report(intake, 14), key=key).status_code == 201
    response = _writes_nothing(intake, lambda: post(intake, report(intake, 14, service_code="fire"), key=key))
    _refused(response, 422, "already used for request")


def test_step_key_sent_again_with_another_step_is_a_422(intake):
    request_id = _new_request(intake, 15)
    key, url = f"catalogue-{uuid.uuid4()}", f"{BASE}/requests/{request_id}/transitions.json"
    assert intake.client.post(url, json={"action": "dispatch"}, headers={"Idempotency-Key": key}).status_code == 200
    response = _writes_nothing(
        intake, lambda: intake.client.post(url, json={"action": "void"}, headers={"Idempotency-Key": key})
    )
    _refused(response, 422, f"was already used for a step of request {request_id} (which left it dispatched)")


def test_step_key_sent_again_for_another_request_is_a_422(intake):
    first, other = _new_request(intake, 16), _new_request(intake, 17)
    key = f"catalogue-{uuid.uuid4()}"
    body, headers = {"action": "dispatch"}, {"Idempotency-Key": key}
    first_step = intake.client.post(f"{BASE}/requests/{first}/transitions.json", json=body, headers=headers)
    assert first_step.status_code == 200, first_step.text
    response = _writes_nothing(
        intake, lambda: intake.client.post(f"{BASE}/requests/{other}/transitions.json", json=body, headers=headers)
    )
    _refused(response, 422, f"request {first}")


def test_overlong_step_key_is_a_400(intake):
    request_id = _new_request(intake, 18)
    response = _writes_nothing(
        intake,
        lambda: intake.client.post(
            f"{BASE}/requests/{request_id}/transitions.json", json={"action": "dispatch"},
            headers={"Idempotency-Key": "k" * 129},
        ),
    )
    _refused(response, 400, "Idempotency-Key must be 1 to 128 characters")


def test_two_step_keys_are_a_400(intake):
    request_id = _new_request(intake, 19)
    headers = [("Idempotency-Key", "one"), ("Idempotency-Key", "two")]
    response = _writes_nothing(
        intake,
        lambda: intake.client.post(
            f"{BASE}/requests/{request_id}/transitions.json", json={"action": "dispatch"}, headers=headers
        ),
    )
    _refused(response, 400, "Idempotency-Key header is sent 2 times")
