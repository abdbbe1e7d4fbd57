"""The poll runner: polled events go through the inbound pipe, the cursor is saved in the
same transaction, and the loops start, stop and back off as channels and providers say."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import respx
from aiohttp.test_utils import TestClient
from hub_telegram.channel import TelegramChannel
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.appkeys import POLLER
from hub.channels import polling
from hub.channels.polling import ChannelLock, poll_once
from hub.contract import ChannelType, InboundEvent, hookimpl
from hub.contract.channel import PollResult
from hub.contract.errors import BadCredentials, RetryLater
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.engine import create_engine
from hub.store.models import Channel, InboundLogEntry, Message
from hub.store.types import utcnow
from hub.testing import eventually
from tests.channel_doubles import EVENTS, LOGO
from tests.channel_doubles import message as message_event
from tests.factories import Factory

Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]
TELEGRAM_FIXTURES = Path(__file__).parent.parent / "plugins/telegram/tests/fixtures"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4"

# What each channel's provider answers, by the cursor it is asked with: a batch of
# events and the next cursor, or an exception. Cursors asked are recorded.
Step = tuple[list[dict[str, Any]], str] | BaseException
SCRIPTS: dict[int, dict[str | None, Step]] = {}
ASKED: dict[int, list[str | None]] = {}


class PollConfig(BaseModel):
    """Polling or webhook mode, as Telegram has."""

    mode: str = "polling"


class PollingDouble(ChannelType[PollConfig]):
    """A provider that answers ``poll`` from the channel's script."""

    name = "polldouble"
    title = "Poll double"
    description = "A test channel that polls."
    logo = LOGO
    Config = PollConfig

    def polls(self) -> bool:
        """Only in polling mode."""
        return self.config.mode == "polling"

    async def poll(self, cursor: str | None) -> PollResult:
        """Play the script's step for ``cursor``; nothing new when there is none."""
        channel_id = self.context.channel_id
        ASKED.setdefault(channel_id, []).append(cursor)
        step = SCRIPTS.get(channel_id, {}).get(cursor)
        if step is None:
            return PollResult(events=[], cursor=cursor)
        if isinstance(step, BaseException):
            raise step
        events: list[InboundEvent] = EVENTS.validate_python(step[0])
        return PollResult(events=events, cursor=step[1])


class Types:
    """Registers the double and the real Telegram type."""

    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        """Provide both."""
        return [PollingDouble, TelegramChannel]


def manager() -> HubPluginManager:
    """A plugin manager with only the polling types."""
    plugins = HubPluginManager(autoload=False)
    plugins.register(Types(), PluginInfo(name="polltypes", distribution="tests", version="0"))
    return plugins


@pytest.fixture(autouse=True)
def _clean_scripts() -> None:
    SCRIPTS.clear()
    ASKED.clear()


def quiet(settings: Settings, **changes: Any) -> Settings:
    """Settings with the background loops off (``poll_once`` drives), or changed."""
    return settings.model_copy(update={"polling_enabled": False, **changes})


async def make_channel(factory: Factory, type_: str = "polldouble", **kwargs: Any) -> Channel:
    """A channel of ``type_`` with config ``config`` (default: polling mode)."""
    config = kwargs.pop("config", {"mode": "polling"})
    channel = Channel(
        type=type_, name="Polled", config_encrypted=factory.cipher.encrypt(config), **kwargs
    )
    await factory.add(channel)
    return channel


async def row(db: async_sessionmaker[AsyncSession], channel_id: int) -> Channel:
    async with db() as session:
        channel = await session.get(Channel, channel_id)
    assert channel is not None
    return channel


