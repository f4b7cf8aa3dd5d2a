"""Open311 GeoReport v2 intake service (FastAPI): services, requests, lifecycle steps."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from clock import local_zone, now_utc, to_local
from errors import CityOpsError, Conflict, DatabaseUnavailable, InvalidInput, NotFound, SpatialiteMissing
from formats import CJK_START
from geo.locate import GridLocator
from intake.limits import BodyLimit
from intake.schemas import (
    FIELD_HINTS,
    Error,
    RequestCreated,
    Service,
    ServiceRequestIn,
    ServiceRequestOut,
    TransitionIn,
)
from intake.writer import Writer
from queries.areas import area_geometries, scope_of
from queries.engine import check_reachable, make_engine
from queries.intake import (
    Created,
    IncidentDraft,
    RequestQuery,
    create_incident,
    service_request,
    service_requests,
    transition_incident,
)
from queries.upgrade import require_current
from settings import get_settings
from vocab import (
    CATEGORIES,
    CATEGORY_CODES,
    CATEGORY_GROUPS,
    OPEN_STATUSES,
    PRIORITY_CODES,
    SOURCE_CODES,
    STATUS_CODES,
    STATUSES,
    label,
)

log = logging.getLogger("intake")
BASE = "/open311/v2"
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class Open311Error(Exception):
    """An answer in the Open311 error format: a status and one entry per problem."""

    def __init__(self, status: int, problems: list[str], allowed: list[str] | None = None) -> None:
        super().__init__(problems[0] if problems else "")
        self.status, self.problems, self.allowed = status, problems, allowed


def _error_response(
    status: int, problems: list[str], allowed: list[str] | None = None, headers: dict | None = None
) -> JSONResponse:
    body = [{"code": status, "description": p} for p in problems]
    if allowed is not None:
        for entry in body:
            entry["allowed_actions"] = allowed
    return JSONResponse(body, status_code=status, headers=headers)


ERROR_TEXT = {
    400: "Malformed or missing parameters; the description says what to fix.",
    404: "No such service request.",
    409: "A lifecycle step out of order, or a reused key with different content.",
    413: "The body is larger than the service accepts.",
    415: "A body type other than JSON or a form.",
    422: "Coordinates outside the city.",
    503: "The database is unreachable; retry later with the same Idempotency-Key.",
}


def _errors(*codes: int) -> dict:
    """OpenAPI entries for the error answers an endpoint can give (always in the Open311 format)."""
    return {code: {"model": list[Error], "description": ERROR_TEXT[code]} for code in codes}


# ---------------------------------------------------------------- start-up and shutdown


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = get_settings()
    engine = make_engine(app.state.database_url or settings.database_url)
    try:
        check_reachable(engine)
        require_current(engine)
    except CityOpsError as exc:
        # Nothing is open yet. Exit with the one line that says what to do: a lifespan error would
        # reach the log as Starlette's full traceback.
        log.error("the intake service cannot start: %s", exc)
        os._exit(3)
    city = scope_of(engine, settings.city_code)
    grids = area_geometries(engine, settings.city_code, "grid")
    app.state.engine, app.state.city_code = engine, settings.city_code
    app.state.locator = GridLocator.from_frame(grids, f"{city.name} ({settings.city_code})")
    app.state.writer = Writer(engine).start()
    log.info("intake ready: %d grid cells of %s", len(grids), city.name)
    try:
        yield
    finally:
        app.state.writer.stop()


def create_app(database_url: str | None = None) -> FastAPI:
    """The intake application (database from settings.database_url unless given)."""
    settings = get_settings()
    app = FastAPI(
        title="CityOps Open311 intake 城运事件受理",
        version="2.0",
        description="Open311 GeoReport v2 for the city operations centre, with extensions for the "
        "command centre's lifecycle (reported > dispatched > handling > resolved > closed; voided, "
        "parked, escalated). Errors are arrays of {code, description}.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.database_url = database_url
    app.add_middleware(BodyLimit, max_bytes=settings.intake_max_body_bytes)
    _add_error_handlers(app)
    _add_routes(app)
    return app


# ---------------------------------------------------------------- errors


def _validation_problems(errors: list[dict]) -> list[str]:
    problems = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "header", "path")]
        field = ".".join(loc) or "body"
        hint = FIELD_HINTS.get(loc[0] if loc else "", "")
        message = " is required" if error.get("type") == "missing" else f": {error.get('msg', 'not valid')}"
        problems.append(f"{field}{message}" + (f"; {hint}" if hint else "") + ".")
    return problems or ["The request is not valid."]


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Open311Error)
    async def _open311(request: Request, exc: Open311Error):
        return _error_response(exc.status, exc.problems, exc.allowed)

    @app.exception_handler(InvalidInput)
    async def _invalid(request: Request, exc: InvalidInput):
        return _error_response(400, exc.problems)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound):
        return _error_response(404, [str(exc)])

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict):
        return _error_response(409, [str(exc)], exc.allowed)

    @app.exception_handler(DatabaseUnavailable)
    @app.exception_handler(SpatialiteMissing)
    async def _unavailable(request: Request, exc: CityOpsError):
        return _error_response(503, [str(exc)], headers={"Retry-After": "2"})

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError):
        log.warning("database error on %s %s: %s", request.method, request.url.path, exc.orig)
        return _error_response(
            503, ["The database cannot be reached just now: retry in a moment."], headers={"Retry-After": "2"}
        )

    @app.exception_handler(CityOpsError)
    async def _other(request: Request, exc: CityOpsError):
        return _error_response(400, [str(exc)])

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError):
        return _error_response(400, _validation_problems(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        problem = {
            404: f"There is nothing at {request.url.path}: the API is under {BASE}/ (see /openapi.json).",
            405: f"{request.method} is not allowed on {request.url.path}.",
        }.get(exc.status_code, str(exc.detail))
        return _error_response(exc.status_code, [problem], headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(500, ["Internal error; it has been logged. Retry with the same Idempotency-Key."])


# ---------------------------------------------------------------- request bodies


def _strict_json(raw: bytes) -> object:
    def no_constant(name: str):
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        return json.loads(raw, parse_constant=no_constant)
    except UnicodeDecodeError as exc:
        raise Open311Error(400, ["The body is not UTF-8 text: send UTF-8 encoded JSON."]) from exc
    except json.JSONDecodeError as exc:
        raise Open311Error(
            400,
            [
                f"The body is not valid JSON ({exc.msg} at line {exc.lineno} column "
                f'{exc.colno}): send an object such as {{"service_code": "greening", '
                f'"lat": 29.87, "long": 121.55}}.'
            ],
        ) from exc
    except ValueError as exc:
        raise Open311Error(400, [f"The body is not valid JSON: {exc}."]) from exc


async def _body_fields(request: Request) -> dict:
    """The body as a dict of fields, from JSON or a form (urlencoded or multipart)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.form()
        except Exception as exc:  # noqa: BLE001 - the form parser's own error types
            raise Open311Error(
                400, [f"The form body cannot be read ({exc}): send fields as service_code=...&lat=...&long=..."]
            ) from exc
        return {k: v for k, v in form.multi_items() if isinstance(v, str)}
    raw = await request.body()
    if kind == "application/json" or kind.endswith("+json") or (not kind and raw):
        if not raw.strip():
            raise Open311Error(400, ["The body is empty: send a JSON object with service_code, lat and long."])
        data = _strict_json(raw)
        if not isinstance(data, dict):
            raise Open311Error(
                400,
                [
                    f"The JSON body is a {type(data).__name__}: send one object "
                    "(curly braces) with service_code, lat and long."
                ],
            )
        return data
    if not kind:
        raise Open311Error(400, ["The body is empty: send JSON (Content-Type: application/json) or a form."])
    raise Open311Error(
        415,
        [
            f"Content-Type {kind} is not accepted: send application/json or "
            "application/x-www-form-urlencoded (or multipart/form-data)."
        ],
    )


