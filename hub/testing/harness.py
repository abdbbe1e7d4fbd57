"""Drive a hub under test as its admin would: the REST API, the webhook pipe, the outbox.

Everything goes through the real app (HTTP handlers, pipes, database); only delivering
the outbox, polling a polling channel, fetching inbound media and waiting for observers
and relayed signals are called directly, so a test need not wait for the background
workers. A plugin's tests use these helpers instead of importing the hub's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.testing.waiting import eventually
from hub.testing.webhooks import WebhookSample, post_webhook

if TYPE_CHECKING:
    from aiohttp import ClientResponse, web
    from aiohttp.test_utils import TestClient


class HubApiError(AssertionError):
    """A call the harness expected to succeed answered an error status."""


@dataclass(frozen=True)
class HubAdmin:
    """The owner user of a hub under test and the headers that authenticate as it."""

    user_id: int
    email: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class CreatedChannel:
    """A channel just created through ``POST /api/v1/channels``.

    ``config`` is the config as that one response reveals it, generated secrets
    included: sign sample webhooks with it.
    """

    id: int
    type: str
    webhook_url: str
    config: dict[str, Any]
    body: dict[str, Any]


class HubApi:
    """The hub under test, seen through its HTTP API as the admin."""

    def __init__(self, client: TestClient[Any, Any], admin: HubAdmin) -> None:
        self.client = client
        self.admin = admin

    @property
    def app(self) -> web.Application:
        """The running application (for ``appkeys`` lookups in assertions)."""
        return self.client.app  # type: ignore[no-any-return]

    async def call(
        self, method: str, path: str, *, json: Any = None, expect: int = 200, **kwargs: Any
    ) -> Any:
        """Call the API as the admin; return the JSON answer, or fail unless ``expect``."""
        response = await self.client.request(
            method, path, json=json, headers=dict(self.admin.headers), **kwargs
        )
        text = await response.text()
        if response.status != expect:
            raise HubApiError(f"{method} {path} answered {response.status}, not {expect}: {text}")
        return await response.json() if text else None

    async def create_channel(
        self,
        channel_type: str,
        config: Mapping[str, Any] | None = None,
        *,
        name: str | None = None,
        **fields: Any,
    ) -> CreatedChannel:
        """Create a channel of ``channel_type`` with ``config``; fail unless 201."""
        body = {
            "type": channel_type,
            "name": name or f"{channel_type} under test",
            "config": dict(config or {}),
            **fields,
        }
        created = await self.call("POST", "/api/v1/channels", json=body, expect=201)
        return CreatedChannel(
            id=int(created["id"]),
            type=str(created["type"]),
            webhook_url=str(created["webhook_url"]),
            config=dict(created["config"]),
            body=created,
        )

    async def post_webhook(self, channel_id: int, sample: WebhookSample) -> ClientResponse:
        """Post ``sample`` to the channel's webhook; the caller checks the answer."""
        return await post_webhook(self.client, channel_id, sample)

    async def conversations(self, *, status: str = "all") -> list[dict[str, Any]]:
        """Every conversation the admin sees, newest first, all pages."""
        return await self._all_pages("/api/v1/conversations", {"status": status, "limit": "100"})

    async def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        """Every message of one conversation, oldest first, all pages."""
        return await self._all_pages(
            f"/api/v1/conversations/{conversation_id}/messages", {"limit": "100"}
        )

    async def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Every message in the conversations of one channel."""
        found: list[dict[str, Any]] = []
        for conversation in await self.conversations():
            if conversation["channel_id"] == channel_id:
                found.extend(await self.messages(int(conversation["id"])))
        return found

    async def message(self, message_id: int) -> dict[str, Any]:
        """One message as the API shows it."""
        found: dict[str, Any] = await self.call("GET", f"/api/v1/messages/{message_id}")
        return found

    async def reply(self, conversation_id: int, text: str) -> dict[str, Any]:
        """Queue an agent reply in a conversation (stored pending, with an outbox row)."""
        sent: dict[str, Any] = await self.call(
            "POST",
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": text},
            expect=201,
        )
        return sent

    async def deliver_outbox(self, *, limit: int | None = None) -> int:
        """Run one pass of the outbox now; return how many deliveries it attempted."""
        from hub.channels.outbound import deliver_due

        return await deliver_due(self.app, limit=limit)

    async def delivered(
        self,
        message_id: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a wait like eventually's, not a deadline
    ) -> dict[str, Any]:
        """Deliver the outbox until message ``message_id`` is no longer pending; return it.

        The app's own outbox worker runs too and may take the row first (then a pass
        here finds nothing due while its send is in flight), so this checks the
        message's state between passes instead of trusting one pass to have sent it.
        Raises ``HubApiError`` when it is still pending after ``timeout`` seconds.
        """

        async def sent() -> dict[str, Any]:
            await self.deliver_outbox()
            message = await self.message(message_id)
            assert message["status"] != "pending"
            return message

        try:
            return await eventually(sent, timeout=timeout)
        except AssertionError:
            raise HubApiError(
                f"message {message_id} is still pending after {timeout}s of outbox passes"
            ) from None

    async def poll(self, channel_id: int) -> int:
        """Poll a polling channel once now, as its poll loop would (the plugin's ``poll``
        from the stored cursor; events and the new cursor stored in one commit); return
        how many messages were newly stored. The plugin's errors propagate."""
        from hub import appkeys

        outcome = await self.app[appkeys.POLLER].poll_once(channel_id)
        return outcome.stored

    async def poll_until_quiet(self, channel_id: int, *, max_polls: int = 100) -> int:
        """Poll until a poll brings nothing and leaves the cursor where it was (all
        that was waiting is in); return how many messages were newly stored."""
        from hub import appkeys

        stored = 0
        for _ in range(max_polls):
            outcome = await self.app[appkeys.POLLER].poll_once(channel_id)
            stored += outcome.stored
            if not outcome.fetched and not outcome.advanced:
                return stored
        raise HubApiError(f"channel {channel_id} still brought events after {max_polls} polls")

    async def poll_cursor(self, channel_id: int) -> str | None:
        """The poll cursor the hub stored for a channel."""
        from hub import appkeys
        from hub.store.models import Channel

        async with self.app[appkeys.SESSIONS]() as db:
            row = await db.get_one(Channel, channel_id)
            return row.poll_cursor

    async def set_poll_cursor(self, channel_id: int, cursor: str | None) -> None:
        """Put a channel's poll cursor back, as a crash before the commit of a poll
        leaves it: the next poll then fetches the same events again."""
        from sqlalchemy import update

        from hub import appkeys
        from hub.store.models import Channel

        async with self.app[appkeys.SESSIONS]() as db:
            await db.execute(
                update(Channel).where(Channel.id == channel_id).values(poll_cursor=cursor)
            )
            await db.commit()

    async def drain_observers(self) -> None:
        """Wait until every observer hook scheduled so far has run."""
        from hub import appkeys

        await self.app[appkeys.OBSERVERS].drain()

    async def fetch_media(self) -> int:
        """Run the inbound-media job now: call the plugins' ``fetch_media`` for every
        message whose files are due; return how many messages it worked on."""
        from hub.channels.media_jobs import fetch_pending_media

        return await fetch_pending_media(self.app)

    async def drain_signals(self) -> None:
        """Wait until every typing indicator and read receipt relayed to the plugins so
        far (``send_typing``, ``mark_read``) has been sent."""
        from hub.channels.agent_signals import signals_of

        await signals_of(self.app).drain()

    async def edit_history(self, message_id: int) -> list[dict[str, Any]]:
        """The earlier versions of an edited inbound message, oldest first (the API does
        not show them yet)."""
        from hub import appkeys
        from hub.store.models import Message

        async with self.app[appkeys.SESSIONS]() as db:
            row = await db.get_one(Message, message_id)
        return list(row.edit_history or [])

    async def backdate_last_inbound(self, conversation_id: int, *, hours: float) -> None:
        """Make the contact's last message in a conversation ``hours`` old, e.g. to close
        a customer-service window (``capabilities.window_hours``)."""
        from sqlalchemy import update

        from hub import appkeys
        from hub.store.models import Conversation

        at = datetime.now(UTC) - timedelta(hours=hours)
        async with self.app[appkeys.SESSIONS]() as db:
            await db.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(last_inbound_at=at)
            )
            await db.commit()

    async def _all_pages(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            page = await self.call("GET", path, params=query)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                return items
