"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1: signed deliveries, the
envelope, retries with backoff, giving up after a day, surviving a restart, two workers
never sending the same attempt, the SSRF guard, redelivery and the filters."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.webhook_events import DeliveryRecorder
from hub.channels.webhook_guard import GuardedResolver, UnsafeAddress, check_url
from hub.channels.webhook_subscriptions import sign
from hub.channels.webhook_worker import WebhookWorker, prune_deliveries
from hub.events.bus import MemoryBus
from hub.events.event import HubEvent
from hub.events.work import PRE_COMMIT, unit_of_work
from hub.settings import Settings
from hub.store.crypto import ConfigCipher
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import User, WebhookDelivery, WebhookSubscription
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
HOOKS = "/api/v1/webhooks"
DOC = Path(__file__).resolve().parent.parent / "docs" / "api" / "webhooks-out.md"


class Receiver:
    """A real HTTP endpoint: records every request and answers the statuses queued in
    ``answers`` (then 200)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        status = self.answers.pop(0) if self.answers else 200
        return web.Response(status=status, text="ok" if status < 300 else "receiver broke")

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hook", target.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    target.url = f"http://127.0.0.1:{port}/hook"
    yield target
    await runner.cleanup()


@pytest.fixture
def hub_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_poll_seconds": 0.05})


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], hub_settings: Settings) -> Client:
    return await aiohttp_client(create_app(hub_settings))


@pytest.fixture
async def owner(user_token: UserToken) -> dict[str, str]:
    _, headers = await user_token("owner@example.com", role="owner")
    return headers


async def subscribe(
    client: Client, auth: dict[str, str], url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    body = {"url": url, "events": events, "allow_private": True, **extra}
    response = await client.post(HOOKS, json=body, headers=auth)
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def log_of(client: Client, auth: dict[str, str], hook_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"{HOOKS}/{hook_id}/deliveries", headers=auth)
    assert response.status == 200
    items: list[dict[str, Any]] = (await response.json())["items"]
    return items


async def reply(client: Client, auth: dict[str, str], conversation_id: int, text: str) -> None:
    url = f"/api/v1/conversations/{conversation_id}/messages"
    response = await client.post(url, json={"text": text}, headers=auth)
    assert response.status == 201, await response.text()


async def delivery_rows(db: async_sessionmaker[AsyncSession]) -> list[WebhookDelivery]:
    async with db() as session:
        return list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


async def set_delivery(db: async_sessionmaker[AsyncSession], **values: Any) -> None:
    async with db() as session:
        await session.execute(update(WebhookDelivery).values(**values))
        await session.commit()


async def test_a_reply_is_delivered_signed_in_the_documented_envelope(
    hub: Client, owner: dict[str, str], factory: Factory, receiver: Receiver
) -> None:
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    assert hook["secret"].startswith("whsec_")
    # The secret is shown once: never in a read.
    listed = await (await hub.get(HOOKS, headers=owner)).json()
    assert "secret" not in listed["items"][0]

    await reply(hub, owner, conversation.id, "Your parcel ships today")

    await eventually(lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]
    ts = headers["X-Hub-Timestamp"]
    assert (
        headers["X-Hub-Signature-256"] == sign(hook["secret"], body, int(ts))["X-Hub-Signature-256"]
    )
    assert headers["X-Hub-Signature-256"] != sign("another", body, int(ts))["X-Hub-Signature-256"]
    event = json.loads(body)
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["type"] == headers["X-Hub-Event"] == "message.created"
    assert headers["Idempotency-Key"] == event["id"]
    message = event["data"]["message"]
    assert (message["text"], message["direction"], message["channel_id"]) == (
        "Your parcel ships today",
        "out",
        channel.id,
    )
    assert event["data"]["conversation"]["id"] == conversation.id

    async def logged() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 1, 200)
        assert row["event_id"] == event["id"]
        assert str(row["id"]) == headers["X-Hub-Delivery"]

    await eventually(logged)


async def test_a_failed_attempt_is_retried_with_backoff_then_delivered(
    hub: Client,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
    db: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await factory.conversation(await factory.channel())
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    receiver.answers = [500]
    before = utcnow()
    await reply(hub, owner, conversation.id, "hi")

    async def retried() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("pending", 1, 500)
        assert "receiver broke" in row["last_error"]

    # Longer than the default: the first attempt waits for the worker's turn, which a
    # loaded CI machine delayed past 5 s once.
    await eventually(retried, timeout=20)
    [row] = await delivery_rows(hub.app[appkeys.SESSIONS])
    # The first retry waits half to all of HUB_WEBHOOK_BACKOFF_SECONDS (30 s).
    wait = (row.next_attempt_at - before).total_seconds()
    assert 15 <= wait <= 31
    assert row.give_up_at - row.created_at == timedelta(hours=24)

    await set_delivery(db, next_attempt_at=utcnow())
    await eventually(lambda: len(receiver.requests) == 2)
    first, second = receiver.events()
    assert first["id"] == second["id"]  # the same event, for the receiver to dedupe

    async def delivered() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("delivered", 2, 200)

    await eventually(delivered)


def test_the_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    from hub.channels.backoff import retry_delay

    lows = [retry_delay(n, base=30, cap=3600, rand=lambda: 0.0) for n in range(1, 10)]
    highs = [retry_delay(n, base=30, cap=3600, rand=lambda: 1.0) for n in range(1, 10)]
    assert lows[:4] == [15, 30, 60, 120]
    assert highs[:4] == [30, 60, 120, 240]
    assert highs[-1] == 3600 and lows[-1] == 1800


async def test_a_delivery_that_keeps_failing_gives_up_after_a_day(
    hub: Client,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
    db: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await factory.conversation(await factory.channel())
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    receiver.answers = [503, 503]
    await reply(hub, owner, conversation.id, "hi")

    async def first_failed() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert (row["status"], row["attempts"]) == ("pending", 1)

    await eventually(first_failed)
    # A day later: the next failure is the last.
    await set_delivery(db, next_attempt_at=utcnow(), give_up_at=utcnow() + timedelta(seconds=5))

    async def failed() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert (row["status"], row["attempts"], row["last_status_code"]) == ("failed", 2, 503)
        assert row["next_attempt_at"] is None

    await eventually(failed)


async def test_410_gone_fails_the_delivery_and_disables_the_webhook(
    hub: Client, owner: dict[str, str], factory: Factory, receiver: Receiver
) -> None:
    conversation = await factory.conversation(await factory.channel())
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    receiver.answers = [410]
    await reply(hub, owner, conversation.id, "hi")

    async def gone() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert (row["status"], row["last_status_code"]) == ("failed", 410)
        read = await (await hub.get(f"{HOOKS}/{hook['id']}", headers=owner)).json()
        assert read["enabled"] is False and "410" in read["disabled_reason"]

    await eventually(gone)


async def test_retries_survive_a_restart_of_the_hub(
    aiohttp_client: Callable[..., Awaitable[Client]],
    hub_settings: Settings,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
    db: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await factory.conversation(await factory.channel())
    first = await aiohttp_client(create_app(hub_settings))
    await subscribe(first, owner, receiver.url, ["message.created"])
    receiver.answers = [500]
    await reply(first, owner, conversation.id, "hi")
    await eventually(lambda: len(receiver.requests) == 1)
    await first.close()  # the hub stops with the retry pending

    [row] = await delivery_rows(db)
    assert (row.status, row.attempts) == ("pending", 1)
    await set_delivery(db, next_attempt_at=utcnow())
    await aiohttp_client(create_app(hub_settings))  # started again
    await eventually(lambda: len(receiver.requests) == 2)

    async def delivered() -> None:
        [row] = await delivery_rows(db)
        assert (row.status, row.attempts) == ("delivered", 2)

    await eventually(delivered)


async def _pending_deliveries(
    db: async_sessionmaker[AsyncSession], cipher: ConfigCipher, url: str, count: int
) -> None:
    async with db() as session:
        hook = WebhookSubscription(
            url=url,
            events=["message.created"],
            channel_ids=[],
            secret=cipher.encrypt({"secret": "s3cret"}),
            allow_private=True,
        )
        session.add(hook)
        await session.flush()
        now = utcnow()
        session.add_all(
            WebhookDelivery(
                subscription_id=hook.id,
                event_id=f"evt_{n}",
                event_type="message.created",
                payload={"id": f"evt_{n}", "type": "message.created", "data": {}},
                next_attempt_at=now,
                give_up_at=now + timedelta(days=1),
            )
            for n in range(count)
        )
        await session.commit()


async def test_a_delivery_leased_by_a_dead_process_is_taken_after_its_lease(
    settings: Settings, db: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    cipher = ConfigCipher(settings.secret_key)
    await _pending_deliveries(db, cipher, receiver.url, 1)
    # Claimed by a process that then died mid-attempt.
    await set_delivery(db, lease_owner="dead:1", lease_expires_at=utcnow() + timedelta(minutes=1))
    worker = WebhookWorker(db, settings, cipher, "alive")
    try:
        assert await worker.run_once() == 0
        await set_delivery(db, lease_expires_at=utcnow() - timedelta(seconds=1))
        assert await worker.run_once() == 1
    finally:
        await worker.close()
    assert len(receiver.requests) == 1
    [row] = await delivery_rows(db)
    assert (row.status, row.lease_owner) == ("delivered", None)


async def test_two_processes_never_send_the_same_attempt(
    settings: Settings, db: async_sessionmaker[AsyncSession], receiver: Receiver
) -> None:
    cipher = ConfigCipher(settings.secret_key)
    await _pending_deliveries(db, cipher, receiver.url, 40)
    small = settings.model_copy(update={"webhook_concurrency": 3})
    engines = [create_engine(settings.effective_database_url) for _ in range(2)]
    workers = [
        WebhookWorker(create_sessionmaker(e), small, cipher, f"process-{n}")
        for n, e in enumerate(engines)
    ]

    async def drain(worker: WebhookWorker) -> None:
        for _ in range(200):
            if not await worker.run_once():
                return

    try:
        await asyncio.gather(*(drain(w) for w in workers))
    finally:
        for worker in workers:
            await worker.close()
        for engine in engines:
            await engine.dispose()
    ids = [event["id"] for event in receiver.events()]
    assert sorted(ids) == sorted(f"evt_{n}" for n in range(40))  # each exactly once
    assert all(row.status == "delivered" and row.attempts == 1 for row in await delivery_rows(db))


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/hook",
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://192.168.0.10/",
        "http://[::ffff:10.0.0.1]/",
        "http://[fe80::1]/hook",
        "http://0.0.0.0:8080/",
        "http://localhost:8080/hook",  # a name resolving to a loopback address
    ],
)
async def test_private_addresses_are_refused_unless_allowed(
    hub: Client, owner: dict[str, str], url: str
) -> None:
    response = await hub.post(
        HOOKS, json={"url": url, "events": ["message.created"]}, headers=owner
    )
    assert response.status == 422
    body = await response.json()
    assert body["error"]["details"][0]["field"] == "url"
    assert "private" in body["error"]["message"] + json.dumps(body)
    allowed = await hub.post(
        HOOKS,
        json={"url": url, "events": ["message.created"], "allow_private": True},
        headers=owner,
    )
    assert allowed.status == 201


async def test_a_public_address_passes_the_guard() -> None:
    await check_url("http://93.184.216.34/hook")
    with pytest.raises(UnsafeAddress):
        await check_url("http://100.64.0.1/hook")  # shared address space
    with pytest.raises(UnsafeAddress, match="does not resolve"):
        await check_url("http://a..b/hook")  # a name IDNA refuses: no 500


async def test_the_connection_resolver_refuses_a_name_that_resolves_privately() -> None:
    """What the delivery connects through: checked at connect time, not only before."""
    resolver = GuardedResolver()
    try:
        with pytest.raises(OSError, match="private"):
            await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()


async def test_the_guard_holds_at_delivery_time_too(
    hub: Client,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
    db: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await factory.conversation(await factory.channel())
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    # Allowed when saved, no longer now (as when a name starts resolving elsewhere).
    async with db() as session:
        await session.execute(update(WebhookSubscription).values(allow_private=False))
        await session.commit()
    await reply(hub, owner, conversation.id, "hi")

    async def refused() -> None:
        [row] = await log_of(hub, owner, hook["id"])
        assert row["attempts"] == 1 and row["last_status_code"] is None
        assert "refused" in row["last_error"]

    await eventually(refused)
    assert receiver.requests == []


async def test_redeliver_sends_the_same_event_again(
    hub: Client, owner: dict[str, str], factory: Factory, receiver: Receiver
) -> None:
    conversation = await factory.conversation(await factory.channel())
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    await reply(hub, owner, conversation.id, "hi")
    await eventually(lambda: len(receiver.requests) == 1)

    async def delivered() -> dict[str, Any]:
        [row] = await log_of(hub, owner, hook["id"])
        assert row["status"] == "delivered"
        return row

    row = await eventually(delivered)
    url = f"{HOOKS}/{hook['id']}/deliveries/{row['id']}/redeliver"
    response = await hub.post(url, headers=owner)
    assert response.status == 202
    await eventually(lambda: len(receiver.requests) == 2)
    assert receiver.events()[0]["id"] == receiver.events()[1]["id"]
    again = await eventually(delivered)
    assert again["attempts"] == 2
    assert (
        await hub.post(f"{HOOKS}/{hook['id']}/deliveries/999999/redeliver", headers=owner)
    ).status == 404


async def test_filters_by_event_type_and_channel(
    hub: Client, owner: dict[str, str], factory: Factory, receiver: Receiver
) -> None:
    mine, other = await factory.channel(), await factory.channel()
    here = await factory.conversation(mine)
    there = await factory.conversation(other)
    await subscribe(
        hub, owner, receiver.url, ["conversation.closed", "message.created"], channel_ids=[mine.id]
    )
    await reply(hub, owner, there.id, "other channel")
    closed = await hub.post(f"/api/v1/conversations/{there.id}/close", json={}, headers=owner)
    assert closed.status == 200
    closed = await hub.post(f"/api/v1/conversations/{here.id}/close", json={}, headers=owner)
    assert closed.status == 200
    await reply(hub, owner, here.id, "mine")  # reopens it: conversation.updated, not asked for

    await eventually(lambda: len(receiver.requests) >= 2)
    await asyncio.sleep(0.3)
    # Sent concurrently, so in any order; created_at orders them.
    events = sorted(receiver.events(), key=lambda e: e["created_at"])
    assert [e["type"] for e in events] == ["conversation.closed", "message.created"]
    assert events[0]["data"]["conversation"]["id"] == here.id
    assert events[0]["data"]["change"] == "closed"
    assert events[1]["data"]["message"]["text"] == "mine"


async def test_contact_changes_are_delivered(
    hub: Client, owner: dict[str, str], factory: Factory, receiver: Receiver
) -> None:
    contact = await factory.contact("Dana")
    await factory.conversation(await factory.channel(), contact)
    await subscribe(hub, owner, receiver.url, ["contact.updated"])
    response = await hub.patch(
        f"/api/v1/contacts/{contact.id}", json={"name": "Dana Scully"}, headers=owner
    )
    assert response.status == 200, await response.text()
    await eventually(lambda: len(receiver.requests) == 1)
    event = receiver.events()[0]
    assert event["type"] == "contact.updated"
    assert event["data"]["contact"]["name"] == "Dana Scully"


async def test_a_disabled_webhook_holds_its_deliveries_and_a_deleted_one_drops_them(
    hub: Client,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
    db: async_sessionmaker[AsyncSession],
) -> None:
    conversation = await factory.conversation(await factory.channel())
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    # A test event is queued while disabled: it waits.
    patched = await hub.patch(f"{HOOKS}/{hook['id']}", json={"enabled": False}, headers=owner)
    assert patched.status == 200
    await reply(hub, owner, conversation.id, "not for a disabled webhook")
    test = await hub.post(f"{HOOKS}/{hook['id']}/test", headers=owner)
    assert test.status == 202
    await asyncio.sleep(0.3)
    assert receiver.requests == []
    assert [r.event_type for r in await delivery_rows(db)] == ["webhook.test"]

    await hub.patch(f"{HOOKS}/{hook['id']}", json={"enabled": True}, headers=owner)
    await eventually(lambda: len(receiver.requests) == 1)
    assert receiver.events()[0]["type"] == "webhook.test"

    await hub.patch(f"{HOOKS}/{hook['id']}", json={"enabled": False}, headers=owner)
    await hub.post(f"{HOOKS}/{hook['id']}/test", headers=owner)
    assert (await hub.delete(f"{HOOKS}/{hook['id']}", headers=owner)).status == 204
    assert await delivery_rows(db) == []


async def test_no_event_is_lost_and_none_is_invented(
    settings: Settings, db: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    """The deliveries commit with the change, in its transaction: a rolled-back change
    has none; a committed one has them before anything is announced."""
    cipher = ConfigCipher(settings.secret_key)
    await _pending_deliveries(db, cipher, "https://example.com/hook", 0)
    conversation = await factory.conversation(await factory.channel())
    db.configure(info={PRE_COMMIT: DeliveryRecorder(timedelta(hours=24))})
    bus = MemoryBus()
    created = HubEvent(
        "message.created", {"id": 1, "conversation_id": conversation.id, "text": "x"}
    )
    with pytest.raises(RuntimeError):
        async with unit_of_work(db, bus) as work:
            work.emit(created)
            raise RuntimeError("the change fails")
    assert await delivery_rows(db) == []
    async with unit_of_work(db, bus) as work:
        work.emit(created)
    [row] = await delivery_rows(db)
    assert row.payload["data"]["message"]["text"] == "x"


async def test_only_owners_and_managers_manage_webhooks(
    hub: Client, owner: dict[str, str], user_token: UserToken, receiver: Receiver
) -> None:
    _, agent = await user_token("agent@example.com")
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    types = await (await hub.get(f"{HOOKS}/event-types", headers=owner)).json()
    assert "conversation.closed" in [t["type"] for t in types["items"]]
    assert (await hub.get(f"{HOOKS}/event-types", headers=agent)).status == 403
    assert (await hub.get(HOOKS, headers=agent)).status == 403
    assert (
        await hub.post(
            HOOKS, json={"url": receiver.url, "events": ["message.created"]}, headers=agent
        )
    ).status == 403
    assert (await hub.get(f"{HOOKS}/{hook['id']}/deliveries", headers=agent)).status == 403
    assert (await hub.delete(f"{HOOKS}/{hook['id']}", headers=agent)).status == 403


async def test_bad_input_is_a_precise_422(hub: Client, owner: dict[str, str]) -> None:
    cases = [
        ({"url": "ftp://example.com", "events": ["message.created"]}, "url"),
        ({"url": "http://:80/hook", "events": ["message.created"]}, "url"),
        ({"url": "http://example.com:port/", "events": ["message.created"]}, "url"),
        ({"url": "https://exa mple.com/", "events": ["message.created"]}, "url"),
        ({"url": "https://example.com", "events": ["message.deleted"]}, "events"),
        ({"url": "https://example.com", "events": []}, "events"),
        (
            {"url": "https://example.com", "events": ["message.created"], "channel_ids": [424242]},
            "channel_ids",
        ),
    ]
    for body, field in cases:
        response = await hub.post(HOOKS, json={**body, "allow_private": True}, headers=owner)
        assert response.status == 422, body
        details = (await response.json())["error"]["details"]
        assert details[0]["field"].split(".")[0] == field
    bad_cursor = await hub.get(f"{HOOKS}/1/deliveries", params={"cursor": "x"}, headers=owner)
    assert bad_cursor.status in (404, 422)


async def test_rotating_the_secret_signs_with_the_new_one(
    hub: Client, owner: dict[str, str], receiver: Receiver
) -> None:
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    response = await hub.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=owner)
    assert response.status == 200
    secret = (await response.json())["secret"]
    assert secret != hook["secret"]
    await hub.post(f"{HOOKS}/{hook['id']}/test", headers=owner)
    await eventually(lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]
    ts = int(headers["X-Hub-Timestamp"])
    assert headers["X-Hub-Signature-256"] == sign(secret, body, ts)["X-Hub-Signature-256"]


async def test_old_delivered_rows_are_pruned(
    settings: Settings, db: async_sessionmaker[AsyncSession]
) -> None:
    cipher = ConfigCipher(settings.secret_key)
    await _pending_deliveries(db, cipher, "https://example.com/hook", 3)
    async with db() as session:
        ids = list(await session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.id)))
        old = utcnow() - timedelta(days=8)
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids[:2]))
            .values(status="delivered", created_at=old)
        )
        # Old but still pending: kept.
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == ids[2]).values(created_at=old)
        )
        await session.commit()
    assert await prune_deliveries(db, keep_days=7) == 2
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1


async def test_the_documented_receiver_verifies_a_real_delivery(
    hub: Client, owner: dict[str, str]
) -> None:
    """Runs the Python receiver of docs/api/webhooks-out.md as written."""
    code = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)[0]
    example: dict[str, Any] = {"__name__": "receiver_example"}
    exec(compile(code, str(DOC), "exec"), example)  # our own docs, run as written
    handled: list[dict[str, Any]] = []
    example["handle"] = handled.append
    server = ThreadingHTTPServer(("127.0.0.1", 0), example["Receiver"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/events"
        hook = await subscribe(hub, owner, url, ["message.created"])
        example["SECRET"] = "wrong"
        await hub.post(f"{HOOKS}/{hook['id']}/test", headers=owner)

        async def refused() -> None:
            [row] = await log_of(hub, owner, hook["id"])
            assert row["last_status_code"] == 401

        await eventually(refused)
        assert handled == []
        example["SECRET"] = hook["secret"]
        [row] = await log_of(hub, owner, hook["id"])
        await hub.post(f"{HOOKS}/{hook['id']}/deliveries/{row['id']}/redeliver", headers=owner)
        await eventually(lambda: len(handled) == 1)
        assert handled[0]["type"] == "webhook.test"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_a_contacts_message_through_the_inbound_pipe_is_delivered(
    hub: Client, owner: dict[str, str], receiver: Receiver
) -> None:
    """The group-committed inbound path writes the deliveries in its transaction too."""
    from hub_custom_channel.signing import signed_headers

    response = await hub.post(
        "/api/v1/channels",
        json={
            "type": "custom_channel",
            "name": "App chat",
            "config": {"outbound_url": "https://chat.example.com/replies"},
        },
        headers=owner,
    )
    assert response.status == 201, await response.text()
    channel = await response.json()
    await subscribe(hub, owner, receiver.url, ["message.created", "conversation.created"])
    event = {
        "type": "message",
        "id": "m-1",
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": "u-42", "name": "Ada Lovelace"},
        "text": "Hello from Ada",
    }
    body = json.dumps(event).encode()
    posted = await hub.post(
        f"/webhooks/{channel['id']}",
        data=body,
        headers={
            "Content-Type": "application/json",
            **signed_headers(channel["config"]["signing_secret"], body),
        },
    )
    assert posted.status == 200, await posted.text()
    await eventually(lambda: len(receiver.requests) == 2)
    by_type = {e["type"]: e for e in receiver.events()}
    message = by_type["message.created"]["data"]["message"]
    assert (message["text"], message["direction"]) == ("Hello from Ada", "in")
    assert message["contact_id"] is not None
    created = by_type["conversation.created"]["data"]["conversation"]
    assert created["id"] == message["conversation_id"]
    assert created["channel_id"] == channel["id"]


async def test_redeliver_waits_while_an_attempt_is_in_flight(
    hub: Client,
    owner: dict[str, str],
    receiver: Receiver,
    db: async_sessionmaker[AsyncSession],
) -> None:
    hook = await subscribe(hub, owner, receiver.url, ["message.created"])
    await hub.patch(f"{HOOKS}/{hook['id']}", json={"enabled": False}, headers=owner)
    test = await (await hub.post(f"{HOOKS}/{hook['id']}/test", headers=owner)).json()
    # A worker holds it right now.
    await set_delivery(db, lease_owner="busy:1", lease_expires_at=utcnow() + timedelta(minutes=1))
    url = f"{HOOKS}/{hook['id']}/deliveries/{test['id']}/redeliver"
    response = await hub.post(url, headers=owner)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "in_flight"
    one = await hub.get(f"{HOOKS}/{hook['id']}/deliveries/{test['id']}", headers=owner)
    assert (await one.json())["event_type"] == "webhook.test"
    other = await subscribe(hub, owner, receiver.url, ["message.created"])
    wrong = f"{HOOKS}/{other['id']}/deliveries/{test['id']}"
    assert (await hub.get(wrong, headers=owner)).status == 404


async def test_a_change_wakes_the_worker_rather_than_waiting_for_the_poll(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
) -> None:
    slow = await aiohttp_client(
        create_app(settings.model_copy(update={"webhook_poll_seconds": 60.0}))
    )
    conversation = await factory.conversation(await factory.channel())
    await subscribe(slow, owner, receiver.url, ["message.created"])
    await reply(slow, owner, conversation.id, "at once")
    await eventually(lambda: len(receiver.requests) == 1, timeout=20)


async def test_a_change_that_recorded_no_delivery_leaves_the_worker_asleep(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    owner: dict[str, str],
    factory: Factory,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow = await aiohttp_client(
        create_app(settings.model_copy(update={"webhook_poll_seconds": 60.0}))
    )
    worker = slow.app[appkeys.WEBHOOKS]
    passes: list[bool] = []
    claim = worker.claim

    async def counted(size: int) -> tuple[str, list[int]]:
        passes.append(True)
        return await claim(size)

    monkeypatch.setattr(worker, "claim", counted)
    conversation = await factory.conversation(await factory.channel())
    # No subscription: the replies' events wake nothing (before, each ran a claim).
    for text in ("one", "two", "three"):
        await reply(slow, owner, conversation.id, text)
    await asyncio.sleep(0.2)
    assert passes == []
    await subscribe(slow, owner, receiver.url, ["message.created"])
    await reply(slow, owner, conversation.id, "at once")
    await eventually(lambda: len(receiver.requests) == 1, timeout=20)
    assert len(passes) >= 1


async def test_a_failed_job_of_a_group_commit_sends_nothing(
    settings: Settings, db: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    """In a batch of inbound jobs, only those whose savepoint held get deliveries."""
    from hub.channels.group_commit import GroupCommitter
    from hub.events.work import Work

    cipher = ConfigCipher(settings.secret_key)
    await _pending_deliveries(db, cipher, "https://example.com/hook", 0)
    conversation = await factory.conversation(await factory.channel())
    db.configure(info={PRE_COMMIT: DeliveryRecorder(timedelta(hours=24))})
    bus = MemoryBus()
    committer = GroupCommitter(db, bus, None, batch_max=10)
    committer.start()

    def job(text: str, fail: bool) -> Callable[[Work], Awaitable[str]]:
        async def run(work: Work) -> str:
            payload = {"id": 1, "conversation_id": conversation.id, "text": text}
            work.emit(HubEvent("message.created", payload))
            if fail:
                raise ValueError("poison")
            return text

        return run

    try:
        results = await asyncio.gather(
            committer.submit(job("kept", False)),
            committer.submit(job("dropped", True)),
            committer.submit(job("kept too", False)),
            return_exceptions=True,
        )
    finally:
        await committer.stop()
    assert results[0] == "kept" and isinstance(results[1], ValueError)
    texts = sorted(r.payload["data"]["message"]["text"] for r in await delivery_rows(db))
    assert texts == ["kept", "kept too"]
