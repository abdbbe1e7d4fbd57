"""CRM sync: OAuth tokens, catalogs and backoff of connections; cached values of contact
links; OAuth states, field changes, transcripts and bulk link jobs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 14:56:51.688682
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

import hub.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_bulk_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("not_found", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("last_contact_id", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hub.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crm_connections.id"],
            name=op.f("fk_crm_bulk_jobs_connection_id_crm_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_bulk_jobs")),
    )
    with op.batch_alter_table("crm_bulk_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_bulk_jobs_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "crm_field_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column(
            "old_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "new_value",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_crm_field_changes_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crm_connections.id"],
            name=op.f("fk_crm_field_changes_connection_id_crm_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_crm_field_changes_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_field_changes")),
    )
    with op.batch_alter_table("crm_field_changes", schema=None) as batch_op:
        batch_op.create_index("ix_crm_field_changes_contact_id", ["contact_id", "id"], unique=False)

    op.create_table(
        "crm_oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crm_connections.id"],
            name=op.f("fk_crm_oauth_states_connection_id_crm_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_crm_oauth_states_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_crm_oauth_states")),
    )
    with op.batch_alter_table("crm_oauth_states", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_oauth_states_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "crm_transcripts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("logged_message_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_first_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_message_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_key", sa.String(length=300), nullable=True),
        sa.Column(
            "activity_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["crm_connections.id"],
            name=op.f("fk_crm_transcripts_connection_id_crm_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_crm_transcripts_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_transcripts")),
        sa.UniqueConstraint(
            "connection_id",
            "conversation_id",
            name=op.f("uq_crm_transcripts_connection_id_conversation_id"),
        ),
    )
    with op.batch_alter_table("crm_transcripts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_crm_transcripts_conversation_id"), ["conversation_id"], unique=False
        )

    with op.batch_alter_table("crm_connections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tokens_encrypted", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "catalog",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'[]'"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "catalog_fetched_at", hub.store.types.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("last_pulled_at", hub.store.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("retry_after", hub.store.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("crm_contact_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "cached",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )
        batch_op.add_column(
            sa.Column("fetched_at", hub.store.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("owner_email", sa.String(length=320), nullable=True))
        batch_op.add_column(
            sa.Column(
                "conflicts",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default=sa.text("'{}'"),
            )
        )
        batch_op.create_index(
            batch_op.f("ix_crm_contact_links_owner_email"), ["owner_email"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_contact_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_contact_links_owner_email"))
        batch_op.drop_column("conflicts")
        batch_op.drop_column("owner_email")
        batch_op.drop_column("last_error")
        batch_op.drop_column("fetched_at")
        batch_op.drop_column("cached")

    with op.batch_alter_table("crm_connections", schema=None) as batch_op:
        batch_op.drop_column("failures")
        batch_op.drop_column("retry_after")
        batch_op.drop_column("last_pulled_at")
        batch_op.drop_column("catalog_fetched_at")
        batch_op.drop_column("catalog")
        batch_op.drop_column("tokens_encrypted")

    with op.batch_alter_table("crm_transcripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_transcripts_conversation_id"))

    op.drop_table("crm_transcripts")
    with op.batch_alter_table("crm_oauth_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_oauth_states_connection_id"))

    op.drop_table("crm_oauth_states")
    with op.batch_alter_table("crm_field_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_field_changes_contact_id")

    op.drop_table("crm_field_changes")
    with op.batch_alter_table("crm_bulk_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_bulk_jobs_connection_id"))

    op.drop_table("crm_bulk_jobs")
