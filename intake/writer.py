"""The one writer path: a thread that runs write jobs in batches, one transaction per batch.

Requests arriving while a batch commits wait in the queue and go into the next batch (group
commit), so the cost of a commit is shared. A job's future is resolved only after its batch
committed, so an answer such as 201 is never given for a write that could still be lost.

Contract with the jobs: a job that raises CityOpsError (NotFound, Conflict...) has written
nothing, so the batch goes on. Any other exception rolls the whole batch back; the jobs are
then run again one per transaction, so only the failing job fails (and a unique-key race with
another writer process resolves itself on the second run, when the look-up finds the row).
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

from errors import CityOpsError, DatabaseUnavailable
from queries.rollups import batched_counts

log = logging.getLogger("intake.writer")

Job = Callable[[sa.Connection], Any]
Outcome = tuple[bool, Any]  # (succeeded, result or exception)
_STOP = object()


class Writer:
    """Serialises every write of the process through one transaction at a time."""

    def __init__(self, engine: Engine, *, max_batch: int = 200, attempts: int = 3) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
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

    def submit(self, job: Job) -> Future:
        """Queue a job; its future holds the job's result once its batch has committed."""
        future: Future = Future()
        self._queue.put((job, future))
        return future

    def _run(self) -> None:
        while True:
            batch, stop = self._next_batch()
            try:
                if batch:
                    self._commit_batch(batch)
            except Exception as exc:  # the thread must outlive any one batch
                log.exception("write batch failed unexpectedly")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
            if stop:
                return

    def _next_batch(self) -> tuple[list, bool]:
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

    def _commit_batch(self, batch: list[tuple[Job, Future]]) -> None:
        live = [(job, future) for job, future in batch if future.set_running_or_notify_cancel()]
        jobs = [job for job, _ in live]
        try:
            outcomes = self._transaction(jobs)
        except DatabaseUnavailable as exc:
            outcomes = [(False, exc)] * len(jobs)
        except Exception:  # a job broke its transaction: isolate it
            log.warning("write batch of %d rolled back; running its jobs one by one", len(jobs), exc_info=True)
            outcomes = [self._alone(job) for job in jobs]
        self.batches += 1
        self.jobs += len(jobs)
        for (_, future), (ok, value) in zip(live, outcomes, strict=True):
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _alone(self, job: Job) -> Outcome:
        for attempt in (1, 2):
            try:
                return self._transaction([job])[0]
            except DatabaseUnavailable as exc:
                return False, exc
            except Exception as exc:  # the job's own failure goes to its caller
                if attempt == 2:
                    log.exception("write job failed twice")
                    return False, exc
        raise AssertionError("unreachable")

    def _transaction(self, jobs: list[Job]) -> list[Outcome]:
        """Run the jobs in one transaction, retrying it when the database is busy or dropped."""
        for attempt in range(1, self._attempts + 1):
            try:
                return self._run_jobs(jobs)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                # Locked, busy, a dropped connection, a deadlock: all rolled back, so run again.
                log.warning("write transaction failed (attempt %d of %d): %s", attempt, self._attempts, exc)
                time.sleep(0.05 * attempt)
        raise DatabaseUnavailable(
            "The database did not accept the write: retry with the same Idempotency-Key in a moment."
        )

    def _run_jobs(self, jobs: list[Job]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with self._engine.begin() as conn, batched_counts(conn):
            for job in jobs:
                try:
                    outcomes.append((True, job(conn)))
                except CityOpsError as exc:  # raised before the job wrote anything
                    outcomes.append((False, exc))
        return outcomes
