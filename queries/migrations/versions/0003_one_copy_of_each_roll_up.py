"""One copy of each roll-up, and no zero rows: the parent-ordered covering indexes dropped, zero counts deleted.

Revision 0003, after 0002 (intake keys); written by `python cli.py revision` on 2026-12-02 03:28:24.

Each roll-up was its WITHOUT ROWID table plus a covering index holding the same columns in parent
order: every count stored twice. Reads of a scope's children now seek each child's code in the
table's own key (queries.incidents). Counts that fell to zero on the live path were kept; the write
path deletes them now (queries.dialects add_counts), and this deletes those already there. On
SQLite the freed pages are reused by later writes; `VACUUM` (outside a transaction) returns them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, the covering index it had, that index's columns)
COVERING = (
    ("incident_rollup", "ix_rollup_by_parent_hour",
     ["parent_code", "hour", "area_code", "category", "source", "status", "n"]),
    ("incident_rollup_day", "ix_rollup_day_parent",
     ["parent_code", "category", "source", "day", "area_code", "status", "n"]),
    ("incident_close_rollup", "ix_close_rollup_by_parent_hour",
     ["parent_code", "hour", "area_code", "close_bin", "on_time", "category", "source", "n"]),
    ("incident_close_rollup_day", "ix_close_rollup_day_by_parent",
     ["parent_code", "category", "source", "day", "area_code", "close_bin", "on_time", "n"]),
)


def upgrade() -> None:
    for table, index, _ in COVERING:
        op.drop_index(index, table_name=table)
        op.execute(sa.text(f"DELETE FROM {table} WHERE n = 0"))  # noqa: S608 - names fixed above


def downgrade() -> None:
    for table, index, columns in COVERING:
        op.create_index(index, table, columns)
