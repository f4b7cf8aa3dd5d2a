"""Incident writes of the intake service (create, lifecycle steps) and its Open311 reads."""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clock import epoch_hour
from errors import Conflict, KeyReused, NotFound
from queries.dialects import for_connection
from queries.frames import frame
from queries.rollups import ROLLUP_TABLES, Row, close_bins, count_close, count_status, rebuild
from queries.schema import (
    incident,
    incident_contact,
    incident_step,
    intake_key,
)
from queries.scope import inside, resolve
from vocab import CLOSED_STATUSES, DUE_HOURS, OPEN_STATUSES, STATUS_TIME_COLUMN, TRANSITIONS

# Columns of an incident as the Open311 reads return it (no reporter contact: that stays apart).
REQUEST_COLUMNS = (
    "id",
    "external_id",
    "source",
    "category",
    "priority",
    "status",
    "description",
    "address",
    "lon",
    "lat",
    "grid_code",
    "community_code",
    "street_code",
    "district_code",
    "report_hour",
    "reported_at",
    "updated_at",
    "due_at",
)
# Fields whose difference makes a repeated external id / Idempotency-Key a conflict, not a retry.
SAME_REQUEST_FIELDS = ("category", "source", "priority", "description", "address")
# A report sent with neither Idempotency-Key nor external_id is known again by its content (content_key)
# for this long after it was first stored: a client that timed out and sends it again within the window
# gets the first incident back. Longer would merge genuine new reports of a recurring problem.
CONTENT_KEY_WINDOW = timedelta(minutes=10)
# Coordinates in the content key are rounded to about a metre: a retry that writes the same point with
# other float digits (a form's text, a JSON number) is the same report.
CONTENT_KEY_DECIMALS = 5


@dataclass(frozen=True)
class IncidentDraft:
    """A validated, located new incident: plain values, ready to write."""

    category: str
    source: str
    priority: str
    lon: float
    lat: float
    grid_code: str
    community_code: str
    street_code: str
    district_code: str
    description: str | None = None
    address: str | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class Created:
    """The incident a create returned and whether this call created it (False: a repeat)."""

    row: dict[str, Any]
    created: bool


def _columns() -> list[sa.Column[Any]]:
    return [incident.c[name] for name in REQUEST_COLUMNS]


def _existing(conn: sa.Connection, draft: IncidentDraft) -> list[dict[str, Any]]:
    keys = []
    if draft.external_id:
        keys.append(incident.c.external_id == draft.external_id)
    if draft.idempotency_key:
        keys.append(incident.c.idempotency_key == draft.idempotency_key)
    if not keys:
        return []
    statement = sa.select(*_columns()).where(sa.or_(*keys))
    return [dict(r) for r in conn.execute(statement).mappings()]


