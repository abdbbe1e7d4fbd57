"""SLA policies, and each conversation's policy, due times and breach markers

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 21:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = hub.store.types.UtcDateTime(timezone=True)
DUES = ("first_response_due_at", "next_response_due_at", "resolution_due_at")
BREACHES = ("first_response_breached_at", "next_response_breached_at", "resolution_breached_at")
CHECKED = "sla_checked_at"


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name_key", name=op.f("uq_sla_policies_name_key")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch:
        batch.add_column(sa.Column("sla_policy_id", ID, nullable=True))
        for column in (*DUES, *BREACHES, CHECKED):
            batch.add_column(sa.Column(column, WHEN, nullable=True))
        batch.create_foreign_key(
            op.f("fk_conversations_sla_policy_id_sla_policies"),
            "sla_policies",
            ["sla_policy_id"],
            ["id"],
            ondelete="SET NULL",
        )
        for column in DUES:
            batch.create_index(f"ix_conversations_{column}", [column], unique=False)
        batch.create_index(
            "ix_conversations_sla_policy_status", ["sla_policy_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch:
        batch.drop_index("ix_conversations_sla_policy_status")
        for column in DUES:
            batch.drop_index(f"ix_conversations_{column}")
        batch.drop_constraint(
            op.f("fk_conversations_sla_policy_id_sla_policies"), type_="foreignkey"
        )
        for column in (CHECKED, *BREACHES, *DUES, "sla_policy_id"):
            batch.drop_column(column)
    op.drop_table("sla_policies")
