"""The intake endpoints: Open311 services and requests, the lifecycle extension, health and the API page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Connection

from clock import now_utc
from intake.answers import SERVICES, created_out, request_out
from intake.bodies import body_fields, idempotency_key, incident_draft, parse
from intake.keys import StepAnswer, keyed_step
from intake.params import DEFAULT_LIMIT, MAX_LIMIT, as_incident_id, request_query
from intake.schemas import RequestCreated, Service, ServiceRequestIn, ServiceRequestOut, TransitionIn
from intake.spec import (
    BASE,
    CREATED_LINKS,
    IDEMPOTENCY_PARAMETER,
    STEP_IDEMPOTENCY_PARAMETER,
    error_answers,
    json_or_form_body,
)
from intake.state import IntakeState, Running
from queries.engine import check_reachable, database_identity
from queries.intake import Created, create_incident, service_request, service_requests, transition_incident

router = APIRouter()

# A self-contained API page (no CDN): the spec rendered by a few lines of inline script.
DOCS_PAGE = (Path(__file__).parent / "docs.html").read_text(encoding="utf-8")


@router.get(
    f"{BASE}/services.json",
    response_model=list[Service],
    tags=["open311"],
    summary="The incident categories as Open311 services",
)
def services() -> JSONResponse:
    return JSONResponse(SERVICES)


@router.post(
    f"{BASE}/requests.json",
    response_model=list[RequestCreated],
    status_code=201,
    tags=["open311"],
    summary="Report an incident (JSON or form)",
    responses={
        200: {"model": list[RequestCreated], "description": "A repeat: the earlier request."},
        **error_answers(400, 408, 413, 415, 422, 503),
    },
    openapi_extra={
        "requestBody": json_or_form_body(ServiceRequestIn),
        "parameters": [IDEMPOTENCY_PARAMETER],
        "responses": {"201": {"links": CREATED_LINKS}},
    },
)
async def create_request(request: Request, state: Running) -> JSONResponse:
    """Report an incident. A retry creates nothing and answers 200 with the first request's id when it
    carries the first try's Idempotency-Key or external_id (the same key with another report is a 422);
    a report with neither is known again by its content (source, service_code, priority, lat/long to
    5 decimals, description, address, reporter) for queries.intake.CONTENT_KEY_WINDOW (10 minutes) after
    it was first stored. lat/long are converted to WGS84 from the system crs names (gcj02, bd09)."""
    key = idempotency_key(request)
    body = parse(ServiceRequestIn, await body_fields(request))
    draft = incident_draft(state.locator, body, key)
    result: Created = await state.write(
        lambda conn: create_incident(conn, draft, city_code=state.city_code, now=now_utc())
    )
    return JSONResponse(created_out(result), status_code=201 if result.created else 200)


@router.get(
    f"{BASE}/requests.json",
    response_model=list[ServiceRequestOut],
    tags=["open311"],
    summary="Search service requests (newest first)",
    responses=error_answers(400, 503),
)
def list_requests(
    state: Running,
    service_request_id: Annotated[
        str | None, Query(description="Comma-separated ids; other filters are then ignored.")
    ] = None,
    service_code: Annotated[str | None, Query(description="Comma-separated service codes.")] = None,
    status: Annotated[
        str | None, Query(description="open, closed (comma-separated; fine state codes also accepted).")
    ] = None,
    start_date: Annotated[str | None, Query(description="Reported at or after (ISO 8601).")] = None,
    end_date: Annotated[str | None, Query(description="Reported before (ISO 8601).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most rows returned.")] = DEFAULT_LIMIT,
    jurisdiction_id: Annotated[str | None, Query(description="Ignored: one city.")] = None,
) -> JSONResponse:
    query = request_query(service_request_id, service_code, status, start_date, end_date, limit)
    rows = service_requests(state.engine, state.city_code, query)
    return JSONResponse([request_out(r) for r in rows])


@router.get(
    f"{BASE}/requests/{{request_id}}.json",
    response_model=list[ServiceRequestOut],
    tags=["open311"],
    summary="One service request (an array of one)",
    responses=error_answers(404, 503),
    operation_id="get_request",
)
def get_request(state: Running, request_id: str) -> JSONResponse:
    row = service_request(state.engine, state.city_code, as_incident_id(request_id))
    return JSONResponse([request_out(row)])


@router.post(
    f"{BASE}/requests/{{request_id}}/transitions.json",
    response_model=list[ServiceRequestOut],
    tags=["lifecycle extension"],
    responses=error_answers(400, 404, 408, 409, 413, 415, 422, 503),
    summary="Take a lifecycle step: dispatch, handle, resolve, close, void, park, escalate, reopen",
    operation_id="transition",
    openapi_extra={"requestBody": json_or_form_body(TransitionIn), "parameters": [STEP_IDEMPOTENCY_PARAMETER]},
)
async def transition(request: Request, state: Running, request_id: str) -> Response:
    """Take one step. Retry only with the Idempotency-Key of the first try: the step is then taken once and
    every retry gets the first answer again, byte for byte (header Idempotent-Replayed: true), even after a
    crash, since the key is committed with the step. The same key with another step or request is a 422.
    Without a key a retried step that was applied is a 409 (the incident has moved on)."""
    incident_id = as_incident_id(request_id)
    key = idempotency_key(request)
    step = parse(TransitionIn, await body_fields(request))

    def take_step(conn: Connection) -> dict:
        return transition_incident(conn, incident_id, step.action, step.note, city_code=state.city_code, now=now_utc())

    if key is None:
        return JSONResponse([request_out(await state.write(take_step))])
    answer: StepAnswer = await state.write(
        lambda conn: keyed_step(conn, key, incident_id, step, take_step, now=now_utc())
    )
    replayed = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(answer.body, media_type="application/json", headers=replayed)


def _identity(state: IntakeState) -> dict[str, object]:
    """Which process answers, over which database: a start script checks it is its own."""
    return {"pid": os.getpid(), "database": database_identity(state.engine)}


# Liveness and readiness apart: a database outage must take the service out of a load balancer
# (/readyz 503) but not get it restarted (/healthz stays 200): it answers 503 itself and recovers.
@router.get("/healthz", tags=["service"], summary="Liveness (no database access), writes committed since start")
def health(state: Running) -> JSONResponse:
    return JSONResponse({"status": "ok", "batches": state.writer.batches, "writes": state.writer.jobs}
                        | _identity(state))


@router.get("/readyz", tags=["service"], summary="Readiness: the database answers (one catalogue look-up)")
def ready(state: Running) -> JSONResponse:
    check_reachable(state.engine)  # DatabaseUnavailable -> 503 in the Open311 error format
    return JSONResponse({"status": "ready"} | _identity(state))


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE)


@router.get("/", include_in_schema=False)
def index() -> JSONResponse:
    return JSONResponse(
        {"service": "CityOps Open311 intake", "base_url": BASE, "openapi": "/openapi.json", "docs": "/docs"}
    )
