"""Alembic environment: runs on a connection handed in by ``hub.store.migrate``,
or, from the ``alembic`` command line, on the database of the ``HUB_*`` settings."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from hub.store.migrate import include_name
from hub.store.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    from hub.settings import load_settings
    from hub.store.engine import create_engine

    engine = create_engine(load_settings().effective_database_url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `hub migrate`")

given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_from_settings())
