"""``hub demo``: the seeder fills an empty hub with every state an agent meets, refuses a
hub in use, and its loopback service answers an agent's reply like a customer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.demo import echo
from hub.demo.marker import marker_path, read_marker
from hub.demo.seed import HubNotEmpty, seed_demo
from hub.settings import Settings
from hub.store.models import (
    Attachment,
    Channel,
    Comment,
    Contact,
    Conversation,
    ConversationLabel,
    CustomInbox,
    Label,
    Message,
    Snippet,
    Team,
    User,
)
from hub.testing import eventually
from tests.conftest import PASSWORD, log_in

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def demo_settings(settings: Settings, unused_tcp_port: int) -> Settings:
    """The test hub's settings, on a known port: the demo channels reply to its echo."""
    return settings.model_copy(
        update={
            "host": "127.0.0.1",
            "port": unused_tcp_port,
            "public_url": f"http://127.0.0.1:{unused_tcp_port}",
            "outbox_poll_seconds": 0.1,
        }
    )


@pytest.fixture
async def demo_hub(
    demo_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> TestClient[Any, Any]:
    """A running hub on the demo settings' port."""
    server = TestServer(create_app(demo_settings), host="127.0.0.1", port=demo_settings.port)
    return await aiohttp_client(server)


async def count(db: Sessions, model: Any, *where: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_the_demo_fills_an_empty_hub_with_every_state(
    demo_hub: TestClient[Any, Any], db: Sessions, demo_settings: Settings
) -> None:
    made = await seed_demo(demo_hub.server.app, password=PASSWORD)

    assert await count(db, User) == len(made.logins) == 6
    assert await count(db, Team) == 2
    assert await count(db, Channel) == made.channels == 2
    assert await count(db, Conversation) == made.conversations == 8
    assert await count(db, Contact) == 8  # Ada writes on both channels
    statuses = {
        s: await count(db, Conversation, Conversation.status == s)
        for s in ("open", "snoozed", "closed")
    }
    assert statuses == {"open": 6, "snoozed": 1, "closed": 1}
    open_ = Conversation.status == "open"
    assert await count(db, Conversation, open_, Conversation.assignee_id.is_not(None)) == 3
    assert await count(db, Conversation, open_, Conversation.assignee_id.is_(None)) == 3
    assert await count(db, Conversation, Conversation.team_id.is_not(None)) >= 1
    assert await count(db, Comment) == 3
    assert await count(db, Message, Message.direction == "out") == 5
    photos = Attachment.content_type == "image/png"
    assert await count(db, Attachment, photos) == 2
    assert await count(db, Snippet) == 3
    assert await count(db, CustomInbox) == 1
    assert await count(db, Label) == 4
    assert await count(db, ConversationLabel) == 5
    assert await count(db, Conversation, Conversation.priority == 4) == 1  # urgent

    # The marker names the two channels and the last seeded message.
    marker = read_marker(demo_settings)
    assert marker is not None
    async with db() as session:
        channel_ids = set((await session.scalars(select(Channel.id))).all())
        last = await session.scalar(select(func.max(Message.id)))
    assert set(marker.channel_ids) == channel_ids
    assert marker.quiet_through == last

    # A demo user logs in with the printed password and sees the inbox.
    await log_in(demo_hub, made.logins[2].email, made.password)
    page = await demo_hub.get("/inbox")
    assert page.status == 200
    assert "Ada Lovelace" in await page.text()


async def test_the_demo_refuses_a_hub_in_use(
    demo_hub: TestClient[Any, Any],
    make_user: Callable[..., Awaitable[User]],
    demo_settings: Settings,
    db: Sessions,
) -> None:
    await make_user("someone@example.com", role="owner")
    with pytest.raises(HubNotEmpty, match="1 user"):
        await seed_demo(demo_hub.server.app)
    assert not marker_path(demo_settings).exists()
    assert await count(db, Channel) == 0


async def test_the_echo_answers_a_reply_like_a_customer(
    demo_hub: TestClient[Any, Any], db: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(echo, "DELIVERED_AFTER", 0.05)
    monkeypatch.setattr(echo, "ANSWER_AFTER", 0.1)
    made = await seed_demo(demo_hub.server.app, password=PASSWORD)
    async with db() as session:
        grace = await session.scalar(
            select(Conversation.id).join(Contact).where(Contact.name == "Grace Hopper")
        )
    before = await count(db, Message, Message.conversation_id == grace)

    csrf = await log_in(demo_hub, made.logins[0].email, made.password)
    response = await demo_hub.post(
        f"/api/v1/conversations/{grace}/messages",
        json={"text": "A new shade is on its way."},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 201, await response.text()
    reply_id = (await response.json())["id"]

    async def answered() -> None:
        async with db() as session:
            reply = await session.get(Message, reply_id)
            assert reply is not None and reply.status == "read"
            texts = (
                await session.scalars(
                    select(Message.text).where(
                        Message.conversation_id == grace, Message.direction == "in"
                    )
                )
            ).all()
        assert set(texts) & set(echo.ANSWERS)

    await eventually(answered, timeout=15)
    # Exactly one answer: the reply and the customer's, nothing for the seeded history.
    assert await count(db, Message, Message.conversation_id == grace) == before + 2


async def test_a_hub_without_the_demo_has_no_echo(client: TestClient[Any, Any]) -> None:
    response = await client.post("/demo/echo", json={"conversation_id": 1, "id": "1"})
    assert response.status == 404
