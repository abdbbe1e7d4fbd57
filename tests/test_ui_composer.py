"""The composer as the server renders it: the customer-service window and its template
picker, what the channel can carry, the channel switcher, and the user's draft.

A test-only WhatsApp-like channel type (tests/test_agent_channel_features.py) gives a
24-hour window and two templates; the app and database are real.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.contract import BadCredentials
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import ContactIdentity, User
from tests.factories import Factory
from tests.test_agent_channel_features import Plugin, Recorder, conversation_on
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def record() -> Recorder:
    return Recorder()


@pytest.fixture
async def agent(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_user: MakeUser,
    record: Recorder,
) -> tuple[Client, str]:
    """A logged-in agent on a hub with the windowed and plain test channel types."""
    manager = HubPluginManager(autoload=False)
    manager.register(
        Plugin(record), PluginInfo(name="composer-test", distribution="tests", version="0")
    )
    idle = settings.model_copy(update={"outbox_poll_seconds": 3600})
    client = await aiohttp_client(create_app(idle, plugins=manager))
    await make_user("agent@example.com", name="Ana Agent")
    csrf = await log_in_page(client, "agent@example.com")
    return client, csrf


async def composer_of(client: Client, conversation_id: int) -> str:
    response = await client.get(f"/inbox/conversations/{conversation_id}/composer", headers=HTML)
    assert response.status == 200, await response.text()
    return await response.text()


async def test_a_closed_window_offers_the_templates_with_their_parameters_not_free_text(
    agent: tuple[Client, str], factory: Factory
) -> None:
    client, _ = agent
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=30)
    page = await (
        await client.get(f"/inbox/conversations/{conversation.id}?full=1", headers=HTML)
    ).text()
    assert 'data-window="closed"' in page
    assert "Window closed" in page and "The 24-hour window is closed" in page
    assert "data-templates-body" in page  # the picker, filled from the templates fragment

    picker = await client.get(f"/inbox/conversations/{conversation.id}/templates", headers=HTML)
    html = await picker.text()
    assert picker.status == 200
    assert re.search(r'data-name="order_update" data-language="en_US">order_update \(en_US\)', html)
    assert "Order {{1}}" in html  # the body, to read while filling the parameters
    assert html.count("data-template-param") == 1  # order_update takes one, hello none
    assert 'for="template-0-param-1">Parameter 1' in html


async def test_an_open_window_says_how_long_it_stays_open(
    agent: tuple[Client, str], factory: Factory
) -> None:
    client, _ = agent
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=0.5)
    html = await composer_of(client, conversation.id)
    assert 'data-window="open"' in html
    assert "Window open for 23 h" in html
    assert "data-templates-body" not in html


async def test_a_channel_without_a_window_shows_none_and_offers_no_files_it_cannot_send(
    agent: tuple[Client, str], factory: Factory
) -> None:
    client, _ = agent
    _, conversation = await conversation_on(factory, "plain", inbound_hours_ago=None)
    html = await composer_of(client, conversation.id)
    assert 'data-window="open"' in html and "Window" not in html
    assert 'data-files="no"' in html  # the plain type carries no files
    assert 'data-reply-to-supported="no"' in html
    assert "&#34;media&#34;:{}" in html  # the checks the script runs before uploading


async def test_the_templates_fragment_says_when_the_provider_refuses(
    agent: tuple[Client, str], factory: Factory, record: Recorder
) -> None:
    client, _ = agent
    record.templates_error = BadCredentials("token expired")
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=30)
    picker = await client.get(f"/inbox/conversations/{conversation.id}/templates", headers=HTML)
    assert picker.status == 200
    assert "The templates could not be loaded: token expired" in await picker.text()


async def test_the_composer_is_rendered_from_the_draft_with_its_channel_and_mode(
    agent: tuple[Client, str], factory: Factory
) -> None:
    client, csrf = agent
    channel, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)
    other = await factory.channel("plain", name="Plain <b>line</b>")
    await factory.add(
        ContactIdentity(contact_id=conversation.contact_id, channel_id=other.id, external_id="p1")
    )
    html = await composer_of(client, conversation.id)
    assert 'name="mode" value="reply" checked' in html
    # The switcher: this conversation's channel first, then the contact's others.
    options = re.findall(r'<option value="(\d+)"( selected)?>', html)
    assert options == [(str(channel.id), " selected"), (str(other.id), "")]
    assert "Plain &lt;b&gt;line&lt;/b&gt;" in html

    saved = await client.put(
        f"/api/v1/conversations/{conversation.id}/draft",
        json={"mode": "comment", "body": "Ask <Ben> first", "channel_id": other.id},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status == 200, await saved.text()
    html = await composer_of(client, conversation.id)
    assert 'class="composer comment-mode"' in html
    assert 'name="mode" value="comment" checked' in html
    assert ">Ask &lt;Ben&gt; first</textarea>" in html
    assert f'data-channel-id="{other.id}" data-home-channel-id="{channel.id}"' in html
    assert "it continues their conversation there, or starts one" in html


async def test_the_composer_of_a_hidden_conversation_is_not_found(
    agent: tuple[Client, str], factory: Factory, make_user: MakeUser
) -> None:
    client, _ = agent
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)
    await make_user("restricted@example.com", visibility="assigned")
    await client.post("/logout", data={"csrf_token": agent[1]})
    await log_in_page(client, "restricted@example.com")
    for part in ("composer", "templates"):
        response = await client.get(f"/inbox/conversations/{conversation.id}/{part}", headers=HTML)
        assert response.status == 404, part
