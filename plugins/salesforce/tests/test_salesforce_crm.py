"""Salesforce specifics beyond the kit: escaping, SOSL phones, pulls with ties, a moving
instance, quotas, composite failures, read-only fields, the code exchange, owners, links."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from hub.contract import BadCredentials, CrmContext, CrmTokens, PermanentFailure, RetryLater
from hub.testing import CrmWorld
from tests.fake_crm import route_respx
from tests.fake_salesforce import USER, SalesforceFake

from hub_salesforce import records
from hub_salesforce.config import SalesforceConfig
from hub_salesforce.crm import SalesforceCrm

INSTANCE = "https://acme.my.salesforce.com"
MOVED = "https://acme2.my.salesforce.com"
LOGIN = "https://login.salesforce.com"
SECRET = "C0nsumerS3cretABCDEF"


@asynccontextmanager
async def salesforce(
    world: CrmWorld,
    saved: list[CrmTokens] | None = None,
    fake: SalesforceFake | None = None,
    **config: Any,
) -> AsyncIterator[tuple[SalesforceCrm, respx.MockRouter]]:
    """A Salesforce org on the fake, with the world's tokens."""
    fake = fake or SalesforceFake(world, client_secret=SECRET, instance_url=INSTANCE)
    sink = saved if saved is not None else []

    async def save(tokens: CrmTokens) -> None:
        sink.append(tokens)

    tokens = CrmTokens(
        access_token=world.access_token, refresh_token=world.refresh_token, instance_url=INSTANCE
    )
    with respx.mock(assert_all_called=False) as router:
        for base in (INSTANCE, MOVED, LOGIN):
            route_respx(router, base, fake)
        async with httpx.AsyncClient() as http:
            context = CrmContext(connection_id=1, http=http, tokens=tokens, save_tokens=save)
            settings = {"client_id": "3MVG9consumer.key", "client_secret": SECRET, **config}
            yield SalesforceCrm(SalesforceConfig(**settings), context), router


def test_soql_literals_cannot_be_broken_out_of() -> None:
    assert records.soql_quote("o'brien@example.com") == "'o\\'brien@example.com'"
    assert records.soql_quote("a\\' OR Id != '") == "'a\\\\\\' OR Id != \\''"
    assert records.soql_quote("line\nbreak") == "'line\\nbreak'"
    assert records.sosl_term("+49 (151) 1-2") == "\\+49 \\(151\\) 1\\-2"


async def test_emails_with_quotes_are_found_and_injection_matches_nothing() -> None:
    world = CrmWorld()
    quoted = world.add_contact({"Email": "o'brien@example.com", "LastName": "O'Brien"}, "003")
    world.add_contact({"Email": "other@example.com", "LastName": "Other"}, "003")
    async with salesforce(world) as (crm, _):
        found = await crm.find_contact(email="O'Brien@example.com")
        assert found is not None and found.external_id == quoted
        assert await crm.find_contact(email="x' OR Email != 'y") is None


async def test_phones_typed_with_spaces_are_found_by_sosl_with_escaped_plus() -> None:
    world = CrmWorld()
    wanted = world.add_contact({"Phone": "+49 151 12345678", "LastName": "Typed"}, "003")
    async with salesforce(world) as (crm, router):
        found = await crm.find_contact(phone="+4915112345678")
        sosl = next(
            c.request.url.params["q"]
            for c in router.calls
            if c.request.url.path.endswith("/search")
        )
    assert found is not None and found.external_id == wanted
    assert sosl.startswith("FIND {\\+4915112345678} IN PHONE FIELDS RETURNING Contact(")


async def test_catalog_from_describe_marks_name_read_only_and_skips_compounds() -> None:
    async with salesforce(CrmWorld()) as (crm, _):
        catalog = {f.name: f for f in await crm.field_catalog()}
    assert not catalog["Name"].editable and catalog["FirstName"].editable
    assert not catalog["Email"].editable and catalog["Email"].type == "email"
    assert not catalog["MobilePhone"].editable and catalog["MobilePhone"].type == "phone"
    assert "MailingAddress" not in catalog
    assert catalog["LeadSource"].type == "enum" and "Web" in catalog["LeadSource"].options
    assert catalog["SystemModstamp"].type == "datetime" and not catalog["SystemModstamp"].editable


