"""A real hub on localhost for browser tests, run beside Playwright's sync API.

Playwright's sync API owns the test's main thread, so the hub (and any fake provider a
test needs) runs on an asyncio loop in a background thread; tests hand it coroutines
with ``run``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.auth.accounts import NewUser, create_user
from hub.auth.setup import issue_setup_token
from hub.auth.visibility import Viewer
from hub.channels.admin import ChannelAdmin, NewChannel, SavedChannel
from hub.settings import Settings
from hub.store.models import User
from hub.testing.webhooks import signed_headers
from tests.conftest import PASSWORD

T = TypeVar("T")


class BackgroundLoop:
    """An asyncio loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Poll ``check`` until it holds (for state outside the page, which ``expect`` cannot
    wait on); fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.1)


def bound_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port (so the URL is known up front)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class LiveServer:
    """An aiohttp app served on a loopback port from the background loop."""

    def __init__(self, loop: BackgroundLoop, sock: socket.socket) -> None:
        self.loop = loop
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._runner: web.AppRunner | None = None

    def start(self, app: web.Application) -> None:
        async def start() -> None:
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            await web.SockSite(self._runner, self.sock).start()

        self.loop.run(start())

    def stop(self) -> None:
        if self._runner is not None:
            self.loop.run(self._runner.cleanup())


def serve(loop: BackgroundLoop, app: web.Application) -> LiveServer:
    """Serve ``app`` (a fake provider, say) on a free port until ``stop``."""
    server = LiveServer(loop, bound_socket())
    server.start(app)
    return server


@dataclass
class LiveHub:
    """The hub under test: its URL, settings and app, and ways to arrange its state."""

    loop: BackgroundLoop
    server: LiveServer
    settings: Settings
    app: web.Application
    users: dict[str, User] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.app[appkeys.SESSIONS]

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine on the hub's loop (where its database engine lives)."""
        return self.loop.run(coro, timeout)

    def query(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` with a database session of the hub and return its result."""

        async def run() -> T:
            async with self.sessions() as db:
                return await work(db)

        return self.run(run())

    def setup_link(self) -> str:
        """The one-time owner setup link ``hub serve`` prints on an empty hub."""

        async def issue(db: AsyncSession) -> str | None:
            return await issue_setup_token(db)

        token = self.query(issue)
        assert token, "the hub has users already"
        return f"{self.url}/setup?token={token}"

    def add_user(
        self, email: str, *, role: str = "owner", name: str | None = None, password: str = PASSWORD
    ) -> User:
        """Create an active user directly in the store."""

        async def add(db: AsyncSession) -> User:
            data = NewUser.model_validate(
                {
                    "email": email,
                    "name": name or email.split("@")[0].title(),
                    "role": role,
                    "visibility": "all",
                    "password": password,
                }
            )
            user = await create_user(db, data)
            await db.commit()
            return user

        user = self.query(add)
        self.users[email] = user
        return user

    def add_channel(
        self,
        type_: str,
        name: str,
        config: dict[str, Any],
        *,
        enabled: bool = True,
        by: str = "owner@example.com",
    ) -> SavedChannel:
        """Connect a channel through the channel service, as the user ``by`` (added with
        ``add_user``); its ``config`` shows the generated secrets."""
        new = NewChannel(type_, name, config, enabled)
        return self.run(ChannelAdmin.of(self.app).create(self.viewer(by), new))

    def viewer(self, email: str = "owner@example.com") -> Viewer:
        """A user added with ``add_user``, as the services see them (without teams)."""
        user = self.users[email]
        return Viewer(user.id, user.role, user.visibility, frozenset())

    def post_event(self, channel_id: int, secret: str, event: dict[str, Any]) -> httpx.Response:
        """A custom-channel event posted to the channel's webhook, signed as a service does."""
        body = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
        # A generous timeout: the first request of a fresh hub on a loaded CI machine took
        # over httpx's default 5 s once; a webhook that never answers still fails.
        return httpx.post(
            f"{self.url}/webhooks/{channel_id}", content=body, headers=headers, timeout=30
        )

    def count(self, model: Any, *conditions: Any) -> int:
        """How many rows of ``model`` match ``conditions``."""

        async def count(db: AsyncSession) -> int:
            query = select(func.count()).select_from(model).where(*conditions)
            return int(await db.scalar(query) or 0)

        return self.query(count)


def start_hub(loop: BackgroundLoop, database_url: str, data_dir: Any, **overrides: Any) -> LiveHub:
    """Start a hub on a free port with its own database and data folder."""
    server = LiveServer(loop, bound_socket())
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "browser-test-secret-" + "x" * 40,
        "host": "127.0.0.1",
        "port": server.port,
        "public_url": server.url,
        "cookie_secure": False,
        "counts_cache_seconds": 0,
        # Quick retries, so a test sees a delivery fail for good in a second or two.
        "outbox_poll_seconds": 0.2,
        "outbox_backoff_seconds": 0.1,
        "outbox_backoff_max_seconds": 0.2,
        **overrides,
    }
    settings = Settings(**values)
    app = create_app(settings)
    server.start(app)
    return LiveHub(loop, server, settings, app)
