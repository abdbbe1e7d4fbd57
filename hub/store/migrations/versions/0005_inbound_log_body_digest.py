"""the inbound log keeps each body's size and sha256 (of rejected ones only a prefix)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: rows logged before this revision have neither (their body is whole).
    op.add_column("inbound_log", sa.Column("body_size", sa.Integer(), nullable=True))
    op.add_column("inbound_log", sa.Column("body_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_log") as batch:
        batch.drop_column("body_sha256")
        batch.drop_column("body_size")
