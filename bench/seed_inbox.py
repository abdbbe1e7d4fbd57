"""Seed an inbox database fast: users, teams, contacts, conversations, messages.

Used by ``inbox_views.py``; bulk core inserts in large batches (``COPY`` on PostgreSQL).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_support import SECRET  # type: ignore[import-not-found]
from sqlalchemy import JSON, Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.auth.api_tokens import create_token
from hub.store.crypto import ConfigCipher
from hub.store.engine import create_sessionmaker
from hub.store.models import Base, CustomInbox, ReportVersion, User

BATCH = 50_000
NOW = datetime.now(UTC).replace(microsecond=0)
VOCABULARY = (
    "order invoice refund delivery parcel tracking address payment card account password "
    "login subscription cancel upgrade price discount coupon warranty repair replace broken "
    "size colour return label courier delay tomorrow today monday friday thanks please hello "
    "question problem help support urgent waiting still again when where why how can could "
    "would the a an and or not is are was my your our this that it with for from to in on at"
)
WORDS = VOCABULARY.split()


@dataclass(frozen=True)
class Shape:
    """How much to seed."""

    conversations: int
    messages: int
    agents: int
    teams: int
    seed: int


# --- rows ----------------------------------------------------------------------------


def _sentence(rnd: random.Random) -> str:
    return " ".join(rnd.choices(WORDS, k=rnd.randint(4, 24))).capitalize() + "."


def _people(shape: Shape) -> dict[str, list[dict[str, Any]]]:
    """Teams, agents (1: a manager, 2: restricted to team, 3: to assigned) and channels."""
    users = []
    for i in range(1, shape.agents + 1):
        role, visibility = {
            1: ("manager", "all"),
            2: ("agent", "team"),
            3: ("agent", "assigned"),
        }.get(i, ("agent", "all"))
        users.append(
            {"id": i, "email": f"agent{i}@bench.test", "name": f"Agent {i}", "role": role}
            | {"visibility": visibility, "is_active": True, "available": True}
            | {"created_at": NOW, "updated_at": NOW}
        )
    teams = [
        {"id": t, "name": f"Team {t}", "created_at": NOW, "updated_at": NOW}
        for t in range(1, shape.teams + 1)
    ]
    memberships = [{"team_id": team_of(i, shape), "user_id": i} for i in range(1, shape.agents + 1)]
    cipher = ConfigCipher(SECRET)
    channels = [
        {"id": c, "type": kind, "name": kind.title(), "config_encrypted": cipher.encrypt({})}
        | {"enabled": True, "status": "ok", "routing": {}, "settings": {}}
        | {"created_at": NOW, "updated_at": NOW}
        for c, kind in enumerate(("whatsapp", "telegram", "email", "custom_channel"), start=1)
    ]
    return {"users": users, "teams": teams, "team_memberships": memberships, "channels": channels}


def team_of(agent: int, shape: Shape) -> int:
    return (agent - 1) % shape.teams + 1


def _contacts(shape: Shape) -> Iterator[dict[str, Any]]:
    for i in range(1, _contact_count(shape) + 1):
        yield {
            "id": i,
            "name": f"Customer {i}",
            "email": f"customer{i}@example{i % 97}.com",
            "phone": f"+4915{i:09d}",
            # One contact in 500 is blocked.
            "blocked": i % 500 == 0,
            "fields": {},
            "created_at": NOW,
            "updated_at": NOW,
        }


def _contact_count(shape: Shape) -> int:
    return max(1, shape.conversations * 4 // 5)


def _conversations(shape: Shape, rnd: random.Random) -> Iterator[dict[str, Any]]:
    contacts = _contact_count(shape)
    for i in range(1, shape.conversations + 1):
        contact = i if i <= contacts else rnd.randint(1, contacts)
        last = NOW - timedelta(seconds=rnd.randint(0, 90 * 86400))
        opened = last - timedelta(seconds=rnd.randint(0, 10 * 86400))
        roll = rnd.random()
        status = "open" if roll < 0.6 else "closed" if roll < 0.9 else "snoozed"
        assignee = rnd.randint(1, shape.agents) if rnd.random() < 0.7 else None
        if assignee is not None:
            team = team_of(assignee, shape) if rnd.random() < 0.8 else None
        else:
            team = rnd.randint(1, shape.teams) if rnd.random() < 0.4 else None
        direction = "in" if rnd.random() < 0.35 else "out"
        unread = rnd.randint(1, 5) if direction == "in" and rnd.random() < 0.5 else 0
        changed = opened if status == "open" else last + timedelta(minutes=5)
        yield {
            "id": i,
            "contact_id": contact,
            "channel_id": rnd.randint(1, 4),
            "status": status,
            "assignee_id": assignee,
            "team_id": team,
            "opened_at": opened,
            "status_changed_at": changed,
            "contact_blocked": contact % 500 == 0,
            "closed_at": changed if status == "closed" else None,
            "snoozed_until": NOW + timedelta(days=rnd.randint(1, 7))
            if status == "snoozed"
            else None,
            "last_message_at": last,
            "last_inbound_at": last if direction == "in" else opened,
            "last_message_direction": direction,
            "unread_count": unread,
            "created_at": opened,
            "updated_at": last,
        }


def _messages(
    shape: Shape, conversations: Sequence[dict[str, Any]], rnd: random.Random
) -> Iterator[dict[str, Any]]:
    """Every conversation has at least one message; the rest are spread at random."""
    counts = [1] * len(conversations)
    for _ in range(max(0, shape.messages - len(conversations))):
        counts[rnd.randrange(len(conversations))] += 1
    message_id = 0
    for conv, count in zip(conversations, counts, strict=True):
        span = (conv["last_message_at"] - conv["opened_at"]) / count
        for k in range(count):
            message_id += 1
            last = k == count - 1
            direction = conv["last_message_direction"] if last else rnd.choice(("in", "out"))
            yield {
                "id": message_id,
                "conversation_id": conv["id"],
                "channel_id": conv["channel_id"],
                "direction": direction,
                "external_id": f"m{message_id}",
                "text": _sentence(rnd),
                "parts": [],
                "status": "received" if direction == "in" else "delivered",
                "edit_history": [],
                "created_at": conv["opened_at"] + span * (k + 1),
            }


# --- seeding -------------------------------------------------------------------------


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def _insert(conn: AsyncConnection, name: str, rows: Iterator[dict[str, Any]]) -> None:
    table: Table = Base.metadata.tables[name]
    if conn.dialect.name != "postgresql":
        for batch in _batches(rows):
            await conn.execute(table.insert(), batch)
        return
    # COPY is several times faster than INSERT for large tables.
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    for batch in _batches(rows):
        filled = [_with_defaults(table, row) for row in batch]
        columns = list(filled[0])
        records = [
            tuple(_json(row[c]) if c in json_columns else row[c] for c in columns) for row in filled
        ]
        await driver.copy_records_to_table(name, records=records, columns=columns)


def _with_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The row with the model's Python-side defaults for the columns it lacks, as
    ``table.insert()`` would add them; columns with neither are left out of the COPY, so
    the server's default (or NULL) applies instead of an explicit NULL."""
    full: dict[str, Any] = {}
    for column in table.columns:
        if column.name in row:
            full[column.name] = row[column.name]
        elif column.default is not None and column.default.is_scalar:
            full[column.name] = column.default.arg  # type: ignore[attr-defined]
        elif column.default is not None and column.default.is_callable:
            # SQLAlchemy wraps a no-argument default to take the execution context.
            full[column.name] = column.default.arg(None)  # type: ignore[attr-defined]
    return full


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


