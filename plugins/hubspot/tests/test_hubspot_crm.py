"""HubSpot specifics beyond the kit: webhook signatures, the catalog's mapping, pulls,
conflicts, daily limits, OAuth code exchange, paths and links."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from hub.contract import (
    BadCredentials,
    CrmContext,
    CrmTokens,
    PermanentFailure,
    RetryLater,
    WebhookRejected,
    WebhookRequest,
)
from hub.testing import CrmWorld
from tests.fake_crm import route_respx
from tests.fake_hubspot import OWNER, PORTAL_ID, HubSpotFake

from hub_hubspot import records, signing
from hub_hubspot.config import HubSpotConfig
from hub_hubspot.crm import HubSpotCrm

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
SECRET = "0a1b2c3d-client-secret"
API = "https://api.hubapi.com"
HOOK_URL = "https://hub.example.test/webhooks/crm/1?x=a%3Ab"


@asynccontextmanager
async def hubspot(world: CrmWorld, **config: Any) -> AsyncIterator[HubSpotCrm]:
    """A private-app HubSpot on the fake."""
    settings = {"access_token": TOKEN, "client_secret": SECRET, **config}
    with respx.mock(assert_all_called=False) as router:
        route_respx(router, API, HubSpotFake(world, token=TOKEN))
        async with httpx.AsyncClient() as http:
            yield HubSpotCrm(HubSpotConfig(**settings), CrmContext(connection_id=1, http=http))


def signed(body: bytes, *, secret: str = SECRET, stamp: int | None = None) -> WebhookRequest:
    """A webhook request signed the way HubSpot's docs describe (v3)."""
    when = str(int(time.time() * 1000) if stamp is None else stamp)
    # HubSpot signs the URL with the listed escapes decoded.
    text = "POST" + HOOK_URL.replace("%3A", ":") + body.decode() + when
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return WebhookRequest(
        method="POST",
        url=HOOK_URL,
        headers={
            "X-HubSpot-Signature-v3": base64.b64encode(digest).decode(),
            "X-HubSpot-Request-Timestamp": when,
            "Content-Type": "application/json",
        },
        query={"x": "a:b"},
        body=body,
    )


EVENTS = [
    {
        "eventId": 100,
        "subscriptionId": 2345,
        "portalId": PORTAL_ID,
        "appId": 987,
        "occurredAt": 1767225600000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 1001,
        "propertyName": "firstname",
        "propertyValue": "Ada",
        "changeSource": "CRM_UI",
    },
    {
        "eventId": 101,
        "subscriptionId": 2345,
        "portalId": PORTAL_ID,
        "appId": 987,
        "occurredAt": 1767225601000,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": 1001,
        "propertyName": "lifecyclestage",
        "propertyValue": "customer",
        "changeSource": "CRM_UI",
    },
    {
        "eventId": 102,
        "subscriptionId": 2346,
        "portalId": PORTAL_ID,
        "appId": 987,
        "occurredAt": 1767225602000,
        "subscriptionType": "contact.deletion",
        "attemptNumber": 0,
        "objectId": 1002,
        "changeSource": "CRM_UI",
    },
]


async def test_webhook_batch_becomes_one_record_per_contact_with_changed_fields() -> None:
    async with hubspot(CrmWorld()) as crm:
        found = await crm.handle_webhook(signed(json.dumps(EVENTS).encode()))
    assert [r.external_id for r in found] == ["1001"]
    assert found[0].fields == {"firstname": "Ada", "lifecyclestage": "customer"}
    assert found[0].updated_at is not None and found[0].updated_at.year == 2026


@pytest.mark.parametrize(
    ("request_of", "status"),
    [
        (lambda body: signed(body, secret="another-secret"), 403),
        (lambda body: signed(body, stamp=int(time.time() * 1000) - 301_000), 403),
        (
            lambda body: signed(body).model_copy(
                update={"headers": {"X-HubSpot-Request-Timestamp": "1"}}
            ),
            401,
        ),
        (lambda body: signed(body).model_copy(update={"body": body + b" "}), 403),
        (lambda body: signed(b'{"not": "a list"}'), 400),
    ],
    ids=["wrong secret", "stale", "unsigned", "body changed", "not an array"],
)
async def test_webhook_refusals(request_of: Any, status: int) -> None:
    async with hubspot(CrmWorld()) as crm:
        with pytest.raises(WebhookRejected) as caught:
            await crm.handle_webhook(request_of(json.dumps(EVENTS).encode()))
    assert caught.value.status == status


async def test_webhook_events_with_odd_values_are_skipped_not_crashed_on() -> None:
    odd = [
        {
            "subscriptionType": "contact.propertyChange",
            "occurredAt": "soon",
            "objectId": 7,
            "propertyName": "firstname",
            "propertyValue": "Kit",
        },
        {"subscriptionType": "contact.propertyChange", "occurredAt": 1767225600000},
        {"subscriptionType": "contact.creation", "objectId": 8, "occurredAt": None},
    ]
    async with hubspot(CrmWorld()) as crm:
        found = await crm.handle_webhook(signed(json.dumps(odd).encode()))
    assert [(r.external_id, r.fields) for r in found] == [("7", {"firstname": "Kit"}), ("8", {})]