def _parse(model, data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Open311Error(400, _validation_problems(exc.errors())) from exc


def _check_codes(body: ServiceRequestIn) -> None:
    problems = []
    if body.service_code not in CATEGORY_CODES:
        problems.append(
            f"service_code '{body.service_code}' is unknown: use one of {', '.join(CATEGORY_CODES)} "
            f"(GET {BASE}/services.json)."
        )
    if body.source not in SOURCE_CODES:
        problems.append(f"source '{body.source}' is unknown: {FIELD_HINTS['source']}.")
    if body.priority not in PRIORITY_CODES:
        problems.append(f"priority '{body.priority}' is unknown: {FIELD_HINTS['priority']}.")
    if problems:
        raise Open311Error(400, problems)


def _contact_name(body: ServiceRequestIn) -> str | None:
    parts = [p for p in (body.last_name, body.first_name) if p]
    if not parts:
        return None
    # Chinese names are written family name first with no space; others given name first.
    if all(ord(ch) >= CJK_START for p in parts for ch in p):
        return "".join(parts)
    return " ".join(p for p in (body.first_name, body.last_name) if p)


def _idempotency_key(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 128:
        raise Open311Error(
            400,
            [
                "Idempotency-Key must be 1 to 128 characters, e.g. a UUID; send the same "
                "key again only to retry the same request."
            ],
        )
    return value


def _draft(app: FastAPI, body: ServiceRequestIn, key: str | None) -> IncidentDraft:
    _check_codes(body)
    try:
        location = app.state.locator.locate(body.long, body.lat)
    except InvalidInput as exc:
        raise Open311Error(422, exc.problems) from exc
    return IncidentDraft(
        category=body.service_code,
        source=body.source,
        priority=body.priority,
        lon=body.long,
        lat=body.lat,
        **location.__dict__,
        description=body.description or None,
        address=body.address_string or None,
        external_id=body.external_id,
        idempotency_key=key,
        contact_name=_contact_name(body),
        contact_phone=body.phone or None,
        contact_email=body.email or None,
    )


# ---------------------------------------------------------------- answers


def _stamp(moment: datetime) -> str:
    return to_local(moment).isoformat(timespec="seconds")


def _request_out(row: dict) -> dict:
    state = row["status"]
    notes = f"{label(STATUSES, state)} ({state})" + (f": {row['note']}" if row.get("note") else "")
    return {
        "service_request_id": str(row["id"]),
        "status": "open" if state in OPEN_STATUSES else "closed",
        "status_notes": notes,
        "service_name": label(CATEGORIES, row["category"]),
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": _stamp(row["reported_at"]),
        "updated_datetime": _stamp(row["updated_at"]),
        "expected_datetime": _stamp(row["due_at"]),
        "address": row["address"],
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": None,
        "external_id": row["external_id"],
        "state": state,
        "source": row["source"],
        "priority": row["priority"],
        "grid_code": row["grid_code"],
        "community_code": row["community_code"],
        "street_code": row["street_code"],
        "district_code": row["district_code"],
    }


def _created_out(result: Created) -> list[dict]:
    row = result.row
    if result.created:
        notice = f"已受理 received: grid {row['grid_code']}, due {_stamp(row['due_at'])}"
    else:
        notice = "重复提交 repeat of an earlier request (same external_id / Idempotency-Key): nothing new was created"
    return [{"service_request_id": str(row["id"]), "service_notice": notice, "account_id": None}]


SERVICES = [
    {
        "service_code": t.code,
        "service_name": t.zh,
        "description": f"{t.zh} {t.en}",
        "metadata": False,
        "type": "realtime",
        "keywords": f"{t.zh},{t.en.lower()},{t.code}",
        "group": next(g for g, codes in CATEGORY_GROUPS.items() if t.code in codes),
    }
    for t in CATEGORIES
]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _date(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 time as naive UTC; a time without offset is the city's local time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(
            400, [f"{name} '{value}' is not an ISO 8601 time: use e.g. 2025-06-01T08:00:00+08:00 or 2025-06-01."]
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local_zone())
    return moment.astimezone(UTC).replace(tzinfo=None)


def _request_query(ids, codes, statuses, start_date, end_date, limit) -> RequestQuery:
    problems = []
    id_list = _split(ids)
    bad_ids = [i for i in id_list if not _is_id(i)]
    if bad_ids:
        problems.append(
            f"service_request_id {', '.join(bad_ids)} is not a request id: use numbers, comma-separated, e.g. 12,15."
        )
    if id_list and not bad_ids:  # Open311: with ids, every other filter is ignored
        return RequestQuery(ids=tuple(int(i) for i in id_list), limit=MAX_LIMIT)
    categories = _split(codes)
    problems += [
        f"service_code '{c}' is unknown: use one of {', '.join(CATEGORY_CODES)}."
        for c in categories
        if c not in CATEGORY_CODES
    ]
    states = _split(statuses)
    problems += [
        f"status '{s}' is unknown: use open or closed (or a fine state: {', '.join(STATUS_CODES)})."
        for s in states
        if s not in ("open", "closed", *STATUS_CODES)
    ]
    try:
        start, end = _date("start_date", start_date), _date("end_date", end_date)
    except Open311Error as exc:
        problems += exc.problems
        start = end = None
    if start and end and end <= start:
        problems.append("end_date is not after start_date: pick an end after the start.")
    if problems:
        raise Open311Error(400, problems)
    return RequestQuery(categories=categories, statuses=states, start=start, end=end, limit=limit)


async def _write(request: Request, job):
    try:
        return await asyncio.wrap_future(request.app.state.writer.submit(job))
    except RuntimeError as exc:  # the writer is stopping (shutdown)
        raise DatabaseUnavailable("The service is shutting down: retry in a moment.") from exc


def _body_schema(model) -> dict:
    schema = model.model_json_schema()
    return {
        "required": True,
        "content": {kind: {"schema": schema} for kind in ("application/json", "application/x-www-form-urlencoded")},
    }


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
    "description": "Retry a POST with the same key: the earlier request is returned, nothing new is created.",
}


# What a client (or a spec-driven tester) can do next with the id a POST returned.
CREATED_LINKS = {
    "GetRequest": {"operationId": "get_request", "parameters": {"request_id": "$response.body#/0/service_request_id"}},
    "TakeStep": {"operationId": "transition", "parameters": {"request_id": "$response.body#/0/service_request_id"}},
}


# ---------------------------------------------------------------- routes


def _add_routes(app: FastAPI) -> None:  # noqa: C901 - one place listing the endpoints
    @app.get(
        f"{BASE}/services.json",
        response_model=list[Service],
        tags=["open311"],
        summary="The incident categories as Open311 services",
    )
    def services() -> JSONResponse:
        return JSONResponse(SERVICES)

    @app.post(
        f"{BASE}/requests.json",
        response_model=list[RequestCreated],
        status_code=201,
        tags=["open311"],
        summary="Report an incident (JSON or form)",
        responses={
            200: {"model": list[RequestCreated], "description": "A repeat: the earlier request."},
            **_errors(400, 409, 413, 415, 422, 503),
        },
        openapi_extra={
            "requestBody": _body_schema(ServiceRequestIn),
            "parameters": [IDEMPOTENCY_PARAMETER],
            "responses": {"201": {"links": CREATED_LINKS}},
        },
    )
    async def create_request(request: Request) -> JSONResponse:
        key = _idempotency_key(request.headers.get("idempotency-key"))
        body = _parse(ServiceRequestIn, await _body_fields(request))
        draft = _draft(request.app, body, key)
        city = request.app.state.city_code
        result: Created = await _write(
            request, lambda conn: create_incident(conn, draft, city_code=city, now=now_utc())
        )
        return JSONResponse(_created_out(result), status_code=201 if result.created else 200)

    @app.get(
        f"{BASE}/requests.json",
        response_model=list[ServiceRequestOut],
        tags=["open311"],
        summary="Search service requests (newest first)",
        responses=_errors(400, 503),
    )
    def list_requests(
        request: Request,
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
        query = _request_query(service_request_id, service_code, status, start_date, end_date, limit)
        rows = service_requests(request.app.state.engine, request.app.state.city_code, query)
        return JSONResponse([_request_out(r) for r in rows])

    @app.get(
        f"{BASE}/requests/{{request_id}}.json",
        response_model=list[ServiceRequestOut],
        tags=["open311"],
        summary="One service request (an array of one)",
        responses=_errors(404, 503),
        operation_id="get_request",
    )
    def get_request(request: Request, request_id: str) -> JSONResponse:
        row = service_request(request.app.state.engine, request.app.state.city_code, _request_id(request_id))
        return JSONResponse([_request_out(row)])

    @app.post(
        f"{BASE}/requests/{{request_id}}/transitions.json",
        response_model=list[ServiceRequestOut],
        tags=["lifecycle extension"],
        responses=_errors(400, 404, 409, 413, 415, 503),
        summary="Take a lifecycle step: dispatch, handle, resolve, close, void, park, escalate, reopen",
        operation_id="transition",
        openapi_extra={"requestBody": _body_schema(TransitionIn)},
    )
    async def transition(request: Request, request_id: str) -> JSONResponse:
        incident_id = _request_id(request_id)
        step = _parse(TransitionIn, await _body_fields(request))
        city = request.app.state.city_code
        row = await _write(
            request,
            lambda conn: transition_incident(conn, incident_id, step.action, step.note, city_code=city, now=now_utc()),
        )
        return JSONResponse([_request_out(row)])

    @app.get("/healthz", tags=["service"], summary="Liveness, and the writes committed since start")
    def health(request: Request) -> JSONResponse:
        writer = request.app.state.writer
        return JSONResponse({"status": "ok", "batches": writer.batches, "writes": writer.jobs})

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    @app.get("/", include_in_schema=False)
    def index() -> JSONResponse:
        return JSONResponse(
            {"service": "CityOps Open311 intake", "base_url": BASE, "openapi": "/openapi.json", "docs": "/docs"}
        )


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 18


def _request_id(value: str) -> int:
    if not _is_id(value):
        raise Open311Error(
            404, [f"There is no service request '{value}': ids are numbers, as returned in service_request_id."]
        )
    return int(value)


# A self-contained API page (no CDN): the spec rendered by a few lines of inline script.
DOCS_PAGE = (Path(__file__).parent / "docs.html").read_text(encoding="utf-8")

app = create_app()