async def seed(engine: AsyncEngine, shape: Shape) -> None:
    """Fill the database."""
    rnd = random.Random(shape.seed)
    async with engine.begin() as conn:
        for name, rows in _people(shape).items():
            await _insert(conn, name, iter(rows))
        await _insert(conn, "contacts", _contacts(shape))
        conversations = list(_conversations(shape, rnd))
        await _insert(conn, "conversations", iter(conversations))
    async with engine.begin() as conn:
        await _insert(conn, "messages", _messages(shape, conversations, rnd))
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for name in ("users", "teams", "channels", "contacts", "conversations", "messages"):
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {_max_id(name)})")
                )
    sessions = create_sessionmaker(engine)
    async with sessions() as db:
        db.add_all(
            [
                CustomInbox(
                    owner_id=1,
                    name="Unanswered WhatsApp and email",
                    filters={"channel_ids": [1, 3], "unanswered": True},
                ),
                CustomInbox(
                    owner_id=1,
                    name="Example 7 customers",
                    filters={
                        "contact": [{"field": "email", "op": "contains", "value": "@example7."}]
                    },
                ),
            ]
        )
        await db.commit()
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after bulk inserts: planner statistics, and the
        # visibility map that lets counts be answered from an index alone.
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))


async def mark_reports_built(engine: AsyncEngine) -> None:
    """Mark every conversation's report facts built, without building them.

    Seeded rows pass the database's triggers, so every seeded conversation starts stale,
    and the hub's background build would catch up on all of them during the whole
    measurement (an upgrade's one-off cost, which ``reports.py`` measures). The inbox
    benches measure the steady state instead, where only what changes during the run is
    built. Reports over the seeded data read as empty afterwards."""
    async with engine.begin() as conn:
        await conn.execute(update(ReportVersion).values(built=ReportVersion.version))


async def issue_tokens(engine: AsyncEngine) -> dict[str, str]:
    """An API token for each measured user."""
    tokens: dict[str, str] = {}
    async with create_sessionmaker(engine)() as db:
        for key, user_id in (("manager", 1), ("team agent", 2), ("assigned agent", 3)):
            user = await db.get(User, user_id)
            if user is None:
                raise SystemExit("not a bench database: user 1, 2 or 3 is missing")
            tokens[key], _ = await create_token(db, user, "bench")
        await db.commit()
    return tokens


def _max_id(name: str) -> str:
    return f"(SELECT coalesce(max(id), 1) FROM {name})"


async def database_size(engine: AsyncEngine) -> int:
    """Bytes on disk: the SQLite file with its WAL, or PostgreSQL's database size."""
    if engine.dialect.name == "sqlite":
        sqlite_file = Path(engine.url.database or "")
        async with engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return sum(
            p.stat().st_size for p in sqlite_file.parent.glob(sqlite_file.name + "*") if p.is_file()
        )
    async with engine.connect() as conn:
        size = await conn.scalar(select(func.pg_database_size(func.current_database())))
    return int(size or 0)


async def engine_version(engine: AsyncEngine) -> str:
    """The database engine's version, for the record."""
    sql = "SELECT sqlite_version()" if engine.dialect.name == "sqlite" else "SHOW server_version"
    async with engine.connect() as conn:
        return str(await conn.scalar(text(sql)))
