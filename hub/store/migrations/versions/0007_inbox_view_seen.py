"""when each user last opened each of their inboxes, for the sidebar's new-message dots

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbox_view_seen",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("view", sa.String(length=40), nullable=False),
        sa.Column("seen_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_inbox_view_seen_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "view", name=op.f("pk_inbox_view_seen")),
    )


def downgrade() -> None:
    op.drop_table("inbox_view_seen")