async def test_webhook_without_client_secret_is_refused() -> None:
    async with hubspot(CrmWorld(), client_secret=None) as crm:
        with pytest.raises(WebhookRejected) as caught:
            await crm.handle_webhook(signed(b"[]"))
    assert caught.value.status == 403


def test_signature_matches_hubspots_documented_example_shape() -> None:
    # The same inputs give the same base64 value; the URL escapes are decoded first.
    one = signing.signature("s", "post", "https://a.test/p?u=%3A%2F", b"{}", "1")
    two = signing.signature("s", "POST", "https://a.test/p?u=:/", b"{}", "1")
    assert one == two and base64.b64decode(one)


def test_properties_map_to_fields_with_read_only_flags_and_options() -> None:
    def prop(**extra: Any) -> dict[str, Any]:
        return {
            "name": "x",
            "label": "X",
            "type": "string",
            "fieldType": "text",
            "modificationMetadata": {"readOnlyValue": False},
            **extra,
        }

    assert records.field_of(prop()).editable
    assert not records.field_of(prop(modificationMetadata={"readOnlyValue": True})).editable
    assert not records.field_of(prop(calculated=True)).editable
    assert not records.field_of(prop(name="email")).editable
    phone = records.field_of(prop(name="work", fieldType="phonenumber"))
    assert phone.type == "phone" and phone.editable
    enum = records.field_of(
        prop(
            type="enumeration",
            options=[{"value": "a"}, {"value": "b", "hidden": True}, {"value": "c"}],
        )
    )
    assert (enum.type, enum.options) == ("enum", ("a", "c"))
    assert records.field_of(prop(type="bool")).type == "boolean"
    assert records.field_of(prop(type="datetime")).type == "datetime"


async def test_catalog_leaves_out_hidden_properties() -> None:
    async with hubspot(CrmWorld()) as crm:
        names = {f.name for f in await crm.field_catalog()}
    assert "lifecyclestage" in names
    assert "hs_searchable_calculated_phone_number" not in names


async def test_create_of_an_existing_email_returns_the_existing_contact() -> None:
    world = CrmWorld()
    existing = world.add_contact({"email": "ada@example.com", "firstname": "Ada"})
    async with hubspot(world) as crm:
        record = await crm.create_contact({"email": "ADA@example.com", "firstname": "Other"})
    assert record.external_id == existing and record.fields["firstname"] == "Ada"
    assert len(world.contacts) == 1


async def test_changes_since_pages_by_modification_time_and_resumes() -> None:
    world = CrmWorld()
    for n in range(150):
        world.add_contact(
            {"email": f"c{n}@example.com", "lastmodifieddate": "2026-01-01T00:00:00.000Z"}
        )
    async with hubspot(world) as crm:
        first = await crm.changes_since(None)
        second = await crm.changes_since(first.cursor)
        third = await crm.changes_since(second.cursor)
        ids = [r.external_id for r in first.records + second.records]
        assert len(ids) == 150 == len(set(ids)), "ties at one moment are neither lost nor repeated"
        assert third.records == []
        await crm.update_fields(ids[0], {"firstname": "Changed"})
        fourth = await crm.changes_since(third.cursor)
    assert [r.external_id for r in fourth.records] == [ids[0]]
    assert fourth.records[0].fields["firstname"] == "Changed"


async def test_daily_limit_is_retry_later_until_midnight() -> None:
    def daily(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429,
            json={
                "status": "error",
                "message": "You have reached your daily limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": "c",
                "policyName": "DAILY",
                "requestId": "r",
            },
        )

    with respx.mock() as router:
        router.route(host="api.hubapi.com").mock(side_effect=daily)
        async with httpx.AsyncClient() as http:
            crm = HubSpotCrm(
                HubSpotConfig(access_token=TOKEN), CrmContext(connection_id=1, http=http)
            )
            with pytest.raises(RetryLater) as caught:
                await crm.owner_email("1")
        assert router.calls.call_count == 1, "a daily limit is not retried in place"
    assert caught.value.after is not None and 0 < caught.value.after <= 86_400


async def test_ten_secondly_limit_waits_the_interval_then_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    world = CrmWorld()
    world.rate_limited = 2
    async with hubspot(world) as crm:
        assert await crm.owner_email(OWNER["id"]) == "owner@example.com"
        assert await crm.owner_email("404") is None
    assert waits == [10.0, 10.0]