async def test_changes_since_resumes_by_stamp_then_id_without_losing_ties() -> None:
    world = CrmWorld()
    stamp = "2026-01-01T00:00:00.000+0000"
    for n in range(250):
        world.add_contact(
            {"LastName": f"C{n}", "SystemModstamp": stamp, "CreatedDate": stamp}, "003"
        )
    async with salesforce(world) as (crm, _):
        first = await crm.changes_since(None)
        second = await crm.changes_since(first.cursor)
        third = await crm.changes_since(second.cursor)
        ids = [r.external_id for r in first.records + second.records]
        assert (len(first.records), len(second.records)) == (200, 50)
        assert len(set(ids)) == 250 and third.records == []
        assert third.cursor == second.cursor
        await crm.update_fields(ids[3], {"Title": "CTO"})
        unsettled = await crm.changes_since(third.cursor)
        world.advance(2)  # the second of the change is over, and the margin after it
        fourth = await crm.changes_since(third.cursor)
    assert unsettled.records == [], "a change in the server's current second waits"
    assert [r.external_id for r in fourth.records] == [ids[3]]
    assert json.loads(fourth.cursor or "")["id"] == ids[3]


async def test_a_refresh_that_moves_the_instance_is_followed_and_saved() -> None:
    world = CrmWorld()
    contact = world.add_contact({"LastName": "Moved"}, "003")
    fake = SalesforceFake(world, client_secret=SECRET, instance_url=INSTANCE)
    fake.moved_to = MOVED
    saved: list[CrmTokens] = []
    async with salesforce(world, saved, fake) as (crm, router):
        world.expired = True
        await crm.read_fields(contact)
        await crm.read_fields(contact)
        hosts = [c.request.url.host for c in router.calls]
    assert [t.instance_url for t in saved] == [MOVED]
    assert saved[0].refresh_token == world.refresh_token, "Salesforce keeps the refresh token"
    assert hosts[-1] == "acme2.my.salesforce.com"
    assert crm.record_url(contact) == f"{MOVED}/lightning/r/Contact/{contact}/view"


async def test_quota_exhausted_is_retry_later_for_an_hour_without_retrying() -> None:
    world = CrmWorld()
    fake = SalesforceFake(world, client_secret=SECRET, instance_url=INSTANCE, daily_limit=0)
    async with salesforce(world, fake=fake) as (crm, router):
        with pytest.raises(RetryLater) as caught:
            await crm.field_catalog()
        assert router.calls.call_count == 1
    assert caught.value.after == 3600.0


async def test_failed_composite_create_names_the_error_and_leaves_nothing() -> None:
    world = CrmWorld()
    async with salesforce(world) as (crm, _):
        with pytest.raises(PermanentFailure) as caught:
            await crm.create_contact({"Email": "nolast@example.com"})
        created = await crm.create_contact({"Email": "ok@example.com", "LastName": "Ok"})
    assert caught.value.code == "REQUIRED_FIELD_MISSING" and "LastName" in caught.value.message
    assert list(world.contacts) == [created.external_id]
    assert created.fields["Name"] == "Ok" and created.owner_external_id == USER["Id"]


async def test_writing_a_read_only_field_is_a_permanent_failure() -> None:
    world = CrmWorld()
    contact = world.add_contact({"LastName": "Ro"}, "003")
    async with salesforce(world) as (crm, _):
        with pytest.raises(PermanentFailure) as caught:
            await crm.update_fields(contact, {"Name": "Whole Name"})
    assert caught.value.code == "INVALID_FIELD_FOR_INSERT_UPDATE"


