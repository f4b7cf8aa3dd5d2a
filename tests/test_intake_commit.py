"""A COMMIT whose answer is lost (issue 13 item 2): the writer asks PostgreSQL whether the batch committed before it
runs anything again, so a batch that did commit is neither applied twice nor answered as a repeat or a 409, and
one that did not is applied once.

The fault is real: a TCP proxy between the writer and the test server cuts the writer's connection at the COMMIT
of the batch, after the server committed (the answer is lost on the way back, as when a network link or a
pooler in between drops) or before the COMMIT reached it."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from clock import now_utc
from errors import CityOpsError
from intake.writer import Writer
from queries.engine import make_engine
from queries.intake import Created, IncidentDraft, create_incident, rollup_drift, transition_incident
from queries.schema import incident, incident_step
from tests.intake_support import CITY
from tests.support import SMALL_DAYS, discard, postgres_url_or_skip

SSL_OR_GSS_REQUEST = (80877103, 80877104)  # untyped messages a client may send before its StartupMessage


@dataclass
class CommitCutter:
    """Forwards PostgreSQL's wire protocol; cuts one connection at the first COMMIT after a query that sent `marker`."""

    upstream: tuple[str, int]
    marker: bytes
    when: str  # "after": the server commits, the client never hears it; "before": the COMMIT never arrives
    cuts: int = 0
    _listener: socket.socket = field(default_factory=socket.socket)
    _sockets: list[socket.socket] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def start(self) -> CommitCutter:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        for sock in [self._listener, *self._sockets]:
            _close(sock)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._sockets += [client, server]
            link = _Link(client, server)
            threading.Thread(target=link.answers, daemon=True).start()
            threading.Thread(target=self._requests, args=(link,), daemon=True).start()

    def _requests(self, link: _Link) -> None:
        buffer, startup, armed = b"", True, False
        while chunk := _recv(link.client):
            buffer += chunk
            while (message := _next_message(buffer, startup)) is not None:
                buffer = buffer[len(message):]
                if startup:
                    startup = int.from_bytes(message[4:8], "big") in SSL_OR_GSS_REQUEST
                elif message[:1] == b"Q":
                    armed = armed or self.marker in message
                    if armed and message[5:].upper().startswith(b"COMMIT") and not self.cuts:
                        self.cuts += 1
                        link.cut(message if self.when == "after" else None)
                        return
                link.server.sendall(message)
        link.close()


def _next_message(buffer: bytes, startup: bool) -> bytes | None:
    """The first whole message in the buffer (startup messages have no type byte), or None."""
    head = 0 if startup else 1
    if len(buffer) < head + 4:
        return None
    length = head + int.from_bytes(buffer[head : head + 4], "big")
    return buffer[:length] if len(buffer) >= length else None


class _Link:
    """One client connection and its server connection; the server's answers are dropped once muted."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client, self.server = client, server
        self.muted = False
        self.answered = threading.Event()

    def answers(self) -> None:
        while chunk := _recv(self.server):
            if self.muted:
                self.answered.set()  # the server has answered the COMMIT: it committed
            else:
                self.client.sendall(chunk)
        self.close()

    def cut(self, commit: bytes | None) -> None:
        if commit is not None:
            self.muted = True
            self.server.sendall(commit)
            assert self.answered.wait(10), "the server did not answer the COMMIT"
        self.close()

    def close(self) -> None:
        _close(self.client)
        _close(self.server)


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


@contextmanager
def through_cutter(engine: Engine, marker: str, when: str) -> Iterator[tuple[CommitCutter, Engine]]:
    cutter = CommitCutter((engine.url.host or "127.0.0.1", engine.url.port or 5432), marker.encode(), when).start()
    url = engine.url.set(host="127.0.0.1", port=cutter.port, query={"sslmode": "disable"})
    proxied = make_engine(url.render_as_string(hide_password=False))
    try:
        yield cutter, proxied
    finally:
        proxied.dispose()
        make_engine(url.render_as_string(hide_password=False), synchronous="FULL").dispose()
        cutter.stop()


def _draft(engine: Engine, description: str, key: str | None) -> IncidentDraft:
    with engine.connect() as conn:
        row = conn.execute(sa.select(incident).limit(1)).mappings().one()
    codes = {c: row[c] for c in ("grid_code", "community_code", "street_code", "district_code")}
    return IncidentDraft(category="greening", source="hotline_12345", priority="routine", lon=row["lon"],
                         lat=row["lat"], **codes, description=description, idempotency_key=key)


def _reported_incident(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(incident.c.id).where(incident.c.status == "reported").limit(1)).scalar_one()


@pytest.fixture
def postgis(demo_templates, tmp_path) -> Iterator[Engine]:
    postgres_url_or_skip()
    engine = demo_templates.copy("postgis", tmp_path, days=SMALL_DAYS)
    yield engine
    discard(engine)


@pytest.mark.parametrize("when", ["after", "before"])
def test_a_batch_whose_commit_was_cut_off_is_stored_once_and_answered_as_new(postgis, when):
    marker = f"cut-{uuid.uuid4().hex[:8]}"
    keyed, keyless = _draft(postgis, f"{marker} keyed", f"key-{marker}"), _draft(postgis, f"{marker} keyless", None)
    step_on = _reported_incident(postgis)
    with through_cutter(postgis, marker, when) as (cutter, proxied):
        writer = Writer(proxied)
        jobs = [  # queued before the writer starts: one batch, one COMMIT
            lambda conn: create_incident(conn, keyed, city_code=CITY, now=now_utc()),
            lambda conn: create_incident(conn, keyless, city_code=CITY, now=now_utc()),
            lambda conn: transition_incident(conn, step_on, "dispatch", marker, city_code=CITY, now=now_utc()),
        ]
        tickets = [writer.submit(job) for job in jobs]
        writer.start()
        try:
            outcomes = [_outcome(t.future) for t in tickets]
        finally:
            writer.stop()
    assert cutter.cuts == 1, "the fault did not happen"
    created_keyed, created_keyless, step = outcomes
    assert isinstance(created_keyed, Created) and created_keyed.created  # new, not "a repeat of an earlier one"
    assert isinstance(created_keyless, Created) and created_keyless.created
    assert isinstance(step, dict) and step["status"] == "dispatched", step  # not 409 "it is dispatched"
    with postgis.connect() as conn:
        stored = conn.execute(sa.select(incident.c.id).where(incident.c.description.like(f"{marker}%"))).scalars()
        assert sorted(stored) == sorted([created_keyed.row["id"], created_keyless.row["id"]])  # once each
        steps = conn.execute(sa.select(incident_step.c.action).where(incident_step.c.incident_id == step_on))
        assert list(steps.scalars()) == ["dispatch"]
    drift = rollup_drift(postgis, CITY)
    assert drift.empty, drift.head(10).to_string()


def _outcome(future) -> object:
    try:
        return future.result(timeout=60)
    except CityOpsError as exc:
        return exc