async def count(db: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_poll_stores_the_events_and_saves_the_cursor(
    aiohttp_client: MakeClient, settings: Settings, factory: Factory, db: Any
) -> None:
    client = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    channel = await make_channel(factory)
    SCRIPTS[channel.id] = {None: ([message_event("m1"), message_event("m2")], "2")}

    assert await poll_once(client.app, channel.id) == 2

    assert (await row(db, channel.id)).poll_cursor == "2"
    assert await count(db, Message) == 2
    async with db() as session:
        entry = (await session.scalars(select(InboundLogEntry))).one()
    assert (entry.method, entry.path, entry.result, entry.event_count) == (
        "POLL",
        "poll",
        "stored",
        2,
    )
    assert [raw for raw in json.loads(entry.body)] == [{}, {}]  # the raw payloads, here empty
    # Nothing new: the next poll asks from the saved cursor and writes nothing.
    assert await poll_once(client.app, channel.id) == 0
    assert ASKED[channel.id] == [None, "2"]
    assert await count(db, InboundLogEntry) == 1


async def test_a_crash_before_the_commit_keeps_the_old_cursor_and_the_repoll_stores_once(
    aiohttp_client: MakeClient,
    settings: Settings,
    factory: Factory,
    db: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    channel = await make_channel(factory, poll_cursor="0")
    SCRIPTS[channel.id] = {
        "0": ([message_event("m1"), message_event("m2")], "2"),
        # The provider redelivers m2 (an offset it never heard confirmed) with m3.
        "2": ([message_event("m2"), message_event("m3")], "3"),
    }
    real_take = polling.take_events

    async def take_then_crash(*args: Any) -> Any:
        await real_take(*args)
        raise RuntimeError("the process died before the commit")

    monkeypatch.setattr(polling, "take_events", take_then_crash)
    with pytest.raises(RuntimeError):
        await poll_once(client.app, channel.id)
    assert (await row(db, channel.id)).poll_cursor == "0"
    assert await count(db, Message) == 0

    monkeypatch.setattr(polling, "take_events", real_take)
    assert await poll_once(client.app, channel.id) == 2  # polled again from "0"
    assert await poll_once(client.app, channel.id) == 1  # m2 was a duplicate
    assert ASKED[channel.id] == ["0", "0", "2"]
    assert (await row(db, channel.id)).poll_cursor == "3"
    async with db() as session:
        ids = sorted(await session.scalars(select(Message.external_id)))
    assert ids == ["m1", "m2", "m3"]


async def test_the_cursor_survives_a_restart(
    aiohttp_client: MakeClient, settings: Settings, factory: Factory
) -> None:
    channel = await make_channel(factory)
    SCRIPTS[channel.id] = {
        None: ([message_event("m1")], "1"),
        "1": ([message_event("m2")], "2"),
    }
    first = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    assert await poll_once(first.app, channel.id) == 1
    await first.close()

    second = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    assert await poll_once(second.app, channel.id) == 1
    assert ASKED[channel.id] == [None, "1"]


async def test_the_runner_polls_only_enabled_polling_channels_and_follows_changes(
    aiohttp_client: MakeClient, settings: Settings, factory: Factory, db: Any
) -> None:
    polled = await make_channel(factory)
    disabled = await make_channel(factory, enabled=False)
    webhook = await make_channel(factory, config={"mode": "webhook"})
    deleted = await make_channel(factory, deleted_at=utcnow())
    for channel in (polled, disabled, webhook, deleted):
        SCRIPTS[channel.id] = {None: ([message_event(f"m{channel.id}")], "1")}
    live = settings.model_copy(update={"poll_rescan_seconds": 0.05, "poll_idle_seconds": 0.01})
    client = await aiohttp_client(create_app(live, plugins=manager()))
    poller = client.app[POLLER]

    await eventually(lambda: "1" in ASKED.get(polled.id, []))
    assert poller.polling == {polled.id}
    assert set(ASKED) == {polled.id}
    assert (await row(db, polled.id)).poll_cursor == "1"

    # Enabling a channel later starts its loop; disabling the first stops it.
    async with db() as session:
        (await session.get(Channel, disabled.id)).enabled = True  # type: ignore[union-attr]
        (await session.get(Channel, polled.id)).enabled = False  # type: ignore[union-attr]
        await session.commit()
    await eventually(lambda: poller.polling == {disabled.id})
    await eventually(lambda: disabled.id in ASKED)
    await client.close()
    assert poller.polling == set()


async def test_retry_later_backs_off_at_least_as_asked_and_keeps_the_cursor(
    aiohttp_client: MakeClient, settings: Settings, factory: Factory, db: Any
) -> None:
    client = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    channel = await make_channel(factory, poll_cursor="5")
    SCRIPTS[channel.id] = {"5": RetryLater("flood control", after=120)}
    poller = client.app[POLLER]

    assert await poller.step(channel.id) == 120
    # Failures without a provider's wait grow: the second waits longer than the first.
    SCRIPTS[channel.id] = {"5": RetryLater("busy")}
    second = await poller.step(channel.id)
    assert settings.poll_backoff_seconds <= second <= settings.poll_backoff_seconds * 4
    assert (await row(db, channel.id)).poll_cursor == "5"
    assert await count(db, InboundLogEntry) == 0


async def test_bad_credentials_mark_the_channel_until_a_poll_succeeds(
    aiohttp_client: MakeClient, settings: Settings, factory: Factory, db: Any
) -> None:
    client = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    channel = await make_channel(factory)
    SCRIPTS[channel.id] = {None: BadCredentials("Unauthorized")}
    poller = client.app[POLLER]

    assert await poller.step(channel.id) == settings.poll_credentials_backoff_seconds
    broken = await row(db, channel.id)
    assert broken.status == "error"
    assert "Unauthorized" in (broken.status_reason or "")

    SCRIPTS[channel.id] = {}  # fixed: the provider answers (with nothing new)
    assert await poller.step(channel.id) == settings.poll_idle_seconds
    fixed = await row(db, channel.id)
    assert (fixed.status, fixed.status_reason) == ("ok", None)


async def test_a_telegram_channel_in_polling_mode_is_polled_through_get_updates(
    aiohttp_client: MakeClient, settings: Settings, factory: Factory, db: Any
) -> None:
    client = await aiohttp_client(create_app(quiet(settings), plugins=manager()))
    config = {"bot_token": BOT_TOKEN, "secret_token": "s" * 32, "mode": "polling"}
    channel = await make_channel(factory, "telegram", config=config, poll_cursor="900001")
    update = json.loads((TELEGRAM_FIXTURES / "update_text.json").read_text())
    api = f"https://api.telegram.org/bot{BOT_TOKEN}"
    with respx.mock() as router:
        route = router.post(f"{api}/getUpdates").respond(200, json={"ok": True, "result": [update]})
        assert await poll_once(client.app, channel.id) == 1
    assert json.loads(route.calls.last.request.content)["offset"] == 900001
    assert (await row(db, channel.id)).poll_cursor == str(update["update_id"] + 1)
    assert await count(db, Message) == 1
    # A webhook-mode Telegram channel is left to its webhook.
    hooked = await make_channel(factory, "telegram", config={**config, "mode": "webhook"})
    with respx.mock(assert_all_called=False) as router:
        route = router.post(f"{api}/getUpdates")
        assert await poll_once(client.app, hooked.id) == 0
    assert not route.called


async def test_only_one_process_may_hold_a_channels_poll_lock(settings: Settings) -> None:
    url = settings.effective_database_url
    engine = None if url.startswith("sqlite") else create_engine(url)
    first, second = ChannelLock(engine, 7), ChannelLock(engine, 7)
    try:
        assert await first.ensure()
        assert await first.ensure()  # still held
        # On SQLite one process polls everything: no lock to contend for.
        assert await second.ensure() is (engine is None)
        await first.release()
        assert await second.ensure()
    finally:
        await first.release()
        await second.release()
        if engine is not None:
            await engine.dispose()
