"""files on a snippet: attachments may belong to a snippet

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode so that SQLite (which cannot add a foreign key in place) rebuilds the table.
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(
            sa.Column(
                "snippet_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch.create_foreign_key(
            batch.f("fk_attachments_snippet_id_snippets"),
            "snippets",
            ["snippet_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index(batch.f("ix_attachments_snippet_id"), ["snippet_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.drop_index(batch.f("ix_attachments_snippet_id"))
        batch.drop_constraint(batch.f("fk_attachments_snippet_id_snippets"), type_="foreignkey")
        batch.drop_column("snippet_id")
