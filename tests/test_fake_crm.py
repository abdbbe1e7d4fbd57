"""The localhost fake CRM, driven by the real plugins over real HTTP (no respx): what the
browser tests and the bench rely on — vendor formats, errors and rate limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestServer
from hub_hubspot.config import HubSpotConfig
from hub_hubspot.crm import HubSpotCrm
from hub_salesforce.config import SalesforceConfig
from hub_salesforce.crm import SalesforceCrm

from hub.contract import CrmContext, CrmTokens, RetryLater
from hub.testing import CrmWorld
from tests.fake_crm import fake_crm_app, serve_fake_crm
from tests.fake_hubspot import HubSpotFake
from tests.fake_salesforce import SalesforceFake

TOKEN = "pat-na1-00000000-1111-2222-3333-444444444444"
SECRET = "consumer-secret"
WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_hubspot_plugin_against_the_fake_within_its_rate_limit(
    aiohttp_server: Any,
) -> None:
    world = CrmWorld()
    fake = HubSpotFake(world, token=TOKEN, limit=4, interval=0.3)
    server: TestServer = await aiohttp_server(fake_crm_app(hubspot=fake))
    base = str(server.make_url("/hubspot"))
    async with httpx.AsyncClient() as http:
        crm = HubSpotCrm(
            HubSpotConfig(access_token=TOKEN, api_base_url=base),
            CrmContext(connection_id=1, http=http),
        )
        await crm.connect()
        created = await crm.create_contact({"email": "ada@example.com", "firstname": "Ada"})
        found = await crm.find_contact(email="ada@example.com")
        assert found is not None and found.external_id == created.external_id
        await crm.update_fields(created.external_id, {"lastname": "Lovelace"})
        for _ in range(2):
            await crm.log_conversation(
                created.external_id,
                subject="Chat",
                body="Hi",
                happened_at=WHEN,
                idempotency_key="conv-1",
            )
        [read] = await crm.read_many([created.external_id])
        changes = await crm.changes_since(None)
    assert read.fields["lastname"] == "Lovelace"
    assert [r.external_id for r in changes.records] == [created.external_id]
    assert len(world.activities) == 1
    assert crm.record_url(created.external_id) == (
        f"https://app.hubspot.com/contacts/62515/record/0-1/{created.external_id}"
    )
    # More calls than the window allows: the plugin waited the interval, nothing failed.
    assert fake.limited >= 1 and world.calls > fake.limited


async def test_salesforce_plugin_against_the_fake_refreshes_then_hits_the_quota() -> None:
    world = CrmWorld()
    fake = SalesforceFake(world, client_secret=SECRET, daily_limit=12)
    async with serve_fake_crm(salesforce=fake) as root:
        await _salesforce_round_trip(world, fake, f"{root}/salesforce")


async def _salesforce_round_trip(world: CrmWorld, fake: SalesforceFake, base: str) -> None:
    saved: list[CrmTokens] = []

    async def save(tokens: CrmTokens) -> None:
        saved.append(tokens)

    world.expired = True
    tokens = CrmTokens(
        access_token=world.access_token, refresh_token=world.refresh_token, instance_url=base
    )
    async with httpx.AsyncClient() as http:
        crm = SalesforceCrm(
            SalesforceConfig(login_url=base, client_id="3MVG9", client_secret=SECRET),
            CrmContext(connection_id=1, http=http, tokens=tokens, save_tokens=save),
        )
        await crm.connect()
        created = await crm.create_contact({"Email": "o'hara@example.com", "LastName": "O'Hara"})
        found = await crm.find_contact(email="o'hara@example.com")
        assert found is not None and found.external_id == created.external_id
        await crm.update_fields(created.external_id, {"FirstName": "Scarlett"})
        for _ in range(2):
            await crm.log_conversation(
                created.external_id,
                subject="Chat",
                body="Hi",
                happened_at=WHEN,
                idempotency_key="conv-1",
            )
        [read] = await crm.read_many([created.external_id])
        with pytest.raises(RetryLater):
            for _ in range(20):
                await crm.read_fields(created.external_id)
    assert [t.instance_url for t in saved] == [base]
    assert read.fields["Name"] == "Scarlett O'Hara"
    assert len(world.activities) == 1
    assert fake.used == 12
