"""The one writer path: a thread that runs write jobs in batches, one transaction per batch.

Requests arriving while a batch commits wait in the queue and go into the next batch (group
commit), so the cost of a commit is shared. A job's future is resolved only after its batch
committed, so an answer such as 201 is never given for a write that could still be lost; the
writer commits on an engine of its own with synchronous=FULL (queries.engine.writer_engine).

Contract with the jobs: a job that raises CityOpsError (NotFound, Conflict...) has written
nothing, so the batch goes on. Any other exception rolls the whole batch back; the jobs are
then run again one per transaction, so only the failing job fails (and a unique-key race with
another writer process resolves itself on the second run, when the look-up finds the row).

An error at COMMIT itself is ambiguous on PostgreSQL (the connection dropped: did the server commit?). The
writer then asks the server, on a new connection, whether the batch's transaction committed (its id was read
before COMMIT) and runs the batch again only if it did not; a batch that committed keeps its outcomes, so a
201 stays a 201 and a step is not refused as out of order by its own earlier run. When the server cannot
tell, the callers get a 503 saying the write may be stored (a retry with the same key is safe).

Overload: the queue is bounded (submit raises Overloaded when it is full), and a caller that
stops waiting abandons its ticket. An abandoned job is never committed: the writer checks every
ticket just before COMMIT, and a batch holding an abandoned one is rolled back and run again
without it. Once a batch is past that check its tickets can no longer be abandoned.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from errors import CityOpsError, DatabaseUnavailable, Overloaded
from queries.dialects import for_connection
from queries.engine import Synchronous, writer_engine
from queries.rollups import batched_counts

log = logging.getLogger("intake.writer")

Job = Callable[[sa.Connection], Any]
Outcome = tuple[bool, Any]  # (succeeded, result or exception)
_STOP = object()


class _Abandoned(Exception):
    """A caller gave up on a job of the batch before COMMIT: roll back, run the rest again."""


class _CommitUnknown(Exception):
    """COMMIT failed in a way that does not say whether it happened: the batch's outcomes and its transaction."""

    def __init__(self, outcomes: dict[int, Outcome], token: str | None) -> None:
        super().__init__("COMMIT failed")
        self.outcomes, self.token = outcomes, token


DOUBT_CHECKS = 10  # times the writer asks whether a batch committed before it gives up (0.2 s apart and more)


