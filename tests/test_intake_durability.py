"""A 201 is on disk: the intake writer commits with SQLite's synchronous=FULL under WAL (PostgreSQL:
synchronous_commit on), while readers keep the cheaper NORMAL."""

from __future__ import annotations

import sqlalchemy as sa

from intake.writer import Writer

# What each backend reports for the commit mode of a connection: (writer's, readers').
SETTING = {"sqlite": "PRAGMA synchronous", "postgresql": "SHOW synchronous_commit"}


def _commit_mode(conn: sa.Connection) -> tuple[object, object]:
    mode = conn.exec_driver_sql(SETTING[conn.dialect.name]).scalar()
    journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar() if conn.dialect.name == "sqlite" else "-"
    return mode, journal


def test_the_writer_commits_with_synchronous_full_and_readers_stay_normal(writable):
    writer = Writer(writable).start()
    try:
        in_writer = writer.submit(_commit_mode).future.result(timeout=30)
    finally:
        writer.stop()
    with writable.connect() as conn:
        in_reader = _commit_mode(conn)
    if writable.dialect.name == "sqlite":
        assert in_writer == (2, "wal")  # FULL: the WAL is synced at every commit
        assert in_reader == (1, "wal")  # NORMAL: synced at checkpoints only
    else:
        # The test server runs with synchronous_commit off: the writer's connection turns it on.
        assert in_writer == ("on", "-") and in_reader == ("off", "-")
