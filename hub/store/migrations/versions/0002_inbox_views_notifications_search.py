"""inbox: status time, blocked flag, notifications, uploads, full-text search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 06:01:27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.store.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# SQLite: FTS5 tables over the text columns, kept in step by triggers, so every write
# path (API, pipes, imports) is indexed without the code remembering to do it.
SQLITE_FTS = [
    ("messages", "text", "messages_fts"),
    ("comments", "body", "comments_fts"),
]


def _sqlite_fts_up() -> None:
    for table, column, fts in SQLITE_FTS:
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table}', "
            f"content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END"
        )
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
            f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
            f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_fts_down() -> None:
    for _table, _column, fts in SQLITE_FTS:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("conversation_id", Id, nullable=True),
        sa.Column("data", Json, nullable=False),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("read_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_notifications_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_user_read", "notifications", ["user_id", "read_at"])

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uploaded_by", Id, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_uploaded_by_users"),
            "users",
            ["uploaded_by"],
            ["id"],
            ondelete="SET NULL",
        )

    # Plain ADD COLUMN with constant defaults: SQLite can do that in place. A
    # non-constant default (CURRENT_TIMESTAMP) would make Alembic rebuild the table, and
    # dropping the old one cascades to every message.
    op.add_column(
        "conversations",
        sa.Column(
            "status_changed_at",
            hub.store.types.UtcDateTime(timezone=True),
            nullable=False,
            server_default="1970-01-01 00:00:00",
        ),
    )
    op.add_column(
        "conversations",
        sa.Column("contact_blocked", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_conversations_status_changed", "conversations", ["status", "status_changed_at"]
    )
    op.create_index(
        "ix_conversations_counts",
        "conversations",
        ["status", "contact_blocked", "assignee_id", "team_id", "unread_count"],
    )
    op.execute("UPDATE conversations SET status_changed_at = COALESCE(closed_at, opened_at)")
    op.execute(
        "UPDATE conversations SET contact_blocked = (SELECT blocked FROM contacts "
        "WHERE contacts.id = conversations.contact_id)"
    )

    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts_up()
    else:
        op.execute(
            "CREATE INDEX ix_messages_text_fts ON messages "
            "USING gin (to_tsvector('simple', coalesce(text, '')))"
        )
        op.execute(
            "CREATE INDEX ix_comments_body_fts ON comments "
            "USING gin (to_tsvector('simple', body))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts_down()
    else:
        op.execute("DROP INDEX IF EXISTS ix_comments_body_fts")
        op.execute("DROP INDEX IF EXISTS ix_messages_text_fts")
    op.drop_index("ix_conversations_counts", table_name="conversations")
    op.drop_index("ix_conversations_status_changed", table_name="conversations")
    # SQLite 3.35+ drops columns in place (no rebuild, so no cascade).
    op.drop_column("conversations", "contact_blocked")
    op.drop_column("conversations", "status_changed_at")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachments_uploaded_by_users"), type_="foreignkey")
        batch_op.drop_column("uploaded_by")
    op.drop_index("ix_notifications_user_read", table_name="notifications")
    op.drop_table("notifications")
