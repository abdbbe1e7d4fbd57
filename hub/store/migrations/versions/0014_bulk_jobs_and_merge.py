"""Bulk jobs on conversations, and conversations merged into another

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 18:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types
from hub.store.types import Id, Json

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_jobs",
        sa.Column("id", Id, nullable=False),
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("targets", Json, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_bulk_jobs_actor_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_jobs")),
    )
    op.create_index("ix_bulk_jobs_actor_id", "bulk_jobs", ["actor_id", "id"])
    op.create_index("ix_bulk_jobs_status", "bulk_jobs", ["status"])
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("merged_into_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_conversations_merged_into_id_conversations"),
            "conversations",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_constraint(
            op.f("fk_conversations_merged_into_id_conversations"), type_="foreignkey"
        )
        batch.drop_column("merged_into_id")
    op.drop_index("ix_bulk_jobs_status", table_name="bulk_jobs")
    op.drop_index("ix_bulk_jobs_actor_id", table_name="bulk_jobs")
    op.drop_table("bulk_jobs")
