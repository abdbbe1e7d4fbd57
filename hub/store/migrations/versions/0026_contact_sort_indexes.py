"""Indexes for the contacts list's two sorts

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-04 18:00:00.000000

The contacts list pages by name (``lower(name), id``) or newest first (``created_at,
id``). With no index for either, every page sorted all the contacts; for an agent who
sees only their own or their team's conversations, each contact was also tested for a
visible conversation on the way: about 130 ms on SQLite with 50,000 contacts. With them
a page walks the index in order and stops after its rows (under 1 ms there). Plain
B-tree indexes (``lower(name)`` as an expression index, which both SQLite and PostgreSQL
have): no table is rebuilt, so the contacts' full-text triggers (0025) stay.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_contacts_name_key", "contacts", [sa.text("lower(name)"), "id"])
    op.create_index("ix_contacts_created", "contacts", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_contacts_created", table_name="contacts")
    op.drop_index("ix_contacts_name_key", table_name="contacts")
