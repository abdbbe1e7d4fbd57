"""A polling channel's admin side: "Last checked" on the channels list and the channel's
page (so an admin sees the mailbox is read even when nothing arrives), and a polled
batch in the inbound log with its problems, worded for a poll rather than a request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel

from admin_ui.relative_time import ago
from hub.app import create_app
from hub.contract import ChannelType, hookimpl
from hub.contract.channel import PollResult
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import InboundLogEntry, User
from hub.store.types import utcnow
from tests.channel_doubles import LOGO
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


class _Config(BaseModel):
    pass


class MailboxDouble(ChannelType[_Config]):
    """A channel the hub polls; its provider never has news."""

    name, title, description, logo, Config = "mailbox_test", "Mailbox", "Polls.", LOGO, _Config

    async def poll(self, cursor: str | None) -> PollResult:
        """Nothing new."""
        return PollResult(events=[], cursor=cursor)


class _Plugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [MailboxDouble]


@pytest.fixture
async def client(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    """The app with the polling double (and the bundled webhook channels)."""
    manager = HubPluginManager(autoload=False)
    manager.register(_Plugin(), PluginInfo(name="mailbox", distribution="tests", version="0"))
    return await aiohttp_client(create_app(settings, plugins=manager))


async def _page(client: Client, path: str) -> str:
    response = await client.get(path, headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


async def test_last_checked_shows_for_polling_channels_only(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    # Disabled, so the poller leaves last_polled_at as the test set it.
    checked = await factory.channel(
        "mailbox_test", "Support box", enabled=False, last_polled_at=utcnow() - timedelta(minutes=5)
    )
    fresh = await factory.channel("mailbox_test", "New box", enabled=False)
    await factory.channel("custom_channel", "Webhook chat")
    listing = await _page(client, "/admin/channels")
    assert listing.count('class="muted last-checked"') == 2
    assert "Checked <time" in listing and "5 minutes ago</time>" in listing
    assert "Checked never" in listing
    page = await _page(client, f"/admin/channels/{checked.id}")
    assert "<dt>Last checked</dt>" in page and "5 minutes ago" in page
    assert "fetches its messages itself" in page
    assert "<dt>Last checked</dt>" in await _page(client, f"/admin/channels/{fresh.id}")
    webhook = await _page(client, "/admin/channels?type=custom_channel")
    assert "last-checked" not in webhook


async def test_a_polled_batch_shows_its_problems(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    channel = await factory.channel("mailbox_test", "Support box", enabled=False)
    problems = "1 mail could not be parsed; kept as a file\nUID 7: <b>bad</b> charset"
    entry = InboundLogEntry(
        channel_id=channel.id,
        method="POLL",
        path="poll",
        body=b'{"events": []}',
        result="stored",
        status_code=200,
        reason=problems,
        event_count=3,
        events=[],
    )
    await factory.add(entry)
    listing = await _page(client, "/admin/inbound-log")
    assert '<span class="muted">Polled:</span> 3 events' in listing
    assert "1 mail could not be parsed; kept as a file" in listing
    shown = await _page(client, f"/admin/inbound-log/{entry.id}")
    assert "<dt>Problems</dt>" in shown and "&lt;b&gt;bad&lt;/b&gt;" in shown
    assert "HTTP 200" not in shown and "What the poll returned" in shown


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, "never"),
        (-30, "just now"),
        (10, "just now"),
        (60, "1 minute ago"),
        (5 * 60 + 10, "5 minutes ago"),
        (3600, "1 hour ago"),
        (30 * 3600, "1 day ago"),
        (3 * 86400, "3 days ago"),
        # Past a week Babel counts weeks.
        (9 * 86400, "1 week ago"),
    ],
)
def test_ago_words(seconds: int | None, words: str) -> None:
    now = utcnow()
    when = None if seconds is None else now - timedelta(seconds=seconds)
    assert ago(when, now) == words
