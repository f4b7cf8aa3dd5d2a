"""Lifecycle steps sent with an Idempotency-Key: the first answer is kept with the key, and a retry gets it again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from errors import Conflict, KeyReused
from intake.answers import request_out
from intake.schemas import TransitionIn
from queries.intake import KeptAnswer, keep_step_answer, kept_step_answer

StepJob = Callable[[sa.Connection], dict[str, Any]]


@dataclass(frozen=True)
class StepAnswer:
    """A step's answer body (JSON text, byte for byte what the first answer was) and whether it is a retry's."""

    body: str
    replayed: bool


def step_fingerprint(incident_id: int, step: TransitionIn) -> str:
    """What makes two step requests the same: the incident and the validated fields (JSON or form alike)."""
    request = {"service_request_id": incident_id, **step.model_dump()}
    return hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def answer_body(content: object) -> str:
    """JSON text as FastAPI's JSONResponse renders it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _replay(kept: KeptAnswer, fingerprint: str, step: TransitionIn) -> StepAnswer:
    if kept.fingerprint != fingerprint:
        raise KeyReused(
            f"This Idempotency-Key was already used for a step of request {kept.incident_id} (which left it "
            f"{_state_after(kept)}); this {step.action} is another request: use a new key for it, or repeat "
            "the first request unchanged."
        )
    return StepAnswer(kept.answer, replayed=True)


def _state_after(kept: KeptAnswer) -> str:
    return str(json.loads(kept.answer)[0]["state"])


def keyed_step(
    conn: sa.Connection, key: str, incident_id: int, step: TransitionIn, take_step: StepJob, *, now: datetime
) -> StepAnswer:
    """Take a step once per key: a retry (same key, same request) is answered with the kept answer and writes
    nothing; the same key with another request is KeyReused, raised before anything is written.

    A step refused as out of order looks for its key again first: it may be this very step, taken by
    another writer process while this one waited for the incident's row (PostgreSQL), and then the
    answer is that step's, not a 409."""
    fingerprint = step_fingerprint(incident_id, step)
    kept = kept_step_answer(conn, key)
    if kept is not None:
        return _replay(kept, fingerprint, step)
    try:
        row = take_step(conn)
    except Conflict:
        kept = kept_step_answer(conn, key)
        if kept is None:
            raise
        return _replay(kept, fingerprint, step)
    body = answer_body([request_out(row)])
    keep_step_answer(conn, key, KeptAnswer(incident_id, fingerprint, body), now=now)
    return StepAnswer(body, replayed=False)
