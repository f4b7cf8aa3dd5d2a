"""Schema revisions of the database (Alembic, configured in code): env.py runs versions/ for queries.upgrade."""

from __future__ import annotations

from pathlib import Path

SCRIPT_LOCATION = Path(__file__).resolve().parent
# The revision that creates the schema CityOps had when it took up Alembic; older databases are stamped with it.
BASELINE = "0001"
