"""the channel pipes: declarative channel types, replayable inbound log, round-robin cursor

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "channel_definitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("manifest", JSON, nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_definitions")),
        sa.UniqueConstraint("name", name=op.f("uq_channel_definitions_name")),
    )
    # Plain nullable columns: SQLite adds them in place, without rebuilding the table.
    op.add_column("channels", sa.Column("routing_cursor", sa.Integer(), nullable=True))
    op.add_column("inbound_log", sa.Column("events", JSON, nullable=True))
    op.add_column(
        "messages",
        sa.Column("media_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(op.f("ix_messages_media_pending"), "messages", ["media_pending"])


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_media_pending"), table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("media_pending")
    with op.batch_alter_table("inbound_log") as batch:
        batch.drop_column("events")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("routing_cursor")
    op.drop_table("channel_definitions")
