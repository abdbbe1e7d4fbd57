"""email: thread keys of conversations, envelopes and automated flags of messages, the
time a polling channel last checked its provider

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "conversation_thread_keys",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "channel_id",
            ID,
            sa.ForeignKey(
                "channels.id",
                ondelete="CASCADE",
                name=op.f("fk_conversation_thread_keys_channel_id_channels"),
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column(
            "conversation_id",
            ID,
            sa.ForeignKey(
                "conversations.id",
                ondelete="CASCADE",
                name=op.f("fk_conversation_thread_keys_conversation_id_conversations"),
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_thread_keys")),
        sa.UniqueConstraint(
            "channel_id", "key", name=op.f("uq_conversation_thread_keys_channel_id_key")
        ),
    )
    op.create_index(
        op.f("ix_conversation_thread_keys_conversation_id"),
        "conversation_thread_keys",
        ["conversation_id"],
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("envelope", Json, nullable=True))
        batch.add_column(sa.Column("automated", sa.String(length=16), nullable=True))
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("last_polled_at", hub.store.types.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("last_polled_at")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("automated")
        batch.drop_column("envelope")
    op.drop_index(
        op.f("ix_conversation_thread_keys_conversation_id"), table_name="conversation_thread_keys"
    )
    op.drop_table("conversation_thread_keys")
