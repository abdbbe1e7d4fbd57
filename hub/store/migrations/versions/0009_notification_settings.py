"""each user's notification settings; a contact's country and language

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # An empty object means "the defaults": existing users keep being notified of everything.
    op.add_column(
        "users",
        sa.Column("notification_settings", Json, nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column("contacts", sa.Column("country", sa.String(length=2), nullable=True))
    op.add_column("contacts", sa.Column("language", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("language")
        batch.drop_column("country")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notification_settings")
