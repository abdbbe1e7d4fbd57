"""CSAT: one survey per closed conversation, and the contact's answer

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 21:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hub.store.types.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "csat_surveys",
        sa.Column("id", ID, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("contact_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=200), nullable=True),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_via", sa.String(length=16), nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_csat_surveys_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_csat_surveys_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_csat_surveys_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_csat_surveys_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_surveys")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_csat_surveys_conversation_id")),
        sa.UniqueConstraint("token", name=op.f("uq_csat_surveys_token")),
    )
    op.create_index(
        "ix_csat_surveys_contact_channel",
        "csat_surveys",
        ["contact_id", "channel_id", "status"],
        unique=False,
    )
    op.create_index("ix_csat_surveys_answered_at", "csat_surveys", ["answered_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_csat_surveys_answered_at", table_name="csat_surveys")
    op.drop_index("ix_csat_surveys_contact_channel", table_name="csat_surveys")
    op.drop_table("csat_surveys")
