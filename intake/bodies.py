"""Request bodies: JSON or a form read strictly, validated, and a report turned into an IncidentDraft."""

from __future__ import annotations

import json
from email.message import Message
from typing import TypeVar
from urllib.parse import unquote_to_bytes

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.formparsers import MultiPartParser

from errors import InvalidInput
from formats import CJK_START
from geo.crs import crs_code, point_to_wgs84
from geo.locate import GridLocator
from intake.errors import Open311Error, validation_problems
from intake.schemas import FIELD_HINTS, INTAKE_CRS, ServiceRequestIn
from intake.spec import BASE
from queries.intake import IncidentDraft
from vocab import CATEGORY_CODES, PRIORITY_CODES, SOURCE_CODES

Model = TypeVar("Model", bound=BaseModel)
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# Declared charsets a body is decoded with: UTF-8, and the GB family Chinese systems send (GB18030
# holds GBK, which holds GB2312, byte for byte). Anything else is refused, never guessed.
CODECS = {
    **dict.fromkeys(("utf-8", "utf8", "us-ascii", "ascii"), "utf-8"),
    **dict.fromkeys(("gbk", "gb2312", "gb18030", "cp936", "x-gbk", "euc-cn"), "gb18030"),
}
CHARSET_HINT = "send UTF-8, or declare the charset, e.g. Content-Type: application/x-www-form-urlencoded; charset=gbk"


def single_header(request: Request, name: str) -> str | None:
    """The one value of a header; 400 when it is sent more than once (which one counts would be a guess)."""
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise Open311Error(400, [f"The {name} header is sent {len(values)} times: send it once."])
    return values[0] if values else None


def _media_type(request: Request) -> tuple[str, str | None]:
    """The body's media type (lower case, '' when none) and the codec of its declared charset (None: none declared)."""
    header = single_header(request, "Content-Type") or ""
    kind = header.split(";")[0].strip().lower()
    parsed = Message()
    parsed["content-type"] = header
    charset = parsed.get_content_charset() if header else None
    if charset is None:
        return kind, None
    if charset not in CODECS:
        raise Open311Error(415, [f"The charset '{charset[:40]}' is not accepted: {CHARSET_HINT}."])
    return kind, CODECS[charset]


def _not_text(what: str, codec: str, exc: UnicodeDecodeError) -> Open311Error:
    sample = exc.object[exc.start : exc.start + 4]
    return Open311Error(
        400, [f"The {what} is not {codec.upper()} text (it holds the bytes {sample.hex(' ')}): {CHARSET_HINT}."]
    )


def _strict_json(raw: bytes, codec: str | None) -> object:
    def no_constant(name: str):
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        return json.loads(raw.decode(codec) if codec else raw, parse_constant=no_constant)
    except UnicodeDecodeError as exc:
        raise _not_text("JSON body", codec or "utf-8", exc) from exc
    except RecursionError as exc:
        raise Open311Error(
            400, ["The JSON body is nested too deeply: send one flat object with service_code, lat and long."]
        ) from exc
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


def _form_text(part: bytes, codec: str) -> str:
    return unquote_to_bytes(part.replace(b"+", b" ")).decode(codec)


def _urlencoded_fields(raw: bytes, codec: str) -> dict:
    """name=value pairs, each percent-decoded to bytes and then decoded strictly (Starlette's parser
    decodes as UTF-8 with replacement characters: GBK text would be stored as U+FFFD)."""
    fields = {}
    try:
        for pair in raw.split(b"&"):
            if pair:
                name, _, value = pair.partition(b"=")
                fields[_form_text(name, codec)] = _form_text(value, codec)
    except UnicodeDecodeError as exc:
        raise _not_text("form body", codec, exc) from exc
    return fields


class _StrictMultiPart(MultiPartParser):
    """Starlette's multipart parser, except that text parts are decoded strictly with our codec (Starlette
    falls back to Latin-1, which would store GBK text garbled)."""

    def __init__(self, request: Request, codec: str) -> None:
        super().__init__(request.headers, request.stream())
        self.codec = codec

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:  # UnicodeDecodeError: not in the declared charset
            self.items.append((part.field_name, part.data.decode(self.codec)))
        else:
            super().on_part_end()


async def _multipart_fields(request: Request, codec: str) -> dict:
    try:
        form = await _StrictMultiPart(request, codec).parse()
    except UnicodeDecodeError as exc:
        raise _not_text("form body", codec, exc) from exc
    except Exception as exc:  # the form parser's own error types
        raise Open311Error(
            400, [f"The form body cannot be read ({exc}): send fields as service_code=...&lat=...&long=..."]
        ) from exc
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _json_object(raw: bytes, codec: str | None) -> dict:
    if not raw.strip():
        raise Open311Error(400, ["The body is empty: send a JSON object with service_code, lat and long."])
    data = _strict_json(raw, codec)
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
    kind, codec = _media_type(request)
    if kind == MULTIPART:
        return await _multipart_fields(request, codec or "utf-8")
    raw = await request.body()
    if kind == URLENCODED:
        return _urlencoded_fields(raw, codec or "utf-8")
    if kind == "application/json" or kind.endswith("+json") or (not kind and raw):
        return _json_object(raw, codec)
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


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header trimmed, if sent; 400 when empty, too long or sent twice."""
    value = single_header(request, "Idempotency-Key")
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
    try:
        crs_code(body.crs)
    except ValueError:
        problems.append(f"crs '{body.crs}' is unknown: use one of {', '.join(INTAKE_CRS)} (default wgs84).")
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
    """The incident to write for a report: codes checked, coordinates in WGS84, placed in its grid cell (422
    outside the city)."""
    _check_codes(body)
    lon, lat = point_to_wgs84(body.long, body.lat, body.crs)
    try:
        location = locator.locate(lon, lat)
    except InvalidInput as exc:
        raise Open311Error(422, exc.problems) from exc
    return IncidentDraft(
        category=body.service_code,
        source=body.source,
        priority=body.priority,
        lon=lon,
        lat=lat,
        **location.__dict__,
        description=body.description or None,
        address=body.address_string or None,
        external_id=body.external_id,
        idempotency_key=key,
        contact_name=_contact_name(body),
        contact_phone=body.phone or None,
        contact_email=body.email or None,
    )
