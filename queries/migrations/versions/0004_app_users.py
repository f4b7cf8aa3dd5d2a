"""App users: the users an admin keeps (cli.py users, the Users page), with their roles and home area.

A new table only (queries/schema.py app_user): nothing to recount. Roles and the home area come from the ID
token's claims when the identity provider sends them; this table holds them for the providers that do not,
and whether a user is enabled at all.

Revision 0004, after 0003; written by `python cli.py revision` on 2026-12-02 06:33:09.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.Column("home_code", sa.String(length=15), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_index("ix_app_user_email", "app_user", ["email"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_app_user_email", table_name="app_user")
    op.drop_table("app_user")