async def test_oauth_code_exchange_keeps_the_portal_and_refresh_token() -> None:
    world = CrmWorld()
    with respx.mock() as router:
        route_respx(router, API, HubSpotFake(world))
        async with httpx.AsyncClient() as http:
            crm = HubSpotCrm(
                HubSpotConfig(client_id="a1b2c3", client_secret=SECRET),
                CrmContext(connection_id=1, http=http),
            )
            tokens = await crm.exchange_code(
                code="code-1", redirect_uri="https://hub.example.test/cb", code_verifier="v" * 43
            )
        token_call = router.calls[0].request
    assert token_call.url.path == "/oauth/2026-03/token"
    form = dict(httpx.QueryParams(token_call.content.decode()))
    assert form["grant_type"] == "authorization_code" and form["client_secret"] == SECRET
    assert tokens.access_token == world.access_token and tokens.refresh_token
    assert tokens.extra["hub_id"] == str(PORTAL_ID)
    assert tokens.expires_at is not None


async def test_oauth_token_near_expiry_is_refreshed_before_the_call() -> None:
    world = CrmWorld()
    saved: list[CrmTokens] = []

    async def save(tokens: CrmTokens) -> None:
        saved.append(tokens)

    old = CrmTokens(
        access_token=world.access_token,
        refresh_token=world.refresh_token,
        expires_at=datetime.now(UTC) + timedelta(minutes=1),
    )
    with respx.mock() as router:
        route_respx(router, API, HubSpotFake(world))
        async with httpx.AsyncClient() as http:
            crm = HubSpotCrm(
                HubSpotConfig(client_id="a1b2c3", client_secret=SECRET),
                CrmContext(connection_id=1, http=http, tokens=old, save_tokens=save),
            )
            await crm.field_catalog()
        paths = [call.request.url.path for call in router.calls]
    assert [t.refresh_token for t in saved] == [world.refresh_token] != [old.refresh_token]
    assert paths[0].endswith("/token"), "refreshed ahead, not after a 401"


async def test_paths_follow_the_api_version_and_record_url_names_the_portal() -> None:
    world = CrmWorld()
    async with hubspot(world, api_version="v3") as crm:
        assert crm.client.path("crm/objects", "contacts") == "/crm/v3/objects/contacts"
        assert crm.client.path("account-info", "details") == "/account-info/v3/details"
        assert crm.record_url("5") is None, "the portal is not known before connect"
        await crm.connect()
        assert crm.record_url("5") == (f"https://app.hubspot.com/contacts/{PORTAL_ID}/record/0-1/5")
    async with hubspot(world) as crm:
        assert crm.client.path("crm/objects", "contacts") == "/crm/objects/2026-03/contacts"


async def test_search_secondly_limit_waits_a_second_per_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    world = CrmWorld()
    world.add_contact({"email": "s@example.com"})
    fake = HubSpotFake(world, token=TOKEN, searches_per_second=0)
    with respx.mock() as router:
        route_respx(router, API, fake)
        async with httpx.AsyncClient() as http:
            crm = HubSpotCrm(
                HubSpotConfig(access_token=TOKEN), CrmContext(connection_id=1, http=http)
            )
            with pytest.raises(RetryLater) as caught:
                await crm.find_contact(email="s@example.com")
    assert waits == [1.0, 2.0] and caught.value.after == 3.0
    assert fake.limited == 3


async def test_refused_token_missing_scopes_and_read_only_writes_are_typed() -> None:
    world = CrmWorld()
    contact = world.add_contact({"email": "t@example.com"})
    async with hubspot(world, access_token="pat-na1-wrong") as crm:
        with pytest.raises(BadCredentials, match="Authentication credentials not found"):
            await crm.connect()
    async with hubspot(world) as crm:
        with pytest.raises(PermanentFailure) as read_only:
            await crm.update_fields(contact, {"hs_email_domain": "example.org"})
        with pytest.raises(PermanentFailure) as identity:
            await crm.update_fields(contact, {"email": "new@example.com", "firstname": "X"})
    assert (
        read_only.value.code == "VALIDATION_ERROR" and "READ_ONLY_VALUE" in read_only.value.message
    )
    assert identity.value.code == "READ_ONLY_VALUE" and "email" in identity.value.message
    assert world.contacts[contact].get("firstname") is None, "nothing written"

    def missing_scopes(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            json={
                "status": "error",
                "message": "This app hasn't been granted all required scopes to make this call.",
                "correlationId": "c",
                "category": "MISSING_SCOPES",
                "errors": [
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": ["crm.objects.owners.read"]},
                    }
                ],
            },
        )

    with respx.mock() as router:
        router.route(host="api.hubapi.com").mock(side_effect=missing_scopes)
        async with httpx.AsyncClient() as http:
            crm = HubSpotCrm(
                HubSpotConfig(access_token=TOKEN), CrmContext(connection_id=1, http=http)
            )
            with pytest.raises(BadCredentials, match="required scopes"):
                await crm.owner_email("1")