class Ticket:
    """One submitted job: its future, and whether its caller gave up or its batch is committing."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.future: Future = Future()
        self.abandoned = False
        self.committing = False


class Writer:
    """Serialises every write of the process through one transaction at a time."""

    def __init__(
        self,
        engine: Engine,
        *,
        synchronous: Synchronous = "FULL",
        queue_max: int = 1000,
        max_batch: int = 200,
        attempts: int = 3,
    ) -> None:
        self._engine = writer_engine(engine, synchronous)
        self._queue: queue.Queue = queue.Queue(maxsize=queue_max)
        self._claims = threading.Lock()  # guards Ticket.abandoned / committing
        self._max_batch = max_batch
        self._attempts = attempts
        self._thread = threading.Thread(target=self._run, name="intake-writer", daemon=True)
        self.batches = 0
        self.jobs = 0

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued jobs, then end the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def submit(self, job: Job) -> Ticket:
        """Queue a job; its ticket's future holds the job's result once its batch has committed.

        Overloaded when the queue is full: nothing was queued, so nothing will be written."""
        ticket = Ticket(job)
        try:
            self._queue.put_nowait(ticket)
        except queue.Full:
            raise Overloaded(
                f"The service has {self._queue.maxsize:,} writes waiting, its limit: nothing was stored; "
                "retry in a moment (with the same Idempotency-Key)."
            ) from None
        return ticket

    def abandon(self, ticket: Ticket) -> bool:
        """Give up on a job: True when it will never be written, False when its batch is already committing."""
        with self._claims:
            if ticket.committing:
                return False
            ticket.abandoned = True
        ticket.future.cancel()  # a job still queued is then skipped; a running one is rolled back
        return True

    def _run(self) -> None:
        while True:
            batch, stop = self._next_batch()
            try:
                if batch:
                    self._commit_batch(batch)
            except Exception as exc:  # the thread must outlive any one batch
                log.exception("write batch failed unexpectedly")
                for ticket in batch:
                    if not ticket.future.done():
                        ticket.future.set_exception(exc)
            if stop:
                return

    def _next_batch(self) -> tuple[list[Ticket], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _commit_batch(self, batch: list[Ticket]) -> None:
        live = [t for t in batch if t.future.set_running_or_notify_cancel()]
        try:
            outcomes = self._transaction(live)
        except DatabaseUnavailable as exc:
            outcomes = {id(t): (False, exc) for t in live}
        except Exception:  # a job broke its transaction: isolate it
            log.warning("write batch of %d rolled back; running its jobs one by one", len(live), exc_info=True)
            outcomes = {}
            for ticket in live:
                outcomes.update(self._alone(ticket))
        self.batches += 1
        self.jobs += len(outcomes)
        for ticket in live:
            if id(ticket) not in outcomes:  # abandoned: rolled back, its caller has gone
                continue
            ok, value = outcomes[id(ticket)]
            if ok:
                ticket.future.set_result(value)
            else:
                ticket.future.set_exception(value)

    def _alone(self, ticket: Ticket) -> dict[int, Outcome]:
        for attempt in (1, 2):
            try:
                return self._transaction([ticket])
            except DatabaseUnavailable as exc:
                return {id(ticket): (False, exc)}
            except Exception as exc:  # the job's own failure goes to its caller
                if attempt == 2:
                    log.exception("write job failed twice")
                    return {id(ticket): (False, exc)}
        raise AssertionError("unreachable")

    def _transaction(self, tickets: list[Ticket]) -> dict[int, Outcome]:
        """Run the jobs in one transaction (outcomes by id of ticket), retrying it when the database is
        busy or dropped, and without the abandoned ones when a caller gave up."""
        attempt = 1
        while True:
            tickets = [t for t in tickets if not t.abandoned]
            if not tickets:
                return {}
            try:
                return self._run_jobs(tickets)
            except _Abandoned:
                continue  # rolled back: the same jobs less the abandoned ones
            except _CommitUnknown as unknown:
                if self._committed(unknown.token):
                    return unknown.outcomes
                failure: BaseException | None = unknown.__cause__  # not committed: as any rolled-back failure
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                failure = exc  # locked, busy, a dropped connection, a deadlock: all rolled back, so run again
            log.warning("write transaction failed (attempt %d of %d): %s", attempt, self._attempts, failure)
            if attempt == self._attempts:
                raise DatabaseUnavailable(
                    "The database did not accept the write: retry with the same Idempotency-Key in a moment."
                ) from failure
            time.sleep(0.05 * attempt)
            attempt += 1

    def _committed(self, token: str | None) -> bool:
        """Whether the transaction whose COMMIT failed committed, asked on a new connection; DatabaseUnavailable
        when the database does not tell (then nothing is run again: the callers retry with their keys)."""
        if token is None:
            return False  # a failed COMMIT on this database never committed (dialects' transaction_token)
        for check in range(1, DOUBT_CHECKS + 1):
            try:
                with self._engine.connect() as conn:
                    committed = for_connection(conn).transaction_committed(conn, token)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                log.warning("cannot ask whether transaction %s committed (check %d): %s", token, check, exc)
                committed = None
            if committed is not None:
                log.warning("COMMIT of transaction %s failed; the database says it %s", token,
                            "committed" if committed else "did not commit")
                return committed
            time.sleep(0.2 * check)
        raise DatabaseUnavailable(
            "The database has not confirmed the commit: the request may be stored; retry with the same "
            "Idempotency-Key, which never stores it twice."
        )

    def _run_jobs(self, tickets: list[Ticket]) -> dict[int, Outcome]:
        outcomes: dict[int, Outcome] = {}
        with self._engine.connect() as conn:
            transaction = conn.begin()  # rolled back when the connection closes without a COMMIT
            with batched_counts(conn):
                for ticket in tickets:
                    try:
                        outcomes[id(ticket)] = (True, ticket.job(conn))
                    except CityOpsError as exc:  # raised before the job wrote anything
                        outcomes[id(ticket)] = (False, exc)
            token = for_connection(conn).transaction_token(conn)
            self._claim_for_commit(tickets)
            try:
                transaction.commit()
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                raise _CommitUnknown(outcomes, token) from exc
        return outcomes

    def _claim_for_commit(self, tickets: list[Ticket]) -> None:
        """Past this point no ticket of the batch can be abandoned; raises _Abandoned (rollback) if one was."""
        with self._claims:
            if any(t.abandoned for t in tickets):
                raise _Abandoned
            for ticket in tickets:
                ticket.committing = True
