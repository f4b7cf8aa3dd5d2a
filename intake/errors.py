"""Open311 error answers: one table from exception type to status and descriptions, registered in a loop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from errors import (
    CityOpsError,
    Conflict,
    DatabaseUnavailable,
    InvalidInput,
    KeyReused,
    NotFound,
    Overloaded,
    SpatialiteMissing,
)
from intake.schemas import FIELD_HINTS
from intake.spec import BASE

log = logging.getLogger("intake")

# Unreachable databases are usually back within seconds (a restart, a lock): tell clients when to retry.
RETRY_SOON = {"Retry-After": "2"}


class Open311Error(HTTPException):
    """An answer in the Open311 error format: a status and one entry per problem."""

    def __init__(self, status: int, problems: list[str], allowed: list[str] | None = None) -> None:
        super().__init__(status, problems[0] if problems else "")
        self.problems, self.allowed = problems, allowed


def validation_problems(errors: Sequence[Mapping[str, Any]]) -> list[str]:
    """One sentence per pydantic error: the field, what is wrong, and how to send it right."""
    problems = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "header", "path")]
        field = ".".join(loc) or "body"
        hint = FIELD_HINTS.get(loc[0] if loc else "", "")
        message = " is required" if error.get("type") == "missing" else f": {error.get('msg', 'not valid')}"
        problems.append(f"{field}{message}" + (f"; {hint}" if hint else "") + ".")
    return problems or ["The request is not valid."]


def _message(request: Request, exc: Any) -> list[str]:
    return [str(exc)]


def _problems(request: Request, exc: Any) -> list[str]:
    return exc.problems


def _invalid_fields(request: Request, exc: RequestValidationError) -> list[str]:
    return validation_problems(exc.errors())


def _routing_problem(request: Request, exc: HTTPException) -> list[str]:
    problem = {
        404: f"There is nothing at {request.url.path}: the API is under {BASE}/ (see /openapi.json).",
        405: f"{request.method} is not allowed on {request.url.path}.",
    }.get(exc.status_code, str(exc.detail))
    return [problem]


def _database_down(request: Request, exc: OperationalError) -> list[str]:
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc.orig)
    return ["The database cannot be reached just now: retry in a moment."]


def _unexpected(request: Request, exc: Exception) -> list[str]:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return ["Internal error; it has been logged. Retry with the same Idempotency-Key."]


@dataclass(frozen=True)
class Answer:
    """How one exception type is answered: its HTTP status, its descriptions and what goes with them."""

    status: int | None  # None: the exception's own status_code and headers (an HTTPException)
    describe: Callable[[Request, Any], list[str]]  # one Open311 description per problem (may log)
    headers: Mapping[str, str] | None = None
    allowed: bool = False  # every entry lists the exception's allowed actions (the next valid steps)


# Starlette picks the entry of the nearest class in the exception's MRO, so the order here does not matter.
ANSWERS: dict[type[Exception], Answer] = {
    Open311Error: Answer(None, _problems, allowed=True),
    HTTPException: Answer(None, _routing_problem),
    RequestValidationError: Answer(400, _invalid_fields),
    InvalidInput: Answer(400, _problems),
    NotFound: Answer(404, _message),
    Conflict: Answer(409, _message, allowed=True),
    KeyReused: Answer(422, _message),  # as the IETF Idempotency-Key draft says; 409 is a step out of order here
    DatabaseUnavailable: Answer(503, _message, RETRY_SOON),
    Overloaded: Answer(503, _message, RETRY_SOON),
    SpatialiteMissing: Answer(503, _message, RETRY_SOON),
    OperationalError: Answer(503, _database_down, RETRY_SOON),
    CityOpsError: Answer(400, _message),
    Exception: Answer(500, _unexpected),
}


def open311_error(
    status: int, problems: list[str], allowed: list[str] | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The Open311 error body: one {code, description} per problem, with the allowed actions if any."""
    body = [{"code": status, "description": p} for p in problems]
    if allowed is not None:
        for entry in body:
            entry["allowed_actions"] = allowed
    return JSONResponse(body, status_code=status, headers=headers)


async def _answer(answer: Answer, request: Request, exc: Exception) -> JSONResponse:
    problems = answer.describe(request, exc)
    # The table asks for allowed actions only of the exceptions that carry them, and leaves the status
    # to the exception only for HTTPExceptions: the isinstance checks restate that for the type checker.
    allowed = exc.allowed if answer.allowed and isinstance(exc, Open311Error | Conflict) else None
    if answer.status is None and isinstance(exc, HTTPException):
        return open311_error(exc.status_code, problems, allowed, exc.headers)
    return open311_error(answer.status or 500, problems, allowed, answer.headers)


def add_error_handlers(app: FastAPI) -> None:
    """Answer every exception of the table in the Open311 error format."""
    for kind, answer in ANSWERS.items():
        app.add_exception_handler(kind, partial(_answer, answer))
