"""Alembic's entry point: runs the revisions on the connection queries.upgrade hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from queries.migrations.autogenerate import context_options

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or connection is None:
    raise RuntimeError("CityOps revisions run on a connection: use `python cli.py upgrade` (queries/upgrade.py)")
context.configure(connection=connection, **context_options())
with context.begin_transaction():
    context.run_migrations()
