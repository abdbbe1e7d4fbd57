"""The ``hub`` command: serve, migrate, plugins, users and tokens.

Imports beyond click and the standard library are made inside the commands that need
them: ``hub --help`` or ``hub plugins list`` would otherwise load the web stack,
SQLAlchemy's asyncio layer, Alembic and httpx first (about a second; docs/performance.md,
issue 18).
"""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from hub.demo.seed import DemoWorkspace
    from hub.settings import Settings

log = logging.getLogger("hub")
T = TypeVar("T")


def _settings(**overrides: Any) -> Settings:
    from hub.logs import configure_logging
    from hub.settings import SettingsError, load_settings

    try:
        settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as err:
        raise click.ClickException(str(err)) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _run(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run ``work`` on a ready database: SQLite is migrated on the spot, PostgreSQL must be."""
    import asyncio

    from hub.settings import ensure_data_dir
    from hub.store import migrate
    from hub.store.engine import create_engine

    async def main() -> T:
        engine = create_engine(settings.effective_database_url)
        try:
            if settings.is_sqlite:
                ensure_data_dir(settings)
                await migrate.upgrade(engine)
            elif not await migrate.is_current(engine):
                raise click.ClickException("the database is not migrated: run `hub migrate` first")
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Inbox Hub: one shared inbox for WhatsApp, Telegram, email and custom channels."""
    # No cyclic garbage collection while a command runs: a command is mostly imports,
    # whose hundreds of collections find next to nothing to free (a tenth of the CPU of
    # `hub plugins list` or `hub migrate`, an eighth of a start's; issue 18). `hub serve`
    # turns it back on once it serves (hub.serving.freeze_startup_heap), every command at its end.
    gc.disable()
    ctx.call_on_close(gc.enable)


@main.command()
@click.option("--host", help="Address to listen on (default: HUB_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: HUB_PORT or 8080).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Hub processes sharing the port (more than 1 needs PostgreSQL and the Redis bus).",
)
@click.option("--supervisor-pid", type=int, hidden=True)
def serve(host: str | None, port: int | None, workers: int, supervisor_pid: int | None) -> None:
    """Start the hub. On the embedded SQLite it migrates the database first."""
    from hub.store.native_memory import limit_malloc_arenas

    limit_malloc_arenas()  # before any driver thread starts: docs/decisions.md
    settings = _settings(host=host, port=port)
    from hub.supervisor import refusal

    refused = refusal(settings, workers)
    if refused:
        raise click.ClickException(refused)
    supervised = supervisor_pid is not None
    if not supervised:  # a supervised worker's parent has prepared the database
        _run(settings, _prepare_to_serve(settings))
    if workers > 1:
        from hub.supervisor import Supervisor, worker_command

        gc.enable()  # the supervisor never serves: its workers each start their own hub
        log.info("Inbox Hub: %d workers on http://%s:%s", workers, settings.host, settings.port)
        command = worker_command(settings.host, settings.port)
        status = Supervisor(command, workers, settings.shutdown_timeout).run()
        log.info("Inbox Hub stopped")
        sys.exit(status)
    from hub.serving import serve_one

    if supervisor_pid is not None:
        from hub.supervisor import follow_supervisor

        follow_supervisor(supervisor_pid)
    serve_one(settings, reuse_port=supervised)


def _prepare_to_serve(settings: Settings) -> Callable[[AsyncEngine], Awaitable[None]]:
    """Print the owner's setup link while the hub has no users (a new link each start)."""

    async def prepare(engine: AsyncEngine) -> None:
        from hub.auth.setup import issue_setup_token
        from hub.store.engine import create_sessionmaker

        async with create_sessionmaker(engine)() as db:
            token = await issue_setup_token(db)
        if token:
            click.echo(
                f"No users yet. Create the owner account at: {settings.base_url}/setup?token={token}"
            )

    return prepare


@main.command(name="migrate")
def migrate_command() -> None:
    """Bring the database schema up to date."""
    import asyncio

    from hub.settings import ensure_data_dir
    from hub.store import migrate
    from hub.store.engine import create_engine

    settings = _settings()

    async def upgrade() -> str | None:
        engine = create_engine(settings.effective_database_url)
        try:
            await migrate.upgrade(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    if settings.is_sqlite:
        ensure_data_dir(settings)
    click.echo(f"database at revision {asyncio.run(upgrade())}")


@main.group()
def plugins() -> None:
    """Installed channel and CRM plugins."""


@plugins.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_list(as_json: bool) -> None:
    """Show each plugin: name, kind, version, distribution, status (and error)."""
    from hub.plugin_manager import load_plugins

    settings = _settings()
    manager = load_plugins(
        autoload=not settings.disable_plugin_autoload,
        allow=settings.plugins_allow,
        blocked=settings.plugins_blocked,
    )
    rows = [
        {
            "name": p.name,
            "kind": p.kind,
            "version": p.version,
            "distribution": p.distribution,
            "status": p.status,
            "types": p.channel_types + p.crm_types,
            "not_available": manager.not_available(p),
            "error": p.error,
        }
        for p in manager.plugins.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = ("NAME", "KIND", "VERSION", "DISTRIBUTION", "STATUS", "NOTE")
    table = [header] + [
        (r["name"], r["kind"], r["version"], r["distribution"], r["status"], _note(r)) for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        click.echo(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
    for r in rows:
        if r["error"]:
            click.echo(f"{r['name']}: {r['error']}", err=True)


def _note(row: dict[str, Any]) -> str:
    """What the table says of a plugin whose types are not built yet: all, or which."""
    missing, provided = row["not_available"], row["types"]
    if not missing:
        return ""
    if missing == provided:
        return "not available yet"
    return "not available yet: " + ", ".join(missing)


@main.group()
def plugin() -> None:
    """Develop plugins: scaffold a new one."""


@plugin.command(name="new")
@click.argument("name")
@click.option(
    "--kind", type=click.Choice(["channel", "crm"]), required=True, help="What it provides."
)
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Folder to create the plugin's folder (hub-NAME) in.",
)
def plugin_new(name: str, kind: str, dest: Path) -> None:
    """Scaffold plugin NAME: a distribution with its entry point, Config and tests."""
    from hub.scaffold.generate import ScaffoldError, scaffold

    try:
        root = scaffold(name, "channel" if kind == "channel" else "crm", dest)
    except ScaffoldError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created {root}")
    click.echo(f"next: cd {root} && pip install -e '.[test]' && pytest")


@main.group()
def user() -> None:
    """Manage users."""


@user.command(name="create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", type=click.Choice(["owner", "manager", "agent"]), default="agent", show_default=True
)
@click.option(
    "--visibility", type=click.Choice(["all", "team", "assigned"]), default="all", show_default=True
)
def user_create(email: str, name: str, role: str, visibility: str) -> None:
    """Create a user. A password piped on stdin is used; otherwise one is generated and printed."""
    from pydantic import ValidationError

    from hub.api.bodies import validation_details
    from hub.auth.accounts import NewUser, create_user
    from hub.auth.passwords import generate_password
    from hub.errors import HubError
    from hub.store.engine import create_sessionmaker

    given = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read().strip()
    password = given or generate_password()
    try:
        data = NewUser.model_validate(
            {
                "email": email,
                "name": name,
                "role": role,
                "visibility": visibility,
                "password": password,
            }
        )
    except ValidationError as err:
        problem = validation_details(err)[0]
        raise click.ClickException(f"{problem['field']}: {problem['message']}") from None
    settings = _settings()

    async def create(engine: AsyncEngine) -> None:
        async with create_sessionmaker(engine)() as db:
            try:
                await create_user(db, data)
            except HubError as err:
                raise click.ClickException(err.message) from None
            await db.commit()

    _run(settings, create)
    click.echo(f"created {role} {data.email}")
    if not given:
        click.echo(f"password: {password}")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command(name="create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the token by.")
def token_create(email: str, name: str) -> None:
    """Create an API token and print only the token, for scripts to capture."""
    from hub.auth.accounts import find_user_by_email
    from hub.auth.api_tokens import create_token
    from hub.store.engine import create_sessionmaker

    settings = _settings()

    async def create(engine: AsyncEngine) -> str:
        async with create_sessionmaker(engine)() as db:
            found = await find_user_by_email(db, email)
            if found is None or not found.is_active:
                raise click.ClickException(f"no active user with email {email}")
            plaintext, _ = await create_token(db, found, name)
            await db.commit()
            return plaintext

    click.echo(_run(settings, create))


@main.command()
@click.option("--force", is_flag=True, help="Add the demo even though the hub is not empty.")
def demo(force: bool) -> None:
    """Fill an empty hub with a demo workspace: people in two teams, two chat channels
    answered by a built-in loopback customer, and conversations in every state."""
    gc.enable()  # the seeding runs the whole app for a while: collect as it goes
    from aiohttp import web

    from hub.app import create_app
    from hub.demo.seed import HubNotEmpty, seed_demo
    from hub.errors import HubError

    settings = _settings()

    async def fill(engine: AsyncEngine) -> DemoWorkspace:
        # The hub's own services (plugins, pipes, media), without serving anything.
        runner = web.AppRunner(create_app(settings))
        await runner.setup()
        try:
            return await seed_demo(runner.app, force=force)
        except HubNotEmpty as err:
            raise click.ClickException(str(err)) from None
        except HubError as err:
            raise click.ClickException(err.message) from None
        finally:
            await runner.cleanup()

    made = _run(settings, fill)
    click.echo(f"Demo ready: {made.channels} channels, {made.conversations} conversations.")
    click.echo(f"Start the hub (make run) and log in at {settings.base_url}/login as:")
    for login in made.logins:
        team = f", {login.team}" if login.team else ""
        click.echo(f"  {login.email:<22} {login.name} ({login.role}{team})")
    click.echo(f"password (every demo user): {made.password}")
    click.echo("Replies to the demo customers are answered by a loopback service a moment later.")