async def test_log_conversation_is_a_completed_task_linked_by_who_id() -> None:
    world = CrmWorld()
    contact = world.add_contact({"LastName": "Task"}, "003")
    async with salesforce(world) as (crm, _):
        await crm.log_conversation(
            contact,
            subject="WhatsApp conversation",
            body="Hi",
            happened_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
            idempotency_key="conv-7-upto-12",
        )
    task = world.activities[0].fields
    assert task["WhoId"] == contact and task["Status"] == "Completed"
    assert task["ActivityDate"] == "2026-03-01"
    assert task["Description"].endswith("[inbox-hub:conv-7-upto-12]")


async def test_code_exchange_sends_the_verifier_and_checks_the_signature() -> None:
    world = CrmWorld()
    async with salesforce(world) as (crm, router):
        tokens = await crm.exchange_code(
            code="aPrx.code", redirect_uri="https://hub.example.test/cb", code_verifier="v" * 43
        )
        form = dict(httpx.QueryParams(router.calls[0].request.content.decode()))
    assert form["code_verifier"] == "v" * 43 and form["grant_type"] == "authorization_code"
    assert tokens.instance_url == INSTANCE and tokens.refresh_token == world.refresh_token
    # A token answer whose signature is not this app's is refused.
    with respx.mock() as router:
        router.post(f"{LOGIN}/services/oauth2/token").mock(
            return_value=httpx.Response(
                200,
                json={
                    "access_token": "00D!x",
                    "signature": "Zm9yZ2Vk",
                    "instance_url": INSTANCE,
                    "id": f"{LOGIN}/id/00D/005",
                    "token_type": "Bearer",
                    "issued_at": "1767225600000",
                },
            )
        )
        async with httpx.AsyncClient() as http:
            plugin = SalesforceCrm(
                SalesforceConfig(client_id="k", client_secret=SECRET),
                CrmContext(connection_id=1, http=http),
            )
            with pytest.raises(BadCredentials, match="not signed"):
                await plugin.exchange_code(code="c", redirect_uri="https://h/cb", code_verifier="v")


async def test_owner_email_reads_the_user_and_skips_queues() -> None:
    async with salesforce(CrmWorld()) as (crm, router):
        assert await crm.owner_email(USER["Id"]) == "owner@example.com"
        assert await crm.owner_email("005000000000099AAA") is None
        calls = router.calls.call_count
        assert await crm.owner_email("00G000000000001AAA") is None
        assert router.calls.call_count == calls, "a queue is not looked up"


async def test_leads_are_used_when_configured() -> None:
    world = CrmWorld()
    fake = SalesforceFake(world, client_secret=SECRET, instance_url=INSTANCE, sobject="Lead")
    lead = world.add_contact({"Email": "lead@example.com", "LastName": "Lead"}, "00Q")
    async with salesforce(world, fake=fake, record_object="Lead") as (crm, _):
        found = await crm.find_contact(email="lead@example.com")
        assert found is not None and found.external_id == lead
        assert crm.record_url(lead) == f"{INSTANCE}/lightning/r/Lead/{lead}/view"


async def test_server_errors_are_retried_then_retry_later(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", no_sleep)
    world = CrmWorld()
    contact = world.add_contact({"LastName": "Flaky"}, "003")
    fake = SalesforceFake(world, client_secret=SECRET, instance_url=INSTANCE)
    answers = iter([True, False])

    def flaky(request: httpx.Request) -> httpx.Response:
        if next(answers, False):
            return httpx.Response(
                503, json=[{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}]
            )
        return httpx.Response(500, json=[{"message": "boom", "errorCode": "UNKNOWN_EXCEPTION"}])

    async with salesforce(world, fake=fake) as (crm, router):
        await crm.field_catalog()
        router.routes.clear()
        router.route(host="acme.my.salesforce.com").mock(side_effect=flaky)
        with pytest.raises(RetryLater):
            await crm.read_fields(contact)
    assert waits == [0.5, 1.0], "three tries, backing off"
