"""Keeping contacts in step: pulls from the stored cursor, CRM webhooks, pushes of
mapped hub fields after a contact changes, and conflicts that are recorded and shown
instead of overwriting a change made in the CRM."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.crm import sync
from hub.settings import Settings
from hub.store.models import Contact, CrmConnection, CrmContactLink, CrmFieldChange, User
from tests.crm_memory import ACCOUNTS, Account, engine_of, quiet_app
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]
MAPPING = [
    {"hub_field": "country", "crm_field": "country", "direction": "both"},
    {"hub_field": "fields.plan", "crm_field": "company", "direction": "push"},
    {"hub_field": "first_name", "crm_field": "firstname", "direction": "pull"},
]


@pytest.fixture
def account() -> Iterator[Account]:
    ACCOUNTS["acme"] = account = Account()
    yield account
    ACCOUNTS.pop("acme", None)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    yield await aiohttp_client(quiet_app(settings))


@pytest.fixture
async def headers(user_token: UserToken) -> dict[str, str]:
    _, admin = await user_token("owner@example.com", role="owner")
    return admin


@pytest.fixture
async def setup(
    client: Client, account: Account, headers: dict[str, str], factory: Factory
) -> tuple[int, int, str]:
    """A connection with the mapping above and one linked contact."""
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "Sales", "config": {"account": "acme"}},
        headers=headers,
    )
    connection_id = (await made.json())["id"]
    saved = await client.put(
        f"/api/v1/crm-connections/{connection_id}/settings",
        json={"mapping": MAPPING},
        headers=headers,
    )
    assert saved.status == 200, await saved.text()
    record_id = account.add(email="ann@example.com", firstname="Ann", country="FR", company="Old")
    account.add(email="other@example.com", firstname="Unlinked")
    contact = await factory.contact(
        "Ann", email="ann@example.com", country="FR", fields={"plan": "Old"}
    )
    await client.get(f"/api/v1/contacts/{contact.id}/crm", headers=headers)
    await engine_of(client).idle()
    return connection_id, contact.id, record_id


async def cached(db: Sessions, contact_id: int) -> CrmContactLink:
    async with db() as session:
        link = await session.scalar(
            select(CrmContactLink).where(CrmContactLink.contact_id == contact_id)
        )
        assert link is not None
        return link


async def contact(db: Sessions, contact_id: int) -> Contact:
    async with db() as session:
        row = await session.get(Contact, contact_id)
        assert row is not None
        return row


async def test_a_pull_follows_the_cursor_and_copies_pulled_fields(
    client: Client, setup: tuple[int, int, str], account: Account, db: Sessions
) -> None:
    connection_id, contact_id, record_id = setup
    engine = engine_of(client)
    await sync.pull(engine.env, connection_id)  # catches up with the records made above
    async with db() as session:
        row = await session.get(CrmConnection, connection_id)
        assert row is not None
        first_cursor = row.sync_cursor
    account.change(record_id, firstname="Anne", country="DE", lifecyclestage="customer")
    calls = account.calls.count("changes_since")

    changed = await sync.pull(engine.env, connection_id)

    assert changed == 1
    assert account.calls.count("changes_since") - calls == 2  # a page, then nothing new
    link = await cached(db, contact_id)
    assert link.cached["lifecyclestage"] == "customer"
    hub = await contact(db, contact_id)
    assert (hub.first_name, hub.country) == ("Anne", "DE")
    async with db() as session:
        row = await session.get(CrmConnection, connection_id)
        assert row is not None and row.sync_cursor != first_cursor


async def test_a_rate_limited_pull_backs_off_the_connection(
    client: Client, setup: tuple[int, int, str], account: Account, db: Sessions
) -> None:
    connection_id = setup[0]
    engine = engine_of(client)
    account.rate_limited = 10

    await sync.pull(engine.env, connection_id)
    calls = len(account.calls)
    await sync.pull(engine.env, connection_id)  # still asked to wait: no call at all

    async with db() as session:
        row = await session.get(CrmConnection, connection_id)
        assert row is not None
        assert row.retry_after is not None and row.failures == 1
    assert len(account.calls) == calls
    assert len(engine.env.calls.waits) == engine.env.calls.attempts - 1


async def test_a_signed_webhook_updates_the_cache_and_a_forged_one_is_refused(
    client: Client, setup: tuple[int, int, str], db: Sessions
) -> None:
    connection_id, contact_id, record_id = setup
    body = json.dumps(
        [{"objectId": int(record_id), "propertyName": "country", "propertyValue": "IT"}]
    )

    forged = await client.post(f"/crm-webhooks/{connection_id}", data=body)
    signed = await client.post(
        f"/crm-webhooks/{connection_id}", data=body, headers={"X-Memory-Signature": "signed"}
    )
    unknown = await client.post("/crm-webhooks/999", data=body)

    assert forged.status == 401
    assert signed.status == 200 and (await signed.json())["changed"] == 1
    assert unknown.status == 404
    link = await cached(db, contact_id)
    assert link.cached["country"] == "IT" and link.cached["firstname"] == "Ann"
    assert (await contact(db, contact_id)).country == "IT"


async def test_a_webhook_body_that_is_too_big_not_utf8_or_too_deep_is_refused(
    client: Client, setup: tuple[int, int, str], settings: Settings
) -> None:
    connection_id, _, _ = setup
    signed = {"X-Memory-Signature": "signed"}
    url = f"/crm-webhooks/{connection_id}"
    utf16 = '[{"objectId": 1}]'.encode("utf-16")
    deep = "[" * (settings.webhook_max_depth + 1) + "]" * (settings.webhook_max_depth + 1)
    big = b"[" + b" " * settings.max_body_bytes + b"]"

    answers = [
        await client.post(url, data=utf16, headers=signed),
        await client.post(url, data=deep, headers=signed),
        await client.post(url, data=big, headers=signed),
    ]

    assert [a.status for a in answers] == [400, 400, 413]
    codes = [(await a.json())["error"]["code"] for a in answers]
    assert codes == ["bad_body", "bad_body", "too_large"]


async def test_a_hub_change_is_pushed_per_the_mapping(
    client: Client,
    setup: tuple[int, int, str],
    account: Account,
    headers: dict[str, str],
    db: Sessions,
) -> None:
    connection_id, contact_id, record_id = setup

    response = await client.patch(
        f"/api/v1/contacts/{contact_id}",
        json={"country": "ES", "first_name": "Hub-only", "fields": {"plan": "Gold"}},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    written = await sync.push_contact(engine_of(client).env, connection_id, contact_id)

    assert sorted(written) == ["company", "country"]  # first_name only pulls
    assert account.records[record_id]["country"] == "ES"
    assert account.records[record_id]["company"] == "Gold"
    assert account.records[record_id]["firstname"] == "Ann"
    async with db() as session:
        sources = list(await session.scalars(select(CrmFieldChange.source)))
    assert sources == ["push", "push"]


async def test_a_crm_change_since_the_fetch_is_a_conflict_not_an_overwrite(
    client: Client,
    setup: tuple[int, int, str],
    account: Account,
    headers: dict[str, str],
    db: Sessions,
) -> None:
    connection_id, contact_id, record_id = setup
    account.change(record_id, country="BE")  # in the CRM, not pulled yet

    await client.patch(f"/api/v1/contacts/{contact_id}", json={"country": "ES"}, headers=headers)
    written = await sync.push_contact(engine_of(client).env, connection_id, contact_id)
    shown = await (await client.get(f"/api/v1/contacts/{contact_id}/crm", headers=headers)).json()

    assert written == []
    assert account.records[record_id]["country"] == "BE"
    conflicts = shown["items"][0]["conflicts"]
    assert [(c["field"], c["hub"], c["crm"]) for c in conflicts] == [("country", "ES", "BE")]
    async with db() as session:
        change = await session.scalar(select(CrmFieldChange))
    assert change is not None
    assert (change.source, change.old_value, change.new_value) == ("conflict", "BE", "ES")


async def test_the_listener_pushes_after_a_contact_change(
    client: Client,
    setup: tuple[int, int, str],
    account: Account,
    headers: dict[str, str],
    factory: Factory,
    db: Sessions,
) -> None:
    contact_id, record_id = setup[1], setup[2]
    # Contact changes are announced to whoever sees one of its conversations.
    await factory.conversation(await factory.channel(), await contact(db, contact_id))
    engine = engine_of(client)
    listener = asyncio.create_task(engine.listen(engine.env.bus))
    await asyncio.sleep(0)

    await client.patch(f"/api/v1/contacts/{contact_id}", json={"country": "PT"}, headers=headers)
    for _ in range(100):
        await asyncio.sleep(0.01)
        await engine.idle()
        if account.records[record_id]["country"] == "PT":
            break
    listener.cancel()

    assert account.records[record_id]["country"] == "PT"


async def test_the_periodic_run_pushes_a_change_no_event_announced(
    client: Client,
    setup: tuple[int, int, str],
    account: Account,
    headers: dict[str, str],
) -> None:
    contact_id, record_id = setup[1], setup[2]  # a contact without conversations
    engine = engine_of(client)
    await engine.pull_all()
    calls = len(account.calls)
    await engine.pull_all()
    quiet = account.calls[calls:]

    await client.patch(f"/api/v1/contacts/{contact_id}", json={"country": "NL"}, headers=headers)
    await engine.pull_all()

    assert quiet == ["changes_since"]  # nothing changed: no read, no write
    assert account.records[record_id]["country"] == "NL"


async def test_a_hub_without_a_crm_starts_no_work_for_contact_changes(
    client: Client, account: Account, headers: dict[str, str], factory: Factory
) -> None:
    engine = engine_of(client)
    contact = await factory.contact("Ann", email="ann@example.com")
    await engine.pull_all()  # finds no connection
    engine.push_soon(contact.id)
    engine.transcript_soon(1)
    assert engine._tasks == {}

    # A connection made in this process is heard of at once.
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "Sales", "config": {"account": "acme"}},
        headers=headers,
    )
    assert made.status == 201, await made.text()
    engine.push_soon(contact.id)
    assert f"push:{contact.id}" in engine._tasks
    await engine.idle()
