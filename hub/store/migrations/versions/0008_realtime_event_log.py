"""the realtime event log that reconnecting websockets replay from

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "realtime_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realtime_events")),
        # SQLite: never reuse an id, so a client's "after" always means the same events.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_realtime_events_created_at", "realtime_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_realtime_events_created_at", table_name="realtime_events")
    op.drop_table("realtime_events")
