"""The attack review's catalogue (issue 13): each bad input, overload or stall is answered as planned and
writes nothing. # intake: the Open311 service, in the Open311 error format (incidents, contacts, steps, roll-ups
unchanged). # app: the pages and the scripts (outside text shown as text, masking, readiness, run-app)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes, urlparse

import httpx
import pytest
import sqlalchemy as sa
import streamlit as st
from markdown_it import MarkdownIt

from intake.process import ServiceProcess, free_port
from privacy import mask_number, mask_numbers_in_text
from queries.areas import area_geometries
from queries.intake import rollup_drift
from queries.schema import incident
from settings import PROJECT_ROOT, get_settings
from tests.apps import page_app
from tests.browser import IDLE, open_page, screenshot
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
from tests.support import BACKENDS, SMALL_DAYS, discard, markdown_text
from ui.widgets import WORD_JOINER, plain

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


# The first review's bad reports, bad look-ups and steps (kept from tests/test_intake_api.py): the same checks.


def _bad_reports(live: Live) -> dict[str, tuple[dict[str, Any], int, str]]:
    """The bad reports of the first review (before issue 13): (httpx arguments, status, hint)."""
    inside = report(live, 12)
    return {
        "malformed JSON": (
            dict(content=b'{"service_code": "greening", "lat": 29.8,', headers={"content-type": "application/json"}),
            400,
            "not valid JSON",
        ),
        "JSON array": (dict(json=[inside]), 400, "send one object"),
        "missing lat": (dict(json={k: v for k, v in inside.items() if k != "lat"}), 400, "lat is required"),
        "address without coordinates": (
            dict(data={"service_code": "greening", "address_string": "天一广场"}),
            400,
            "no geocoder",
        ),
        "lat not a number": (dict(json={**inside, "lat": "north"}), 400, "lat: "),
        "outside the city": (dict(json={**inside, "lat": 39.9, "long": 116.4}), 422, "outside 宁波市"),
        "lat and long swapped": (
            dict(json={**inside, "lat": inside["long"], "long": inside["lat"]}),
            422,
            "look swapped",
        ),
        "unknown service_code": (
            dict(json={**inside, "service_code": "potholes"}),
            400,
            "service_code 'potholes' is unknown: use one of city_appearance",
        ),
        "unknown source": (dict(json={**inside, "source": "weibo"}), 400, "source 'weibo' is unknown"),
        "description too long": (dict(json={**inside, "description": "长" * 501}), 400, "description: "),
        "NUL in text": (dict(json={**inside, "description": "桥\x00洞"}), 400, "NUL character"),
        "wrong content type": (
            dict(content=b"greening", headers={"content-type": "text/plain"}),
            415,
            "application/json",
        ),
        "overlong Idempotency-Key": (dict(json=inside, headers={"Idempotency-Key": "k" * 129}), 400, "1 to 128"),
    }


BAD_CASES = (
    "malformed JSON",
    "JSON array",
    "missing lat",
    "address without coordinates",
    "lat not a number",
    "outside the city",
    "lat and long swapped",
    "unknown service_code",
    "unknown source",
    "description too long",
    "NUL in text",
    "wrong content type",
    "overlong Idempotency-Key",
)


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_report_gets_a_4xx_saying_what_to_fix(intake, case):
    kwargs, status, hint = _bad_reports(intake)[case]
    _refused(_writes_nothing(intake, lambda: intake.client.post(REQUESTS, **kwargs)), status, hint)


def test_oversized_body_is_refused_with_413(intake):
    limit = get_settings().intake_max_body_bytes
    body = {**report(intake, 13), "description": "x" * (limit + 10)}
    _refused(_writes_nothing(intake, lambda: intake.client.post(REQUESTS, json=body)), 413, f"{limit:,} bytes")


def _step(live: Live, request_id: str, action: str) -> httpx.Response:
    return live.client.post(f"{BASE}/requests/{request_id}/transitions.json", json={"action": action})


def test_unknown_request_and_bad_steps(intake):
    created = post(intake, report(intake, 14, description="一步不存在的操作"))
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    for attempt, status, hint in (
        (lambda: intake.client.get(f"{BASE}/requests/987654321.json"), 404, "no service request 987654321"),
        (lambda: intake.client.get(f"{BASE}/requests/abc.json"), 404, ""),
        (lambda: _step(intake, "987654321", "dispatch"), 404, ""),
        (lambda: _step(intake, request_id, "teleport"), 400, "dispatch"),
        (lambda: intake.client.get(REQUESTS, params={"limit": 1001}), 400, ""),
        (lambda: intake.client.get(REQUESTS, params={"start_date": "yesterday"}), 400, "ISO 8601"),
    ):
        _refused(_writes_nothing(intake, attempt), status, hint)


# ---------------------------------------------------------------------------------------------------------------
# app: the pages, the wall and the scripts, with outside text in the URL, a missing database, a second run-app
# ---------------------------------------------------------------------------------------------------------------

# Every URL parameter a page or the wall reads.
URL_PARAMS = ("scope", "window", "category", "source", "status", "layers", "lang", "scenario",
              "playlist", "rotate", "profile")
PAGE_PATHS = ("overview", "incidents", "resources", "scenarios", "briefing", "imports", "wall")
EVIL = "evil.example"


class _Recorder(ThreadingHTTPServer):
    hits: list[str]


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def image_server() -> Iterator[_Recorder]:
    """A real HTTP server on loopback that records every request: the 'outside' image host."""
    server = _Recorder(("127.0.0.1", 0), _ImageHandler)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# Shown in the frame's warning when bad; the long value goes only there (the whole URL stays under
# the server's 64 KB request-line limit), the other params get the markup.
ECHOED_PARAMS = ("scope", "window", "category", "layers", "scenario")


def _markup(image_base: str) -> str:
    return (f"[系统升级：请点此重新登录](http://{EVIL}/login) ![x]({image_base}/md.png) "
            f"<img src='{image_base}/html.png'><a href='http://{EVIL}/h'>h</a> http://{EVIL}/bare www.{EVIL} "
            f"a@{EVIL} <b>bold</b> **bold** :red[red] $x^2$")


def _params(image_base: str, payload: str) -> dict[str, str]:
    markup = _markup(image_base)
    if payload == "markup":
        return dict.fromkeys(URL_PARAMS, markup)
    ascii_markup = markup.replace("系统升级：请点此重新登录", "login again")
    long = ((ascii_markup + " ") * (5000 // len(ascii_markup) + 1))[:5000]
    return {name: long if name in ECHOED_PARAMS else markup for name in URL_PARAMS}


def _is_outside_link(href: str) -> bool:
    """A link the value made: to the evil host or a mail address (the app's own page links carry the
    URL's values in their query string, which is fine)."""
    return urlparse(href).hostname == EVIL or href.startswith("mailto:")


READY = {"wall": IDLE, "imports": ".st-key-import-beds-template button"}  # pages without breadcrumbs


def _open(page, url: str, path: str) -> None:
    if path in READY:
        open_page(page, url, ready=READY[path])
    else:
        open_page(page, url)
    page.wait_for_timeout(500)


@pytest.mark.parametrize("payload", ["markup", "long"])
@pytest.mark.parametrize("path", PAGE_PATHS)
def test_url_values_are_shown_as_text_never_as_markdown_or_html(dashboard, dashboard_page, requested_urls,
                                                                image_server, path, payload):
    image_base = f"http://127.0.0.1:{image_server.server_address[1]}"
    params = _params(image_base, payload)
    value = params["scope"]
    page = dashboard_page
    _open(page, dashboard.url("" if path == "wall" else path, **params | ({"wall": "1"} if path == "wall" else {})),
          path)
    screenshot(page, f"attack-url-{path}-{payload}", whole=False)
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    sources = page.eval_on_selector_all("img[src]", "els => els.map(e => e.src)")
    assert not [h for h in hrefs if _is_outside_link(h)], hrefs
    assert not [s for s in sources if s.startswith(image_base)], sources
    assert not [u for u in requested_urls if u.startswith(image_base)]
    assert image_server.hits == []
    assert page.locator("[data-testid=stException]").count() == 0
    # nothing styled from the value: no bold/colour/LaTeX made from it anywhere on the page
    assert page.locator(".katex").count() == 0
    bold = page.eval_on_selector_all("b, strong", "els => els.map(e => e.innerText)")
    assert not [b for b in bold if "bold" in b], bold
    if path != "wall":
        warning = page.locator("[data-testid=stAlert]").first.inner_text().replace("\u2060", "")
        # the problem names the value as typed (a long one cut short), not its rendering
        assert value[:40] in warning, warning
        assert len(warning) < 1000, len(warning)


MARKDOWN_ATTACKS = (
    f"[系统升级：请点此重新登录](http://{EVIL}/login)", "![x](http://127.0.0.1:9/p.png)",
    "<img src=x onerror=alert(1)><script>alert(1)</script>", "**bold** _it_ `code` ~~del~~",
    "# heading\n- item\n1. item\n> quote\n---", "=cmd|' /C calc'!A0", "&lt;b&gt; &amp; \\[x\\] \\",
    ":red[red] :material/home: $x^2$ <http://evil.example>",
)


@pytest.mark.parametrize("text", MARKDOWN_ATTACKS)
def test_plain_makes_markdown_that_shows_the_text_as_typed(text):
    """Rendered by an independent CommonMark parser (markdown-it-py, raw HTML on): no element at all
    but the paragraph, and the paragraph's text is the input (line breaks as spaces)."""
    tokens = MarkdownIt("commonmark").parse(plain(text))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = tokens[1].children or []
    assert {c.type for c in children} <= {"text", "softbreak"}, [c.type for c in children]
    assert "".join(c.content for c in children).replace(WORD_JOINER, "") == " ".join(text.splitlines())


def _visible_digits(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if c.isdigit() or c in "Xx"]


NUMBERS = ("1234567", "110", "12345", "87654321", "13800000000", "+86 138-0000-0000", "0574-87654321",
           "33020219900101123X", "１３８００００００００", "123456")


@pytest.mark.parametrize("number", NUMBERS)
def test_a_masked_number_shows_at_most_a_third_of_its_digits(number):
    masked = mask_number(number)
    digits = len(_visible_digits(number))
    shown = _visible_digits(masked)
    assert len(masked) == len(number)
    assert len(shown) <= digits // 3
    if digits < 7:
        assert shown == []
    assert all(masked[i] == number[i] for i in shown)  # what is shown is the number's own, in place


def test_phone_and_id_numbers_in_free_text_are_masked_and_the_rest_kept():
    secrets = ["13912345678", "0574-87654321", "33020219900101123X", "１３８００００００００"]
    pieces = ["桥洞积水，联系", secrets[0], "，座机", secrets[1], "，身份证", secrets[2], "；全角", secrets[3],
              "；3号楼1201室，水深30cm"]
    text = "".join(pieces)
    masked = mask_numbers_in_text(text)
    assert len(masked) == len(text)
    start = 0
    for piece in pieces:
        shown = masked[start:start + len(piece)]
        if piece in secrets:
            assert len(_visible_digits(shown)) <= len(_visible_digits(piece)) // 3, shown
        else:
            assert shown == piece
        start += len(piece)


def test_open311_reads_never_return_a_phone_or_id_number_typed_into_a_description(demo_templates, tmp_path):
    engine = demo_templates.copy("sqlite", tmp_path, days=SMALL_DAYS)
    point = area_geometries(engine, get_settings().city_code, "grid").geometry.iloc[0].representative_point()
    phone, id_card = "13912345678", "33020219900101123X"
    url = engine.url.render_as_string(hide_password=False)
    with (ServiceProcess(url, log_path=tmp_path / "service.log") as service,
          httpx.Client(base_url=f"{service.url}/open311/v2", timeout=30) as client):
        created = client.post("/requests.json", json={
            "service_code": "greening", "lat": point.y, "long": point.x,
            "description": f"树枝折断，回电{phone}，身份证{id_card}"})
        assert created.status_code == 201, created.text
        request_id = created.json()[0]["service_request_id"]
        step = client.post(f"/requests/{request_id}/transitions.json",
                           json={"action": "dispatch", "note": f"联系人 {phone}"})
        assert step.status_code == 200, step.text
        answers = [step.json()[0], client.get(f"/requests/{request_id}.json").json()[0],
                   next(r for r in client.get("/requests.json", params={"service_request_id": request_id}).json())]
    discard(engine)
    for answer in answers:
        text = f"{answer['description']} {answer['status_notes']}"
        assert phone not in text and id_card not in text and phone[-5:] not in text, text
        assert "树枝折断" in answer["description"]  # the words stay
        for run in ("*" * 7, "*" * 12):
            assert run in text


@pytest.fixture
def missing_database(tmp_path, monkeypatch) -> Iterator[Path]:
    """DATABASE_URL names a SpatiaLite file that does not exist (caches and settings reset around it)."""
    path = tmp_path / "missing.sqlite"  # the folder exists; the file does not
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    for clear in (get_settings.cache_clear, st.cache_data.clear, st.cache_resource.clear):
        clear()
    yield path
    for clear in (get_settings.cache_clear, st.cache_data.clear, st.cache_resource.clear):
        clear()


def test_the_intake_refuses_a_missing_database_file_and_creates_none(missing_database, tmp_path):
    log = tmp_path / "service.log"
    with pytest.raises(RuntimeError, match="exited"):
        ServiceProcess(f"sqlite:///{missing_database}", log_path=log).start(timeout=60)
    assert not missing_database.exists()
    assert not list(missing_database.parent.glob("missing.sqlite*"))  # no -wal/-shm either
    text = log.read_text(errors="replace")
    assert "cli.py seed" in text and str(missing_database) in text, text[-2000:]
    assert "Traceback" not in text


@pytest.mark.parametrize("page", ["overview", "incidents", "imports"])
def test_a_page_over_a_missing_database_file_says_so_and_creates_none(missing_database, page):
    app = page_app(page, scope="330212").run()
    assert not app.exception, [e.value for e in app.exception]
    messages = [markdown_text(e.value) for e in app.error]
    assert len(messages) == 1 and "cli.py seed" in messages[0], messages
    assert not missing_database.exists()


def test_readiness_touches_the_database_and_liveness_does_not(demo_templates, tmp_path):
    """/healthz (liveness: names its pid and database) stays 200 with the database file gone;
    /readyz (readiness, for a load balancer) answers 503 then, 200 again once it is back."""
    engine = demo_templates.copy("sqlite", tmp_path, days=SMALL_DAYS)
    path = Path(engine.url.database)
    url = engine.url.render_as_string(hide_password=False)
    with ServiceProcess(url, log_path=tmp_path / "service.log") as service:
        ready = httpx.get(f"{service.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        health = httpx.get(f"{service.url}/healthz", timeout=10).json()
        assert health["pid"] == service.process.pid and health["database"] == f"sqlite:///{path.resolve()}"
        path.rename(path.with_suffix(".away"))
        try:
            assert httpx.get(f"{service.url}/healthz", timeout=10).status_code == 200
            down = httpx.get(f"{service.url}/readyz", timeout=10)
            assert down.status_code == 503 and down.json()[0]["code"] == 503, down.text
        finally:
            path.with_suffix(".away").rename(path)
        assert httpx.get(f"{service.url}/readyz", timeout=10).status_code == 200
    probe = [sys.executable, "cli.py", "ready", "--database-url"]
    up = subprocess.run([*probe, url], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert up.returncode == 0 and str(path.resolve()) in up.stdout, up.stderr
    discard(engine)
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    gone = subprocess.run([*probe, url], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    assert gone.returncode == 2 and "no database" in gone.stderr, gone.stderr


def _run_app_until_serving(env: dict[str, str], log: Path):
    """scripts/run-app in its own process group, its stderr in `log`, until it says where it serves."""
    out = open(log, "wb")  # noqa: SIM115 - closed by the caller's kill
    process = subprocess.Popen([str(PROJECT_ROOT / "scripts" / "run-app")], cwd=PROJECT_ROOT, env=env, stdout=out,  # noqa: S603
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "run-app: serving" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    return process, out


def _stop_group(process) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


def test_run_app_does_not_report_another_intake_as_its_own_and_binds_loopback(demo_templates, tmp_path):
    """A foreign intake (another database) already on the port: run-app must say so, not "intake service
    on"; with a free port it names its own pid. Streamlit answers on 127.0.0.1 only."""
    for folder in ("ours", "theirs"):
        (tmp_path / folder).mkdir()
    ours = demo_templates.copy("sqlite", tmp_path / "ours", days=1)
    theirs = demo_templates.copy("sqlite", tmp_path / "theirs", days=1)
    env = {**os.environ, "DATABASE_URL": ours.url.render_as_string(hide_password=False), "CITYOPS_SIMULATOR": "0"}
    with ServiceProcess(theirs.url.render_as_string(hide_password=False), log_path=tmp_path / "theirs.log") as other:
        app_port = free_port()
        process, out = _run_app_until_serving(env | {"CITYOPS_INTAKE_PORT": str(other.port),
                                                     "CITYOPS_APP_PORT": str(app_port)}, tmp_path / "run1.log")
        try:
            text = (tmp_path / "run1.log").read_text(errors="replace")
            assert f"port {other.port} is taken by another intake" in text, text[-3000:]
            assert "run-app: intake service on" not in text
            for _ in range(120):  # Streamlit's own health, on loopback
                try:
                    if httpx.get(f"http://127.0.0.1:{app_port}/_stcore/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            else:
                pytest.fail("Streamlit did not answer on 127.0.0.1")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as route:  # no packet is sent
                route.connect(("192.0.2.1", 9))
                own_address = route.getsockname()[0]  # the machine's address on its network
            if not own_address.startswith("127."):
                with socket.socket() as probe, pytest.raises(OSError):
                    probe.settimeout(2)
                    probe.connect((own_address, app_port))
        finally:
            _stop_group(process)
            out.close()
    intake_port = free_port()
    process, out = _run_app_until_serving(env | {"CITYOPS_INTAKE_PORT": str(intake_port),
                                                 "CITYOPS_APP_PORT": str(free_port())}, tmp_path / "run2.log")
    try:
        text = (tmp_path / "run2.log").read_text(errors="replace")
        health = httpx.get(f"http://127.0.0.1:{intake_port}/healthz", timeout=5).json()
        assert f"intake service on http://127.0.0.1:{intake_port} (pid {health['pid']})" in text, text[-3000:]
    finally:
        _stop_group(process)
        out.close()
