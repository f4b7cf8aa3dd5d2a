"""Where the Open311 API lives, and the OpenAPI pieces its routes declare (error answers, bodies, links)."""

from __future__ import annotations

from pydantic import BaseModel

from intake.schemas import Error

BASE = "/open311/v2"

ERROR_TEXT = {
    400: "Malformed or missing parameters; the description says what to fix.",
    404: "No such service request.",
    409: "A lifecycle step out of order (allowed_actions lists the next ones).",
    413: "The body is larger than the service accepts.",
    415: "A body type other than JSON or a form.",
    422: "Coordinates outside the city, or an Idempotency-Key / external_id already used for another request.",
    408: "The body did not arrive in time.",
    414: "The URL is longer than the service accepts.",
    503: "The database is unreachable or the service is overloaded (Retry-After); retry later with the same "
    "Idempotency-Key.",
}


def error_answers(*codes: int) -> dict:
    """OpenAPI entries for the error answers an endpoint can give (always in the Open311 format)."""
    return {code: {"model": list[Error], "description": ERROR_TEXT[code]} for code in codes}


def json_or_form_body(model: type[BaseModel]) -> dict:
    """The OpenAPI request body of a route that reads its body itself, as JSON or as a form."""
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


STEP_IDEMPOTENCY_PARAMETER = {
    **IDEMPOTENCY_PARAMETER,
    "description": "Retry a step with the same key: it is taken once, and every retry gets the first answer again "
    "(Idempotent-Replayed: true); the same key with another step or request is a 422.",
}


# What a client (or a spec-driven tester) can do next with the id a POST returned.
CREATED_LINKS = {
    "GetRequest": {"operationId": "get_request", "parameters": {"request_id": "$response.body#/0/service_request_id"}},
    "TakeStep": {"operationId": "transition", "parameters": {"request_id": "$response.body#/0/service_request_id"}},
}
