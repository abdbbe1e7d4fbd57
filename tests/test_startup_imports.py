"""Starting the hub does not load Alembic: the start checks the schema's revision by
reading the migration scripts and the version table (hub.store.migrate, issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from hub.store import migrate
from hub.store.engine import create_engine


def loaded_after(code: str) -> set[str]:
    """The modules loaded once ``code`` has run in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_importing_the_app_does_not_load_alembic() -> None:
    loaded = loaded_after("import hub.app")
    assert "hub.app" in loaded
    assert not {m for m in loaded if m == "alembic" or m.startswith(("alembic.", "mako"))}


def test_a_start_on_a_migrated_database_does_not_load_alembic(sqlite_template: Path) -> None:
    code = (
        "import asyncio\n"
        "from hub.store import migrate\n"
        "from hub.store.engine import create_engine\n"
        "async def main():\n"
        f"    engine = create_engine('sqlite+aiosqlite:///{sqlite_template}')\n"
        "    await migrate.upgrade(engine)\n"
        "    assert await migrate.is_current(engine)\n"
        "    await engine.dispose()\n"
        "asyncio.run(main())\n"
    )
    assert "alembic" not in loaded_after(code)


def test_the_head_read_from_the_scripts_is_alembics() -> None:
    assert migrate.read_head() == migrate.alembic_head()
    assert migrate.head_revision() == migrate.alembic_head()


def test_scripts_that_do_not_read_plainly_leave_the_head_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "0001_a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    assert migrate.read_head(tmp_path) == "b"
    # Two heads (a branch): not for this reader to choose.
    (tmp_path / "0003_c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    assert migrate.read_head(tmp_path) is None
    # A merge names its parents as a tuple: unread, Alembic decides.
    (tmp_path / "0004_d.py").write_text('revision = "d"\ndown_revision = ("b", "c")\n')
    assert migrate.read_head(tmp_path) is None


async def test_the_revision_is_read_as_alembic_reads_it(db_url: str) -> None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(db_url)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as conn:
            by_alembic = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
            assert by_alembic == migrate.head_revision()
            await conn.execute(text("DELETE FROM alembic_version"))
            await conn.commit()
        assert await migrate.current_revision(engine) is None
        async with engine.connect() as conn:
            await conn.execute(text("DROP TABLE alembic_version"))
            await conn.commit()
        assert await migrate.current_revision(engine) is None
        assert await migrate.is_current(engine) is False
    finally:
        # The PostgreSQL database serves the whole run: put the version back.
        async with engine.connect() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"
                )
            )
            await conn.execute(text("DELETE FROM alembic_version"))
            await conn.execute(
                text("INSERT INTO alembic_version VALUES (:head)"),
                {"head": migrate.head_revision()},
            )
            await conn.commit()
        await engine.dispose()
