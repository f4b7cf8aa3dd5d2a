"""Row-level security on PostgreSQL: incidents, facilities and roll-ups are kept inside the jurisdiction of the
transaction's setting `cityops.jurisdiction` (a code prefix, set by queries.engine.within for a viewer).

A transaction without the setting (the intake, the simulator, cli.py, migrations) reads and writes every row:
the system's own connections are not a viewer's. A viewer's transaction sees, and may write, only rows whose
area code starts with the prefix, even through a query with no WHERE clause of the app's. FORCE makes the rules
hold for the tables' owner too; a superuser or a role with BYPASSRLS still passes them, so the app's role in
production must be neither (README "Jurisdiction on PostgreSQL"). Rows that hang off another table (an
incident's contact and steps, a depot's stock, a hospital's beds) are kept with their parent row.

SQLite has no row-level security: there queries.scope.resolve refuses a scope outside the jurisdiction (as it
does on PostgreSQL). Nothing to recount; policies only.

Revision 0005, after 0004; written on 2026-12-02.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# The session's jurisdiction prefix; '' or unset (NULL) on a system connection.
_SETTING = "coalesce(current_setting('cityops.jurisdiction', true), '')"
_CODE_OF = {
    "incident": "grid_code",
    "incident_rollup": "area_code",
    "incident_rollup_day": "area_code",
    "incident_close_rollup": "area_code",
    "incident_close_rollup_day": "area_code",
    # a facility is placed in its grid when it has one, else in the deepest area it was given
    "assembly_point": "coalesce(grid_code, community_code, street_code, district_code)",
    "supply_depot": "coalesce(grid_code, community_code, street_code, district_code)",
    "hospital": "coalesce(grid_code, community_code, street_code, district_code)",
}
# Child tables: visible when their parent row is (the parent's own policy applies inside EXISTS).
_PARENT_OF = {
    "incident_contact": ("incident", "id", "incident_id"),
    "incident_step": ("incident", "id", "incident_id"),
    "intake_key": ("incident", "id", "incident_id"),
    "stock": ("supply_depot", "code", "depot_code"),
    "hospital_beds": ("hospital", "code", "hospital_code"),
}
POLICY = "inside_jurisdiction"


def _rule(table: str) -> str:
    if table in _CODE_OF:
        return f"{_SETTING} = '' OR starts_with({_CODE_OF[table]}, {_SETTING})"
    parent, key, column = _PARENT_OF[table]
    # intake_key holds NULL while a write claims its key: a system connection's row, never a viewer's
    return f"{_SETTING} = '' OR EXISTS (SELECT 1 FROM {parent} p WHERE p.{key} = {table}.{column})"  # noqa: S608 - names of this file


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*_CODE_OF, *_PARENT_OF):
        rule = _rule(table)
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({rule}) WITH CHECK ({rule})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*_CODE_OF, *_PARENT_OF):
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
