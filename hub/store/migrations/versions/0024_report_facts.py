"""Reports' pre-aggregate: report_facts, report_counts, report_versions, and the triggers
that mark a conversation's facts stale whenever something a report reads changes

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04 06:00:00.000000

Every existing conversation starts stale; the report builder works them off in the
background (reports are computed from the raw history until it has).

The triggers live on messages, conversation_events, conversations, csat_surveys,
conversation_labels and business_hours. A later migration that rebuilds one of these tables on SQLite (batch
mode copies the table and drops the old one, and its triggers with it) must create the
table's triggers again: ``sqlite_triggers(table)`` below gives them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.store.types

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The event kinds reports read (hub.inbox.report_load.EVENT_KINDS when this was written;
# a test checks they still agree).
EVENT_KINDS = (
    "('assigned', 'unassigned', 'closed', 'reopened', 'snoozed', 'unsnoozed', 'sla_breached')"
)

# What changes a conversation's facts, per table: the UPDATE trigger's condition.
MESSAGE_CHANGED = (
    "old.conversation_id <> new.conversation_id OR old.created_at IS NOT new.created_at"
    " OR old.direction IS NOT new.direction OR old.sender_user_id IS NOT new.sender_user_id"
    " OR old.automated IS NOT new.automated"
    " OR (old.status = 'failed') <> (new.status = 'failed')"
)
EVENT_CHANGED = (
    "old.conversation_id <> new.conversation_id OR old.created_at IS NOT new.created_at"
    " OR old.kind IS NOT new.kind OR old.data IS NOT new.data"
)
SURVEY_CHANGED = (
    "old.conversation_id <> new.conversation_id OR old.created_at IS NOT new.created_at"
    " OR old.answered_at IS NOT new.answered_at OR old.rating IS NOT new.rating"
)
LABEL_CHANGED = "old.conversation_id <> new.conversation_id OR old.label_id <> new.label_id"
CONVERSATION_CHANGED = (
    "old.opened_at IS NOT new.opened_at OR old.channel_id <> new.channel_id"
    " OR old.assignee_id IS NOT new.assignee_id OR old.team_id IS NOT new.team_id"
    " OR old.merged_into_id IS NOT new.merged_into_id"
)


def _pg(condition: str) -> str:
    # PostgreSQL spells SQLite's null-safe IS NOT as IS DISTINCT FROM.
    return condition.replace(" IS NOT ", " IS DISTINCT FROM ")


def _sqlite_mark(row: str) -> str:
    # ``row`` is one of this module's own column references, never outside input.
    return (  # noqa: S608
        "INSERT INTO report_versions (conversation_id, version, built) "
        f"VALUES ({row}, 1, 0) ON CONFLICT (conversation_id) DO UPDATE SET version = version + 1;"
    )


def sqlite_triggers(table: str) -> list[str]:
    """The CREATE TRIGGER statements of ``table`` on SQLite."""
    mark_new, mark_old = _sqlite_mark("new.conversation_id"), _sqlite_mark("old.conversation_id")
    both = f"{mark_new} {mark_old}"
    name = f"report_mark_{table}"
    if table == "conversations":
        return [
            f"CREATE TRIGGER {name}_ai AFTER INSERT ON conversations "
            f"BEGIN {_sqlite_mark('new.id')} END",
            f"CREATE TRIGGER {name}_au AFTER UPDATE ON conversations "
            f"WHEN {CONVERSATION_CHANGED} BEGIN {_sqlite_mark('new.id')} END",
        ]
    if table == "business_hours":
        bump = "UPDATE report_versions SET version = version + 1;"
        return [
            f"CREATE TRIGGER {name}_ai AFTER INSERT ON business_hours "
            f"WHEN new.scope = 'workspace' BEGIN {bump} END",
            f"CREATE TRIGGER {name}_au AFTER UPDATE ON business_hours "
            f"WHEN new.scope = 'workspace' OR old.scope = 'workspace' BEGIN {bump} END",
            f"CREATE TRIGGER {name}_ad AFTER DELETE ON business_hours "
            f"WHEN old.scope = 'workspace' BEGIN {bump} END",
        ]
    changed, kinds = {
        "messages": (MESSAGE_CHANGED, ""),
        "conversation_events": (EVENT_CHANGED, f"WHEN new.kind IN {EVENT_KINDS} "),
        "csat_surveys": (SURVEY_CHANGED, ""),
        "conversation_labels": (LABEL_CHANGED, ""),
    }[table]
    return [
        f"CREATE TRIGGER {name}_ai AFTER INSERT ON {table} {kinds}BEGIN {mark_new} END",
        f"CREATE TRIGGER {name}_au AFTER UPDATE ON {table} WHEN {changed} BEGIN {both} END",
        f"CREATE TRIGGER {name}_ad AFTER DELETE ON {table} "
        f"{kinds.replace('new.', 'old.')}BEGIN {mark_old} END",
    ]


PG_FUNCTIONS = [
    """CREATE FUNCTION report_mark(conversation bigint) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_versions (conversation_id, version, built) VALUES (conversation, 1, 0)
    ON CONFLICT (conversation_id) DO UPDATE SET version = report_versions.version + 1
    $$""",
    # For the tables with a conversation_id column.
    """CREATE FUNCTION report_mark_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'DELETE' THEN PERFORM report_mark(NEW.conversation_id); END IF;
        IF TG_OP <> 'INSERT' THEN PERFORM report_mark(OLD.conversation_id); END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION report_mark_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM report_mark(NEW.id); RETURN NULL; END $$""",
    """CREATE FUNCTION report_mark_all() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE report_versions SET version = version + 1; RETURN NULL; END $$""",
]


def pg_triggers(table: str) -> list[str]:
    """The CREATE TRIGGER statements of ``table`` on PostgreSQL."""
    name = f"report_mark_{table}"
    each = "FOR EACH ROW"
    if table == "conversations":
        return [
            f"CREATE TRIGGER {name}_ai AFTER INSERT ON conversations {each} "
            "EXECUTE FUNCTION report_mark_conversation()",
            f"CREATE TRIGGER {name}_au AFTER UPDATE ON conversations {each} "
            f"WHEN ({_pg(CONVERSATION_CHANGED)}) EXECUTE FUNCTION report_mark_conversation()",
        ]
    if table == "business_hours":
        return [
            f"CREATE TRIGGER {name}_ai AFTER INSERT ON business_hours {each} "
            "WHEN (new.scope = 'workspace') EXECUTE FUNCTION report_mark_all()",
            f"CREATE TRIGGER {name}_au AFTER UPDATE ON business_hours {each} "
            "WHEN (new.scope = 'workspace' OR old.scope = 'workspace') "
            "EXECUTE FUNCTION report_mark_all()",
            f"CREATE TRIGGER {name}_ad AFTER DELETE ON business_hours {each} "
            "WHEN (old.scope = 'workspace') EXECUTE FUNCTION report_mark_all()",
        ]
    changed, kinds = {
        "messages": (MESSAGE_CHANGED, ""),
        "conversation_events": (EVENT_CHANGED, f"WHEN (new.kind IN {EVENT_KINDS}) "),
        "csat_surveys": (SURVEY_CHANGED, ""),
        "conversation_labels": (LABEL_CHANGED, ""),
    }[table]
    return [
        f"CREATE TRIGGER {name}_ai AFTER INSERT ON {table} {each} {kinds}"
        "EXECUTE FUNCTION report_mark_row()",
        f"CREATE TRIGGER {name}_au AFTER UPDATE ON {table} {each} WHEN ({_pg(changed)}) "
        "EXECUTE FUNCTION report_mark_row()",
        f"CREATE TRIGGER {name}_ad AFTER DELETE ON {table} {each} "
        f"{kinds.replace('new.', 'old.')}EXECUTE FUNCTION report_mark_row()",
    ]


TABLES = (
    "messages",
    "conversation_events",
    "csat_surveys",
    "conversations",
    "business_hours",
    "conversation_labels",
)


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("conversation_id", Id, autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("built", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_report_versions")),
    )
    op.create_index(
        "ix_report_versions_stale",
        "report_versions",
        ["conversation_id"],
        sqlite_where=sa.text("version > built"),
        postgresql_where=sa.text("version > built"),
    )
    op.create_table(
        "report_facts",
        sa.Column("id", Id, nullable=False),
        sa.Column("conversation_id", Id, nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("at", hub.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=True),
        sa.Column("team_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("open_value", sa.Float(), nullable=True),
        sa.Column("tag", sa.String(length=50), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("labels", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_facts_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_facts")),
    )
    op.create_index(
        "ix_report_facts_metric_at",
        "report_facts",
        [
            "metric",
            "at",
            "value",
            "open_value",
            "agent_id",
            "team_id",
            "channel_id",
            "conversation_id",
        ],
    )
    op.create_index("ix_report_facts_agent_at", "report_facts", ["agent_id", "at"])
    op.create_index("ix_report_facts_conversation_id", "report_facts", ["conversation_id"])
    op.create_table(
        "report_counts",
        sa.Column("id", Id, nullable=False),
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("hour", sa.SmallInteger(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_counts")),
        sa.UniqueConstraint(
            "grain",
            "day",
            "key",
            "metric",
            "hour",
            "tag",
            "rating",
            name=op.f("uq_report_counts_grain_day_key_metric_hour_tag_rating"),
        ),
    )
    if op.get_bind().dialect.name == "sqlite":
        statements = [s for table in TABLES for s in sqlite_triggers(table)]
    else:
        statements = PG_FUNCTIONS + [s for table in TABLES for s in pg_triggers(table)]
    for statement in statements:
        op.execute(statement)
    op.execute(
        "INSERT INTO report_versions (conversation_id, version, built) "
        "SELECT id, 1, 0 FROM conversations"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in TABLES:
        for suffix in ("ai", "au", "ad"):
            on = "" if sqlite else f" ON {table}"
            op.execute(f"DROP TRIGGER IF EXISTS report_mark_{table}_{suffix}{on}")
    if not sqlite:
        for function in ("report_mark_all()", "report_mark_conversation()", "report_mark_row()"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.execute("DROP FUNCTION IF EXISTS report_mark(bigint)")
    op.drop_table("report_counts")
    op.drop_index("ix_report_facts_conversation_id", table_name="report_facts")
    op.drop_index("ix_report_facts_agent_at", table_name="report_facts")
    op.drop_index("ix_report_facts_metric_at", table_name="report_facts")
    op.drop_table("report_facts")
    op.drop_index("ix_report_versions_stale", table_name="report_versions")
    op.drop_table("report_versions")
