"""What the running intake service holds (engine, city, grid locator, writer): opened at start-up, handed to routes."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine

from errors import CityOpsError, DatabaseUnavailable, Overloaded
from geo.locate import GridLocator
from intake.writer import Job, Ticket, Writer
from queries.areas import area_geometries, scope_of
from queries.engine import check_reachable, make_engine
from queries.upgrade import require_current
from settings import get_settings

log = logging.getLogger("intake")


@dataclass(frozen=True)
class IntakeState:
    """The database, the city the service takes reports for, its grid cells and the one writer."""

    engine: Engine
    city_code: str
    locator: GridLocator
    writer: Writer
    write_timeout: float  # seconds a write may wait for its commit before it is given up

    async def write(self, job: Job) -> Any:
        """The job's result once the writer has committed it; Overloaded (nothing stored) when the
        queue is full or the commit does not come within write_timeout."""
        ticket = self.writer.submit(job)
        committed = asyncio.wrap_future(ticket.future)
        committed.add_done_callback(_retrieve)
        try:
            return await self._outcome(ticket, committed)
        except RuntimeError as exc:  # the writer is stopping (shutdown)
            raise DatabaseUnavailable("The service is shutting down: retry in a moment.") from exc

    async def _outcome(self, ticket: Ticket, committed: asyncio.Future) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(committed), self.write_timeout)
        except TimeoutError:
            if self.writer.abandon(ticket):
                raise Overloaded(
                    f"The write was not done within {self.write_timeout:g} s (the database is slow or busy): "
                    "nothing was stored; retry in a moment with the same Idempotency-Key."
                ) from None
        # Its batch is committing: the outcome is moments away, unless the database hangs at COMMIT.
        try:
            return await asyncio.wait_for(committed, self.write_timeout)
        except TimeoutError:
            raise DatabaseUnavailable(
                "The database has not confirmed the commit: the request may be stored; retry with the same "
                "Idempotency-Key, which never stores it twice."
            ) from None


def _retrieve(done: asyncio.Future) -> None:
    # The outcome of a write whose caller stopped waiting: read, so asyncio does not log it as lost.
    if not done.cancelled():
        done.exception()


def _open_state(database_url: str | None) -> IntakeState:
    settings = get_settings()
    engine = make_engine(database_url or settings.database_url)
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
    locator = GridLocator.from_frame(grids, f"{city.name} ({settings.city_code})")
    writer = Writer(engine, synchronous=settings.intake_writer_synchronous, queue_max=settings.intake_queue_max)
    state = IntakeState(engine, settings.city_code, locator, writer.start(), settings.intake_write_timeout_seconds)
    log.info("intake ready: %d grid cells of %s", len(grids), city.name)
    return state


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the state on app.state.intake for the service's life; stop the writer at shutdown."""
    app.state.intake = _open_state(app.state.database_url)
    try:
        yield
    finally:
        app.state.intake.writer.stop()


async def _intake_state(request: Request) -> IntakeState:
    # async: a plain attribute read needs no trip through the thread pool.
    return request.app.state.intake


# The state as a route parameter: `state: Running`.
Running = Annotated[IntakeState, Depends(_intake_state)]
