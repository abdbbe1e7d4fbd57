"""A contact's CRM records for agents: linked in the background on first read, cached
values answered at once with their age, edits checked by type, refused with a 409 when
the CRM changed meanwhile, recorded with the earlier value (revert), shown in the
contact's activity; rate limits back off, outages leave the cache and an error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.inbox.contact_activity import contact_activity
from hub.settings import Settings
from hub.store.models import CrmContactLink, CrmFieldChange, User
from hub.store.types import utcnow
from tests.crm_memory import ACCOUNTS, Account, engine_of, quiet_app
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def account() -> Iterator[Account]:
    ACCOUNTS["acme"] = account = Account()
    account.owners["o-1"] = "Owner@Example.com"
    yield account
    ACCOUNTS.pop("acme", None)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    yield await aiohttp_client(quiet_app(settings))


@pytest.fixture
async def people(user_token: UserToken) -> tuple[dict[str, str], dict[str, str], User]:
    _, admin = await user_token("owner@example.com", role="owner")
    agent, headers = await user_token("agent@example.com", name="Ada Agent")
    return admin, headers, agent


@pytest.fixture
async def linked(
    client: Client,
    account: Account,
    people: tuple[dict[str, str], dict[str, str], User],
    factory: Factory,
) -> tuple[int, int, str]:
    """A connection and a contact whose record the first read links: (connection id,
    contact id, record id)."""
    admin = people[0]
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "Sales", "config": {"account": "acme"}},
        headers=admin,
    )
    connection_id = (await made.json())["id"]
    record_id = account.add(
        owner="o-1",
        email="ann@example.com",
        firstname="Ann",
        lastname="Lee",
        company="Acme",
        lifecyclestage="lead",
        score="3",
    )
    contact = await factory.contact("Ann Lee", email="ann@example.com")
    await read(client, people[1], contact.id)
    await engine_of(client).idle()
    return connection_id, contact.id, record_id


async def read(client: Client, headers: dict[str, str], contact_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/contacts/{contact_id}/crm", headers=headers)
    assert response.status == 200, await response.text()
    item: dict[str, Any] = (await response.json())["items"][0]
    return item


def values(item: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: f["value"] for f in item["fields"]}


async def edit(client: Client, headers: dict[str, str], contact_id: int, **body: Any) -> Any:
    return await client.patch(f"/api/v1/contacts/{contact_id}/crm", json=body, headers=headers)


async def test_the_first_read_links_in_the_background_then_shows_the_default_fields(
    client: Client,
    account: Account,
    people: tuple[dict[str, str], dict[str, str], User],
    factory: Factory,
) -> None:
    admin, agent, _ = people
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "Sales", "config": {"account": "acme"}},
        headers=admin,
    )
    assert made.status == 201
    record_id = account.add(owner="o-1", phone="+4915123456789", firstname="Bo", company="B&B")
    contact = await factory.contact("Bo", email="bo@example.com", phone="+4915123456789")

    first = await read(client, agent, contact.id)
    await engine_of(client).idle()
    second = await read(client, agent, contact.id)

    assert (first["linked"], first["refreshing"], first["fields"]) == (False, True, [])
    assert second["linked"] is True and second["refreshing"] is False
    assert second["external_id"] == record_id
    assert second["record_url"] == f"https://crm.example.test/contacts/{record_id}"
    assert second["owner"] == {"external_id": "o-1", "email": "owner@example.com"}
    assert [f["name"] for f in second["fields"]] == [
        "firstname",
        "lastname",
        "company",
        "hubspot_owner_id",
        "lifecyclestage",
    ]
    editable = {f["name"] for f in second["fields"] if f["editable"]}
    assert editable == {"firstname", "lastname"}
    assert values(second)["company"] == "B&B"
    assert account.calls.count("find_contact") == 2  # by email (none), then by phone


async def test_no_record_and_no_create_rule_leaves_it_unlinked(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    factory: Factory,
    account: Account,
) -> None:
    stranger = await factory.contact("Cy", email="cy@example.com")
    searches = account.calls.count("find_contact")

    await read(client, people[1], stranger.id)
    await engine_of(client).idle()
    item = await read(client, people[1], stranger.id)

    assert item["linked"] is False
    assert item["refreshing"] is False  # not searched again at once
    assert account.calls.count("find_contact") - searches == 1  # by email; it has no phone
    assert "create_contact" not in account.calls


async def test_the_create_rule_creates_the_record_with_pushed_fields(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    factory: Factory,
    account: Account,
) -> None:
    connection_id = linked[0]
    admin, agent, _ = people
    response = await client.put(
        f"/api/v1/crm-connections/{connection_id}/settings",
        json={
            "linking": {"create_when_missing": True},
            "mapping": [{"hub_field": "country", "crm_field": "country", "direction": "push"}],
        },
        headers=admin,
    )
    assert response.status == 200
    new = await factory.contact("Dee", email="dee@example.com", country="DE")

    await read(client, agent, new.id)
    await engine_of(client).idle()
    item = await read(client, agent, new.id)

    assert item["linked"] is True
    assert account.records[item["external_id"]] == {"email": "dee@example.com", "country": "DE"}


async def test_an_edit_is_written_recorded_and_revertable(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    account: Account,
    db: Sessions,
) -> None:
    connection_id, contact_id, record_id = linked
    agent_headers, agent = people[1], people[2]

    changed = await edit(
        client,
        agent_headers,
        contact_id,
        connection_id=connection_id,
        field="firstname",
        value="Anna",
        expected="Ann",
    )
    after = await read(client, agent_headers, contact_id)
    reverted = await edit(
        client,
        agent_headers,
        contact_id,
        connection_id=connection_id,
        field="firstname",
        value="Ann",
        expected="Anna",
    )

    assert changed.status == 200, await changed.text()
    assert (await changed.json())["old_value"] == "Ann"
    first_name = next(f for f in after["fields"] if f["name"] == "firstname")
    assert first_name["value"] == "Anna"
    assert first_name["previous"]["value"] == "Ann"  # what the revert icon goes back to
    assert reverted.status == 200
    assert account.records[record_id]["firstname"] == "Ann"
    async with db() as session:
        changes = list(await session.scalars(select(CrmFieldChange).order_by(CrmFieldChange.id)))
        activity = await contact_activity(session, Viewer.of(agent), contact_id)
    assert [(c.old_value, c.new_value, c.actor_id) for c in changes] == [
        ("Ann", "Anna", agent.id),
        ("Anna", "Ann", agent.id),
    ]
    crm = [a for a in activity if a.kind == "crm"]
    assert [a.what for a in crm] == [
        "Sales: firstname changed from Anna to Ann",
        "Sales: firstname changed from Ann to Anna",
    ]
    assert crm[0].who == "Ada Agent" and crm[0].conversation_id is None


async def test_a_value_changed_in_the_crm_meanwhile_is_a_409_with_both_values(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    account: Account,
    db: Sessions,
) -> None:
    connection_id, contact_id, record_id = linked
    account.change(record_id, lifecyclestage="customer")  # a colleague in the CRM

    response = await edit(
        client,
        people[1],
        contact_id,
        connection_id=connection_id,
        field="firstname",
        value="Anne",
        expected="Ann",
    )
    ok = response.status
    account.change(record_id, firstname="Annie")
    conflict = await edit(
        client,
        people[1],
        contact_id,
        connection_id=connection_id,
        field="firstname",
        value="Anne",
        expected="Ann",
    )
    shown = await read(client, people[1], contact_id)

    assert ok == 200  # another field's change is no conflict
    assert conflict.status == 409
    error = (await conflict.json())["error"]
    assert error["code"] == "crm_conflict"
    assert error["details"] == {"field": "firstname", "expected": "Ann", "current": "Annie"}
    assert account.records[record_id]["firstname"] == "Annie"  # not overwritten
    assert values(shown)["firstname"] == "Annie"  # the cache now shows the CRM's value
    assert values(shown)["lifecyclestage"] == "customer"


async def test_values_are_checked_by_type_and_editability(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    account: Account,
) -> None:
    connection_id, contact_id, _ = linked
    admin, agent, _ = people
    await client.put(
        f"/api/v1/crm-connections/{connection_id}/settings",
        json={
            "shown_fields": ["firstname", "email", "score", "lifecyclestage"],
            "editable_fields": ["firstname", "email", "score", "lifecyclestage"],
        },
        headers=admin,
    )
    calls = len(account.calls)

    number = await edit(
        client,
        agent,
        contact_id,
        connection_id=connection_id,
        field="score",
        value="lots",
        expected="3",
    )
    option = await edit(
        client,
        agent,
        contact_id,
        connection_id=connection_id,
        field="lifecyclestage",
        value="vip",
        expected="lead",
    )
    email = await edit(
        client,
        agent,
        contact_id,
        connection_id=connection_id,
        field="email",
        value="x@example.com",
        expected=None,
    )
    unknown = await edit(
        client,
        agent,
        contact_id,
        connection_id=connection_id,
        field="shoe",
        value="1",
        expected=None,
    )
    good = await edit(
        client,
        agent,
        contact_id,
        connection_id=connection_id,
        field="score",
        value=7,
        expected=3,
    )

    for response, field in (
        (number, "score"),
        (option, "lifecyclestage"),
        (email, "field"),
        (unknown, "field"),
    ):
        assert response.status == 422, await response.text()
        assert (await response.json())["error"]["details"][0]["field"] == field
    assert account.calls[calls:] == ["read_fields", "update_fields"]  # only the good one
    assert good.status == 200  # "3" from the CRM is the 3 the agent saw


async def test_a_hidden_contact_is_not_found(
    client: Client,
    linked: tuple[int, int, str],
    user_token: UserToken,
) -> None:
    _, restricted = await user_token("r@example.com", visibility="assigned")

    response = await client.get(f"/api/v1/contacts/{linked[1]}/crm", headers=restricted)
    patched = await edit(
        client,
        restricted,
        linked[1],
        connection_id=linked[0],
        field="firstname",
        value="X",
        expected="Ann",
    )

    assert (response.status, patched.status) == (404, 404)


async def test_a_rate_limit_backs_off_and_succeeds(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    account: Account,
) -> None:
    connection_id, contact_id, record_id = linked
    engine = engine_of(client)
    account.rate_limited = 2

    response = await edit(
        client,
        people[1],
        contact_id,
        connection_id=connection_id,
        field="lastname",
        value="Li",
        expected="Lee",
    )

    assert response.status == 200
    assert len(engine.env.calls.waits) == 2
    assert engine.env.calls.waits[1] > 0
    assert account.records[record_id]["lastname"] == "Li"


async def test_an_outage_answers_cached_values_with_their_age_and_the_error(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    account: Account,
    db: Sessions,
) -> None:
    connection_id, contact_id, _ = linked
    async with db() as session:
        await session.execute(
            update(CrmContactLink).values(fetched_at=utcnow() - timedelta(hours=2))
        )
        await session.commit()
    account.down = True

    stale = await read(client, people[1], contact_id)
    await engine_of(client).idle()
    after = await read(client, people[1], contact_id)
    refused = await edit(
        client,
        people[1],
        contact_id,
        connection_id=connection_id,
        field="firstname",
        value="X",
        expected="Ann",
    )

    assert stale["refreshing"] is True and stale["age_seconds"] >= 7200
    assert values(after)["firstname"] == "Ann"  # the cache still answers
    assert after["age_seconds"] >= 7200
    assert "could not be reached" in after["error"] or "asked to wait" in after["error"]
    assert refused.status == 503
    assert refused.headers["Retry-After"]


async def test_refused_credentials_put_the_connection_in_error(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
    account: Account,
) -> None:
    connection_id, contact_id, _ = linked
    account.token = "rotated-by-an-admin"

    refused = await edit(
        client,
        people[1],
        contact_id,
        connection_id=connection_id,
        field="firstname",
        value="X",
        expected="Ann",
    )
    item = await read(client, people[1], contact_id)

    assert refused.status == 502
    assert (await refused.json())["error"]["code"] == "crm_bad_credentials"
    assert item["status"] == "error"
    assert "token is invalid" in item["error"] and "reconnect" in item["error"]
    assert values(item)["firstname"] == "Ann"


async def test_bad_bodies_are_422_and_bad_webhooks_4xx_never_500(
    client: Client,
    linked: tuple[int, int, str],
    people: tuple[dict[str, str], dict[str, str], User],
) -> None:
    connection_id, contact_id, _ = linked
    agent = people[1]

    missing = await client.patch(
        f"/api/v1/contacts/{contact_id}/crm",
        json={"connection_id": connection_id, "field": "firstname", "value": "X"},
        headers=agent,
    )
    huge_id = await edit(
        client, agent, contact_id, connection_id=2**70, field="firstname", value="X", expected=None
    )
    not_json = await client.post(
        f"/crm-webhooks/{connection_id}",
        data=b"\xff not json",
        headers={"X-Memory-Signature": "signed"},
    )

    assert missing.status == 422
    assert (await missing.json())["error"]["details"][0]["field"] == "expected"
    assert huge_id.status == 422
    assert not_json.status == 400
