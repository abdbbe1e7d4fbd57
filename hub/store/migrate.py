"""Run and check Alembic migrations from async code.

Alembic is imported only to migrate. Checking that a database is at the head, which
every start does, reads the versions folder's ``revision`` / ``down_revision`` lines and
the ``alembic_version`` table directly: loading Alembic and its script directory cost
about 0.1-0.2 s of each start (docs/performance.md, issue 18). Should the folder hold
something that reading cannot follow (a merge, an unusual spelling), Alembic answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
log = logging.getLogger(__name__)
_REVISION = re.compile(r'^revision(?::\s*str)?\s*=\s*"([^"]+)"\s*$', re.MULTILINE)
_DOWN = re.compile(r'^down_revision(?::[^=]+)?\s*=\s*(?:"([^"]+)"|None)\s*$', re.MULTILINE)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Whether autogenerate compares this object: not the full-text search ones (FTS5
    tables and triggers, GIN expression indexes), which migrations make by hand."""
    return not (name and "_fts" in name)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the bundled migrations, optionally bound to a connection."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str | None:
    """The newest migration revision shipped with this hub."""
    return read_head() or alembic_head()


def alembic_head() -> str | None:
    """The head as Alembic finds it, loading every migration script."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def read_head(folder: Path = MIGRATIONS / "versions") -> str | None:
    """The one revision no other script names as its ``down_revision``, read from the
    scripts' text; ``None`` when a script does not read plainly or there is not exactly
    one head (Alembic then decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in folder.glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.findall(source), _DOWN.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        if down[0]:
            parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest)."""
    before = await current_revision(engine)
    if revision == "head" and before is not None and before == head_revision():
        return  # at the head already: no need to load Alembic
    from alembic import command

    await _run_alembic(engine, lambda config: command.upgrade(config, revision))
    after = await current_revision(engine)
    if after != before:
        log.info("database migrated from %s to %s", before or "empty", after)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Migrate the database down to ``revision`` (for development and tests)."""
    from alembic import command

    await _run_alembic(engine, lambda config: command.downgrade(config, revision))


async def _run_alembic(engine: AsyncEngine, step: Callable[[Config], None]) -> None:
    async with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # When a migration must rebuild a SQLite table (batch mode), dropping the old
            # table would cascade to every child row. Foreign keys are off for the run
            # (the pragma only works outside a transaction) and checked at the end.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            await conn.run_sync(lambda sync: step(alembic_config(sync)))
            if sqlite:
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
            await conn.commit()
        finally:
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; ``None`` on an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_read_revision)


def _read_revision(conn: Connection) -> str | None:
    """What Alembic's ``get_current_revision`` answers, read without Alembic."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608
    if len(rows) > 1:
        # Several heads at once: Alembic's own error says what to do.
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()
    return rows[0] if rows else None


async def is_current(engine: AsyncEngine) -> bool:
    """Whether the database has every migration this hub ships."""
    return await current_revision(engine) == head_revision()
