"""Request bodies: JSON or a form read strictly, validated, and a report turned into an IncidentDraft."""

from __future__ import annotations

import json
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from errors import InvalidInput
from formats import CJK_START
from geo.locate import GridLocator
from intake.errors import Open311Error, validation_problems
from intake.schemas import FIELD_HINTS, ServiceRequestIn
from intake.spec import BASE
from queries.intake import IncidentDraft
from vocab import CATEGORY_CODES, PRIORITY_CODES, SOURCE_CODES

Model = TypeVar("Model", bound=BaseModel)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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


async def _form_fields(request: Request) -> dict:
    try:
        form = await request.form()
    except Exception as exc:  # the form parser's own error types
        raise Open311Error(
            400, [f"The form body cannot be read ({exc}): send fields as service_code=...&lat=...&long=..."]
        ) from exc
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _json_object(raw: bytes) -> dict:
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


async def body_fields(request: Request) -> dict:
    """The body as a dict of fields, from JSON or a form (urlencoded or multipart)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in FORM_TYPES:
        return await _form_fields(request)
    raw = await request.body()
    if kind == "application/json" or kind.endswith("+json") or (not kind and raw):
        return _json_object(raw)
    if not kind:
        raise Open311Error(400, ["The body is empty: send JSON (Content-Type: application/json) or a form."])
    raise Open311Error(
        415,
        [
            f"Content-Type {kind} is not accepted: send application/json or "
            "application/x-www-form-urlencoded (or multipart/form-data)."
        ],
    )


def parse(model: type[Model], data: dict) -> Model:
    """The fields validated as the model; every problem in one 400 answer."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Open311Error(400, validation_problems(exc.errors())) from exc


def idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header trimmed, if sent; 400 when empty or too long."""
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


def incident_draft(locator: GridLocator, body: ServiceRequestIn, key: str | None) -> IncidentDraft:
    """The incident to write for a report: codes checked, placed in its grid cell (422 outside the city)."""
    _check_codes(body)
    try:
        location = locator.locate(body.long, body.lat)
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