def _check_same(draft: IncidentDraft, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The one earlier incident a repeat refers to; KeyReused when the repeat asks for something else."""
    ids = sorted({r["id"] for r in rows})
    if len(ids) > 1:
        raise KeyReused(
            f"external_id '{draft.external_id}' and Idempotency-Key '{draft.idempotency_key}' "
            f"name two different requests ({', '.join(map(str, ids))}): send one of them, "
            "or new values for a new request."
        )
    row = rows[0]
    differs = [f for f in SAME_REQUEST_FIELDS if (getattr(draft, f) or None) != (row[f] or None)]
    if not (math.isclose(draft.lon, row["lon"], abs_tol=1e-9) and math.isclose(draft.lat, row["lat"], abs_tol=1e-9)):
        differs.append("lat/long")
    if draft.external_id and draft.external_id != row["external_id"]:
        differs.append("external_id")
    if differs:
        raise KeyReused(
            f"This external_id / Idempotency-Key was already used for request {row['id']} "
            f"with a different {', '.join(differs)}: use a new key for a new request, "
            "or repeat the original request unchanged."
        )
    return row


_INSERTS: dict[str, sa.Insert] = {}


def _insert_new(conn: sa.Connection) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id (no row back when a unique key exists); built once."""
    if conn.dialect.name not in _INSERTS:
        statement = for_connection(conn).insert(incident).on_conflict_do_nothing()
        _INSERTS[conn.dialect.name] = statement.returning(incident.c.id)
    return _INSERTS[conn.dialect.name]


def content_key(draft: IncidentDraft) -> str:
    """The key of a report by what it says: source, category, priority, place (rounded), text and reporter."""
    rounded = [round(draft.lon, CONTENT_KEY_DECIMALS), round(draft.lat, CONTENT_KEY_DECIMALS)]
    fields = [draft.source, draft.category, draft.priority, *rounded, draft.description, draft.address,
              draft.contact_name, draft.contact_phone, draft.contact_email]
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()
    return f"content:{digest}"


def _claim_content_key(conn: sa.Connection, key: str, now: datetime) -> int | None:
    """None when this create may go ahead (the key was free, or older than the window, and is now ours);
    else the id of the incident the same report created within the window.

    One statement, so two writer processes sending the same report at once cannot both go ahead: the
    second's insert waits for the first's transaction and then finds the key taken."""
    claim = (
        for_connection(conn)
        .insert(intake_key)
        .values(key=key, at=now)
        .on_conflict_do_update(
            index_elements=[intake_key.c.key],
            set_={"at": now, "incident_id": None},
            where=intake_key.c.at <= now - CONTENT_KEY_WINDOW,
        )
        .returning(intake_key.c.key)
    )
    if conn.execute(claim).first() is not None:
        return None
    return int(conn.execute(sa.select(intake_key.c.incident_id).where(intake_key.c.key == key)).scalar_one())


def create_incident(conn: sa.Connection, draft: IncidentDraft, *, city_code: str, now: datetime) -> Created:
    """Insert a reported incident with its contact and roll-up counts, or return the earlier one.

    A repeat (same external_id or Idempotency-Key, same content) creates nothing, also when it
    races another writer process: the insert skips rows whose keys exist and the earlier row is
    read back. A report with neither key is a repeat when the same content (content_key) was
    stored within CONTENT_KEY_WINDOW. KeyReused is raised before anything is written (the
    writer relies on it).
    """
    if draft.external_id or draft.idempotency_key:
        return _insert_incident(conn, draft, city_code, now)
    key = content_key(draft)
    earlier = _claim_content_key(conn, key, now)
    if earlier is not None:
        return Created(_request_row(conn, earlier), created=False)
    created = _insert_incident(conn, draft, city_code, now)
    conn.execute(intake_key.update().where(intake_key.c.key == key).values(incident_id=created.row["id"]))
    return created


def _request_row(conn: sa.Connection, incident_id: int) -> dict[str, Any]:
    return dict(conn.execute(sa.select(*_columns()).where(incident.c.id == incident_id)).mappings().one())


def _insert_incident(conn: sa.Connection, draft: IncidentDraft, city_code: str, now: datetime) -> Created:
    values = {
        "external_id": draft.external_id or f"O311-{uuid.uuid4().hex}",
        "idempotency_key": draft.idempotency_key,
        "source": draft.source,
        "category": draft.category,
        "priority": draft.priority,
        "status": "reported",
        "description": draft.description,
        "address": draft.address,
        "lon": draft.lon,
        "lat": draft.lat,
        "grid_code": draft.grid_code,
        "community_code": draft.community_code,
        "street_code": draft.street_code,
        "district_code": draft.district_code,
        "report_hour": epoch_hour(now),
        "reported_at": now,
        "due_at": now + timedelta(hours=DUE_HOURS[draft.priority]),
        "updated_at": now,
        "synthetic": False,
    }
    new_id = conn.execute(_insert_new(conn), values).scalar()
    if new_id is None:  # a key is taken: this is a repeat
        return Created(_check_same(draft, _existing(conn, draft)), created=False)
    if draft.contact_name or draft.contact_phone or draft.contact_email:
        conn.execute(
            incident_contact.insert(),
            {
                "incident_id": new_id,
                "name": draft.contact_name,
                "phone": draft.contact_phone,
                "email": draft.contact_email,
            },
        )
    row = {"id": new_id, **values}
    count_status(conn, row, "reported", 1, city_code)
    return Created({k: row[k] for k in REQUEST_COLUMNS}, created=True)


@dataclass(frozen=True)
class KeptAnswer:
    """The answer a lifecycle step sent with an Idempotency-Key got, kept to answer its retries the same."""

    incident_id: int
    fingerprint: str  # of the request it was sent with
    answer: str  # the body, as sent


def _step_key(client_key: str) -> str:
    return f"step:{client_key}"


def kept_step_answer(conn: sa.Connection, client_key: str) -> KeptAnswer | None:
    """The kept answer of the step first sent with this Idempotency-Key, or None."""
    row = conn.execute(
        sa.select(intake_key.c.incident_id, intake_key.c.fingerprint, intake_key.c.answer).where(
            intake_key.c.key == _step_key(client_key)
        )
    ).first()
    return None if row is None else KeptAnswer(int(row.incident_id), str(row.fingerprint), str(row.answer))


def keep_step_answer(
    conn: sa.Connection, client_key: str, answer: KeptAnswer, *, now: datetime
) -> None:
    """Keep a step's answer with its key, in the step's transaction (a crash leaves both or neither).

    A key taken meanwhile by another process is an IntegrityError: the writer runs the job again, and
    its look-up then finds that step."""
    conn.execute(
        intake_key.insert(),
        {"key": _step_key(client_key), "incident_id": answer.incident_id, "fingerprint": answer.fingerprint,
         "answer": answer.answer, "at": now},
    )


def allowed_actions(status: str) -> list[str]:
    """The lifecycle actions allowed from a state (vocab.TRANSITIONS)."""
    return list(TRANSITIONS.get(status, {}))


def _close_values(row: Row, now: datetime) -> dict[str, Any]:
    minutes = max(0, round((now - row["reported_at"]).total_seconds() / 60))
    return {"close_minutes": minutes, "close_bin": int(close_bins([minutes])[0]), "on_time": now <= row["due_at"]}


def transition_incident(
    conn: sa.Connection, incident_id: int, action: str, note: str | None, *, city_code: str, now: datetime
) -> dict[str, Any]:
    """Take one lifecycle step, moving the roll-up counts with it; NotFound / Conflict write nothing."""
    row = conn.execute(sa.select(*_columns()).where(incident.c.id == incident_id)).mappings().first()
    if row is None:
        raise NotFound(f"There is no service request {incident_id}: check the service_request_id.")
    old = row["status"]
    allowed = TRANSITIONS.get(old, {})
    if action not in allowed:
        raise Conflict(_out_of_order(incident_id, action, old), allowed_actions(old))
    new = allowed[action]
    values = {"status": new, STATUS_TIME_COLUMN[new]: now, "updated_at": now}
    if new == "closed":
        values.update(_close_values(row, now))
    # Conditional on the state we read, so a concurrent step by another writer cannot be lost.
    changed = conn.execute(
        incident.update().where(incident.c.id == incident_id, incident.c.status == old).values(**values)
    ).rowcount
    if changed != 1:
        raise Conflict(f"Service request {incident_id} changed while this step was taken: read it again and retry.", [])
    count_status(conn, row, old, -1, city_code)
    count_status(conn, row, new, 1, city_code)
    if new == "closed":
        count_close(conn, {**row, **values}, 1, city_code)
    conn.execute(
        incident_step.insert(),
        {"incident_id": incident_id, "at": now, "action": action, "from_status": old, "to_status": new, "note": note},
    )
    return {**{k: row[k] for k in REQUEST_COLUMNS}, "status": new, "updated_at": now, "note": note}


def _out_of_order(incident_id: int, action: str, status: str) -> str:
    allowed = allowed_actions(status)
    if not allowed:
        return (
            f"Service request {incident_id} is {status}, a final state: no action can follow. "
            "Report a new request if the problem is back."
        )
    return f"Cannot {action} service request {incident_id}: it is {status}. Allowed next actions: {', '.join(allowed)}."


@dataclass(frozen=True)
class RequestQuery:
    """Filters of the Open311 request list; empty means no filter on that field."""

    ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 100


def _state_codes(statuses: Sequence[str]) -> list[str]:
    """Open311 open/closed widened to the fine states; fine state codes pass through."""
    wide = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
    return sorted({s for status in statuses for s in wide.get(status, (status,))})


def _with_notes(conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    notes: dict[int, str | None] = {}
    if ids:
        statement = (
            sa.select(incident_step.c.incident_id, incident_step.c.note)
            .where(incident_step.c.incident_id.in_(ids))
            .order_by(incident_step.c.id)
        )
        notes = dict(conn.execute(statement).all())  # the latest step of each incident wins
    return [{**r, "note": notes.get(r["id"])} for r in rows]


def service_requests(engine: Engine, scope_code: str, query: RequestQuery) -> list[dict[str, Any]]:
    """Incidents in the scope matching the query, newest report first.

    Keys: REQUEST_COLUMNS + note (of the latest lifecycle step, or None).
    """
    i = incident.c
    with engine.connect() as conn:
        scope = resolve(conn, scope_code)
        where = [inside(incident, scope)]
        if query.ids:
            where.append(i.id.in_(query.ids))
        if query.categories:
            where.append(i.category.in_(query.categories))
        if query.statuses:
            where.append(i.status.in_(_state_codes(query.statuses)))
        if query.start:
            where.append(i.reported_at >= query.start)
        if query.end:
            where.append(i.reported_at < query.end)
        statement = sa.select(*_columns()).where(*where).order_by(i.reported_at.desc(), i.id.desc())
        rows = [dict(r) for r in conn.execute(statement.limit(query.limit)).mappings()]
        return _with_notes(conn, rows)


def service_request(engine: Engine, scope_code: str, incident_id: int) -> dict[str, Any]:
    """One incident of the scope (keys as service_requests); NotFound when absent."""
    rows = service_requests(engine, scope_code, RequestQuery(ids=(incident_id,), limit=1))
    if not rows:
        raise NotFound(f"There is no service request {incident_id}: check the service_request_id.")
    return rows[0]


def _rollup_frames(conn: sa.Connection) -> dict[str, pd.DataFrame]:
    frames = {}
    for table in ROLLUP_TABLES:
        rows = frame(conn, sa.select(table).where(table.c.n != 0))
        if "on_time" in rows:
            rows["on_time"] = rows["on_time"].astype(bool)
        frames[table.name] = rows
    return frames


def rollup_drift(engine: Engine, city_code: str) -> pd.DataFrame:
    """Roll-up rows whose kept count differs from a fresh recount (an audit; nothing is changed).

    The recount runs rollups.rebuild inside a transaction that is rolled back. Columns: table,
    area_code, time (the hour, or the day of a daily table), key (the rest of the row's key),
    kept, recount. Empty when all agree.
    """
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            kept = _rollup_frames(conn)
            rebuild(conn, city_code)
            recount = _rollup_frames(conn)
        finally:
            transaction.rollback()
    parts = []
    for table in ROLLUP_TABLES:
        time = "hour" if "hour" in table.c else "day"
        keys = [c.name for c in table.primary_key.columns if c.name not in ("area_code", time)]
        merged = kept[table.name].merge(recount[table.name], on=["area_code", time, *keys], how="outer",
                                        suffixes=("_kept", "_recount"))
        merged = merged.fillna({"n_kept": 0, "n_recount": 0})
        bad = merged[merged["n_kept"] != merged["n_recount"]]
        parts.append(pd.DataFrame({
            "table": table.name,
            "area_code": bad["area_code"],
            "time": bad[time],
            "key": bad[keys].astype(str).agg("/".join, axis=1) if len(bad) else [],
            "kept": bad["n_kept"].astype(int),
            "recount": bad["n_recount"].astype(int),
        }))
    return pd.concat(parts, ignore_index=True)
