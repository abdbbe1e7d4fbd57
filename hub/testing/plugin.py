"""The hub's pytest plugin: a real hub in-process, on a temporary SQLite, for plugin tests.

Registered through the ``pytest11`` entry point, so it loads in every pytest run where
the hub is installed, the hub's own suite included. Hence every fixture name starts
with ``hub_`` (no clash with a project's own ``client`` or ``settings``), and loading it
costs nothing: the hub is imported and an app built only when a test asks for one.

Fixtures, each building on the one before:

- ``hub_database_url``: an empty, migrated SQLite database (override it to use another);
- ``hub_settings``: ``Settings`` with a temporary data folder and that database;
- ``hub_plugins``: extra plugins to load besides the installed entry points (default
  none): plugin modules or objects with hookimpls, or ``ChannelType`` / ``CrmType``
  classes; override it in a test module or class;
- ``hub_plugin_manager``, ``hub_app`` (not started) and ``hub_client`` (started);
- ``hub_admin``: an owner user and the API token headers authenticating as it;
- ``hub_api``: a ``HubApi`` driving the app as that admin;
- ``hub_channel``: a factory creating a channel through ``POST /api/v1/channels``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

F = TypeVar("F", bound=Callable[..., Any])


def async_fixture(function: F) -> F:
    """Mark an async fixture for pytest-asyncio, in its strict mode as in auto mode."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - without it, async fixtures error when used
        return cast(F, pytest.fixture(function))
    return cast(F, pytest_asyncio.fixture(function))


if TYPE_CHECKING:
    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from hub.plugin_manager import HubPluginManager
    from hub.settings import Settings
    from hub.testing.harness import CreatedChannel, HubAdmin, HubApi

TEST_SECRET_KEY = "hub-testing-secret-key-" + "k" * 24
TEST_PUBLIC_URL = "https://hub.example.test"


class PluginUnderTestBroken(Exception):
    """A plugin given through ``hub_plugins`` failed the hub's validation."""


async def _migrate(url: str) -> None:
    from hub.store import migrate
    from hub.store.engine import create_engine

    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def hub_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, made once a session and copied for each test."""
    path = tmp_path_factory.mktemp("hub-template") / "hub.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
def hub_database_url(tmp_path: Path, hub_sqlite_template: Path) -> str:
    """The URL of an empty, migrated database of this test (SQLite unless overridden)."""
    path = tmp_path / "hub-data" / "hub.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(hub_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def hub_settings(tmp_path: Path, hub_database_url: str) -> Settings:
    """Settings of the hub under test: a temporary data folder and database."""
    from hub.settings import Settings

    return Settings(
        data_dir=tmp_path / "hub-data",
        database_url=hub_database_url,
        secret_key=TEST_SECRET_KEY,
        public_url=TEST_PUBLIC_URL,
        cookie_secure=False,
        counts_cache_seconds=0,
    )


@pytest.fixture
def hub_plugins() -> Sequence[object]:
    """Plugins to load besides the installed ones; override to add yours.

    Items may be plugin modules (or objects) with ``@hookimpl`` functions, or
    ``ChannelType`` / ``CrmType`` subclasses. A class given here wins over an installed
    type of the same name.
    """
    return ()


@pytest.fixture
def hub_plugin_manager(hub_plugins: Sequence[object]) -> HubPluginManager:
    """Every installed plugin plus ``hub_plugins``; fails if one of those is broken."""
    return build_plugin_manager(hub_plugins)


def build_plugin_manager(extra: Sequence[object]) -> HubPluginManager:
    """Load the installed plugins, then register ``extra`` as ``hub_plugins`` describes."""
    from hub.contract import ChannelType, CrmType
    from hub.plugin_manager import PluginInfo, load_plugins

    manager = load_plugins()
    for index, item in enumerate(extra):
        if isinstance(item, type) and issubclass(item, ChannelType | CrmType):
            registry: dict[str, Any] = (
                manager.channel_types if issubclass(item, ChannelType) else manager.crm_types
            )
            if registry.get(item.name) is item:
                continue  # already installed: the same class, nothing to do
            registry.pop(item.name, None)
            plugin: object = _types_plugin(item)
            name = f"under-test:{item.name}"
        else:
            plugin = item
            name = f"under-test:{getattr(item, '__name__', type(item).__name__)}:{index}"
        info = PluginInfo(name=name, distribution="(under test)", version="0")
        manager.register(plugin, info)
        if info.status != "ok":
            raise PluginUnderTestBroken(f"{name} is broken: {info.error}")
    return manager


def _types_plugin(type_class: type[Any]) -> object:
    """A plugin object registering one type class given directly to ``hub_plugins``."""
    from hub.contract import ChannelType, hookimpl

    is_channel = issubclass(type_class, ChannelType)

    @hookimpl
    def hub_register_channel_types() -> list[type[Any]]:
        return [type_class] if is_channel else []

    @hookimpl
    def hub_register_crm_types() -> list[type[Any]]:
        return [] if is_channel else [type_class]

    return SimpleNamespace(
        hub_register_channel_types=hub_register_channel_types,
        hub_register_crm_types=hub_register_crm_types,
    )


@pytest.fixture
def hub_app(hub_settings: Settings, hub_plugin_manager: HubPluginManager) -> web.Application:
    """The real application (``create_app``) with those plugins; not started yet."""
    from hub.app import create_app

    return create_app(hub_settings, plugins=hub_plugin_manager)


@async_fixture
async def hub_client(hub_app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    """A test client of the started app; the app is cleaned up after the test."""
    from aiohttp.test_utils import TestClient, TestServer

    client: TestClient[Any, Any] = TestClient(TestServer(hub_app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@async_fixture
async def hub_admin(hub_client: TestClient[Any, Any]) -> HubAdmin:
    """An owner user of the hub under test, with an API token."""
    from hub import appkeys
    from hub.auth.accounts import NewUser, create_user
    from hub.auth.api_tokens import create_token
    from hub.auth.passwords import generate_password
    from hub.testing.harness import HubAdmin

    data = NewUser(
        email="owner@example.com",
        name="Hub Owner",
        role="owner",
        password=generate_password(),
    )
    async with hub_client.app[appkeys.SESSIONS]() as db:
        user = await create_user(db, data)
        token, _ = await create_token(db, user, "hub.testing")
        await db.commit()
        return HubAdmin(
            user_id=user.id, email=user.email, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture
def hub_api(hub_client: TestClient[Any, Any], hub_admin: HubAdmin) -> HubApi:
    """The hub under test driven through its API as the owner."""
    from hub.testing.harness import HubApi

    return HubApi(hub_client, hub_admin)


@pytest.fixture
def hub_channel(hub_api: HubApi) -> Callable[..., Awaitable[CreatedChannel]]:
    """``await hub_channel(type, config, name=…)``: create a channel, fail unless 201."""
    return hub_api.create_channel
