"""The "New conversation" dialog as the server renders it: which channels can write to a
new address, which need a template to write first, and a channel's template picker.

Test-only channel types: the WhatsApp-like windowed one of
tests/test_agent_channel_features.py, given ``address_of``, and the plain one, without.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.contract import hookimpl
from hub.contract.channel import ChannelType
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import User
from hub.store.types import utcnow
from tests.factories import Factory
from tests.test_agent_channel_features import PlainChannel, Recorder, WindowedChannel
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


class FirstWriter(WindowedChannel):
    """Windowed, with templates, and able to write to a new address."""

    name = "first_writer"
    title = "First writer"

    @classmethod
    def address_of(cls, text: str) -> str:
        """Any non-blank text."""
        if not text.strip():
            raise ValueError("blank")
        return text.strip()


class _Plugin:
    def __init__(self, record: Recorder) -> None:
        self.types: list[type[ChannelType[Any]]] = [
            type("BoundFirst", (FirstWriter,), {"record": record}),
            type("BoundPlain", (PlainChannel,), {"record": record}),
        ]

    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return self.types


@pytest.fixture
async def agent(
    settings: Settings, aiohttp_client: Callable[..., Awaitable[Client]], make_user: MakeUser
) -> Client:
    """A logged-in agent on a hub with the two test channel types."""
    manager = HubPluginManager(autoload=False)
    manager.register(
        _Plugin(Recorder()), PluginInfo(name="dialog-test", distribution="tests", version="0")
    )
    idle = settings.model_copy(update={"outbox_poll_seconds": 3600})
    client = await aiohttp_client(create_app(idle, plugins=manager))
    await make_user("agent@example.com", name="Ana Agent", visibility="all")
    await log_in_page(client, "agent@example.com")
    return client


def dialog_options(page: str) -> dict[str, str]:
    """The dialog's channel options by name, each with its attributes."""
    block = re.search(r"<template data-dialog-channels>(.*?)</template>", page, re.S)
    assert block, "no channel list in the dialog"
    found = re.findall(r'<option value="\d+" data-name="([^"]+)"([^>]*)>', block.group(1))
    return {name: attrs for name, attrs in found}


async def test_the_dialog_lists_live_channels_marking_who_writes_first_and_needs_a_template(
    agent: Client, factory: Factory
) -> None:
    writer = await factory.channel("first_writer", name="Phone line")
    await factory.channel("plain", name="Plain line")
    await factory.channel("first_writer", name="Switched off", enabled=False)
    await factory.channel("first_writer", name="Gone", deleted_at=utcnow())
    page = await (await agent.get("/inbox", headers=HTML)).text()
    options = dialog_options(page)
    assert set(options) == {"Phone line", "Plain line"}
    assert "data-writes-first" in options["Phone line"]
    assert f'data-templates-url="/inbox/channels/{writer.id}/templates"' in options["Phone line"]
    assert "data-writes-first" not in options["Plain line"]
    assert "data-templates-url" not in options["Plain line"]


async def test_a_channels_template_picker_has_its_own_ids(agent: Client, factory: Factory) -> None:
    writer = await factory.channel("first_writer", name="Phone line")
    plain = await factory.channel("plain", name="Plain line")
    picker = await agent.get(f"/inbox/channels/{writer.id}/templates", headers=HTML)
    assert picker.status == 200
    html = await picker.text()
    assert 'id="new-template-choice"' in html
    assert 'for="new-template-0-param-1">Parameter 1' in html
    assert re.search(r'data-name="order_update" data-language="en_US"', html)
    none = await (await agent.get(f"/inbox/channels/{plain.id}/templates", headers=HTML)).text()
    assert "Plain line has no message templates." in none
    missing = await agent.get("/inbox/channels/999999/templates", headers=HTML)
    assert missing.status == 404
