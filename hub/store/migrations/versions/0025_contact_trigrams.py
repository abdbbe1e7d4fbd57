"""Trigram indexes for "contains" on contacts' fields

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 09:10:00.000000

"Contains" on a contact's name, first and last name, email and phone (custom inboxes'
contact conditions, the contacts list's and the search's ``q``) is a substring match:
no B-tree serves it. Here:

- PostgreSQL: ``pg_trgm`` (a trusted extension since PostgreSQL 13) and one GIN index
  per field over the expression the queries test, ``lower(field)`` (the phone as it is:
  its search compares digits). The planner uses them for ``LIKE '%…%'`` and rechecks
  every candidate, so results are the same as a scan's.
- SQLite: ``contacts_fts``, an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34 or
  later) over the same five fields, external content (``contacts``) kept in step by
  triggers. ``hub.inbox.contact_contains`` narrows to its candidates and then applies the
  exact condition, so results are the same as a scan's there too.

The extension is left in place on downgrade: it may have been there before, and other
objects may use it. A later migration that rebuilds ``contacts`` on SQLite (batch mode
drops the old table, and its triggers with it) must create ``SQLITE_TRIGGERS`` again.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The fields "contains" may test (hub.inbox.contact_contains.FIELDS when this was written;
# a test checks they still agree).
FIELDS = ("name", "first_name", "last_name", "email", "phone")
COLUMNS = ", ".join(FIELDS)
NEW = ", ".join(f"new.{f}" for f in FIELDS)
OLD = ", ".join(f"old.{f}" for f in FIELDS)

SQLITE_TRIGGERS = [
    "CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN "
    f"INSERT INTO contacts_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END",
    "CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN "
    f"INSERT INTO contacts_fts(contacts_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.id, {OLD}); END",
    f"CREATE TRIGGER contacts_fts_au AFTER UPDATE OF {COLUMNS} ON contacts BEGIN "
    f"INSERT INTO contacts_fts(contacts_fts, rowid, {COLUMNS}) "
    f"VALUES ('delete', old.id, {OLD}); "
    f"INSERT INTO contacts_fts(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END",
]


def _pg_expression(field: str) -> str:
    return field if field == "phone" else f"lower({field})"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE contacts_fts USING fts5({COLUMNS}, content='contacts', "
            "content_rowid='id', tokenize='trigram')"
        )
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute("INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')")
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for field in FIELDS:
            op.execute(
                f"CREATE INDEX ix_contacts_fts_{field} ON contacts "
                f"USING gin ({_pg_expression(field)} gin_trgm_ops)"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS contacts_fts_{suffix}")
        op.execute("DROP TABLE IF EXISTS contacts_fts")
    else:
        for field in FIELDS:
            op.execute(f"DROP INDEX IF EXISTS ix_contacts_fts_{field}")
