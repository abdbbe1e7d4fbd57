"""``CrmContract``: the conformance tests every CRM plugin runs.

Subclass it in a module pytest collects, under a name starting with ``Test``; give the
type, a valid config, which of the CRM's fields hold the email, the phone and an
editable name, and a respx mock of the CRM's API that answers from a ``CrmWorld``::

    class TestAcmeCrmContract(CrmContract):
        crm_type = AcmeCrm
        email_field = "email"
        phone_field = "phone"
        editable_field = "first_name"

        def crm_config(self) -> dict[str, Any]:
            return {"api_key": "k"}

        def mock_crm(self, router: respx.MockRouter, world: CrmWorld) -> None:
            router.get(url__regex=r".*/contacts/(?P<id>\\w+)$").mock(
                side_effect=lambda request, id: ...  # answer world.contacts[id]
            )

The world is the CRM's state: contacts by id (fields named as the CRM names them),
logged activities, and switches the checks flip to see the plugin cope — an expired
access token, a revoked grant, rate limiting, an outage. The mock answers each in the
vendor's own documented format; the checks call the plugin object directly and read the
world back, so what is checked is what the CRM ends up holding.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, cast

import httpx
import pytest
import respx
from pydantic import BaseModel

from hub.contract import (
    BadCredentials,
    CrmContext,
    CrmTokens,
    CrmType,
    PermanentFailure,
    RetryLater,
)

FIELD_TYPES = {"string", "email", "phone", "number", "boolean", "date", "datetime", "enum"}


@dataclass
class CrmActivity:
    """An activity the plugin logged: its id, the contact's id, and all of its text."""

    id: str
    contact_id: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class CrmWorld:
    """The state of the mocked CRM; the author's mock reads and writes it.

    ``access_token``/``refresh_token`` are the tokens the CRM accepts now (for OAuth
    types); with ``expired`` set, the API refuses the access token with the vendor's
    expired-token answer and the token endpoint issues new ones (``refresh()``), unless
    ``grant_revoked``, when it answers ``invalid_grant``. ``rate_limited`` calls from now
    answer the vendor's rate-limit error; ``down`` makes every call a 503.
    """

    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    added_at: dict[str, float] = field(default_factory=dict)
    """When each contact was put in (the world's clock), for a mock's creation stamps."""
    activities: list[CrmActivity] = field(default_factory=list)
    access_token: str = "kit-access-1"  # noqa: S105 - a fake token of the mocked CRM
    refresh_token: str = "kit-refresh-1"  # noqa: S105
    expired: bool = False
    grant_revoked: bool = False
    rate_limited: int = 0
    down: bool = False
    calls: int = 0
    clock_offset: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def now(self) -> float:
        """The mocked CRM's clock (epoch seconds): real time plus ``clock_offset``; a
        mock stamps records and its ``Date`` headers with it."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the CRM's clock forward, as if ``seconds`` had passed."""
        self.clock_offset += seconds

    def new_id(self, prefix: str = "") -> str:
        """A fresh record id, with the vendor's prefix if it has one."""
        return f"{prefix}{next(self._ids)}"

    def add_contact(self, fields: dict[str, Any], prefix: str = "") -> str:
        """Put a contact in the CRM (as if typed in its own app); its id."""
        contact_id = self.new_id(prefix)
        self.contacts[contact_id] = dict(fields)
        self.added_at[contact_id] = self.now()
        return contact_id

    def take_rate_limit(self) -> bool:
        """True when this call must be answered with the rate-limit error."""
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return True
        return False

    def authorized(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries the current, unexpired token."""
        return not self.expired and authorization == f"Bearer {self.access_token}"

    def refresh(self) -> None:
        """Issue new tokens (the token endpoint's job): a new access token, a rotated
        refresh token, and no longer expired."""
        number = int(self.access_token.rsplit("-", 1)[-1]) + 1
        self.access_token = f"kit-access-{number}"
        self.refresh_token = f"kit-refresh-{number}"
        self.expired = False


class CrmContract:
    """Conformance tests of one CRM type; subclass it as ``Test<Something>``."""

    crm_type: ClassVar[type[CrmType[Any]]]
    """The CRM type under test."""
    email_field: ClassVar[str] = "email"
    """The CRM's name of the contact's email field."""
    phone_field: ClassVar[str] = "phone"
    """The CRM's name of a phone field the plugin finds contacts by."""
    editable_field: ClassVar[str] = "firstname"
    """A text field the inbox may edit (a first name)."""
    required_fields: ClassVar[dict[str, Any]] = {}
    """Fields the CRM needs on create besides the email (Salesforce's ``LastName``)."""
    id_prefix: ClassVar[str] = ""
    """The prefix of the CRM's record ids (Salesforce's ``003`` for Contacts)."""
    settle_seconds: ClassVar[float] = 0.0
    """How long after a change a pull may first see it (a plugin that leaves out the
    CRM's still-open second, as Salesforce's does); the kit advances the world's clock."""
    instance_url: ClassVar[str | None] = None
    """The ``instance_url`` of the tokens the kit hands an OAuth plugin (Salesforce's)."""

    # --- what the author provides -------------------------------------------------------

    def crm_config(self) -> dict[str, Any]:
        """A valid config, as an admin would post it."""
        return {}

    def uses_tokens(self) -> bool:
        """Whether the connection works with OAuth tokens from the context (the kit then
        hands the world's current tokens to the plugin): by default, whether the plugin
        built from ``crm_config()`` has an ``oauth_app()``."""
        # Building a plugin makes no call, so a context without an HTTP client will do.
        probe = self.crm_type(
            self.config_model(), CrmContext(connection_id=0, http=cast(httpx.AsyncClient, None))
        )
        return probe.oauth_app() is not None

    def mock_crm(self, router: respx.MockRouter, world: CrmWorld) -> None:
        """Route the CRM's API (and token endpoint) onto ``world``, in its formats."""
        raise NotImplementedError("mock the CRM's API on the world")

    # --- helpers --------------------------------------------------------------------------

    def config_model(self) -> BaseModel:
        """``crm_config`` validated by the type's Config."""
        return self.crm_type.Config.model_validate(self.crm_config())

    @asynccontextmanager
    async def plugin(
        self, world: CrmWorld, saved: list[CrmTokens] | None = None
    ) -> AsyncIterator[CrmType[Any]]:
        """The plugin object with the CRM mocked on ``world``; tokens it saves are
        appended to ``saved``."""
        sink = saved if saved is not None else []

        async def save(tokens: CrmTokens) -> None:
            sink.append(tokens)

        tokens = (
            CrmTokens(
                access_token=world.access_token,
                refresh_token=world.refresh_token,
                instance_url=self.instance_url,
            )
            if self.uses_tokens()
            else None
        )
        with respx.mock(assert_all_called=False) as router:
            self.mock_crm(router, world)
            async with httpx.AsyncClient() as http:
                context = CrmContext(connection_id=1, http=http, tokens=tokens, save_tokens=save)
                yield self.crm_type(self.config_model(), context)

    def contact(self, email: str, **fields: Any) -> dict[str, Any]:
        """A contact's fields as the CRM names them."""
        return {**self.required_fields, self.email_field: email, **fields}

    # --- checks -----------------------------------------------------------------------------

    def test_contract_type_declares_its_identity_and_a_valid_config(self) -> None:
        """Name, title, description, SVG logo and a Config that takes the sample config."""
        for attr in ("name", "title", "description", "logo"):
            value = getattr(self.crm_type, attr, None)
            assert isinstance(value, str) and value.strip(), f"{attr} must be non-empty text"
        assert "<svg" in self.crm_type.logo, "logo must be an SVG document"
        assert isinstance(self.config_model(), BaseModel)

    @pytest.mark.asyncio
    async def test_contract_catalog_has_identity_fields_never_editable(self) -> None:
        """The catalog names email and phone fields, none editable; the editable field is."""
        async with self.plugin(CrmWorld()) as crm:
            catalog = {f.name: f for f in await crm.field_catalog()}
        assert catalog, "the field catalog is empty"
        assert all(f.type in FIELD_TYPES for f in catalog.values())
        identity = [f for f in catalog.values() if f.type in {"email", "phone"}]
        assert identity, "the catalog must include the email and phone fields"
        assert not [f.name for f in identity if f.editable], "email/phone must not be editable"
        assert catalog[self.editable_field].editable

    @pytest.mark.asyncio
    async def test_contract_find_by_email_then_read_round_trip(self) -> None:
        """A contact in the CRM is found by email and read back with its fields."""
        world = CrmWorld()
        world.add_contact(self.contact("someone.else@example.com"), self.id_prefix)
        wanted = world.add_contact(
            self.contact("ada@example.com", **{self.editable_field: "Ada"}), self.id_prefix
        )
        async with self.plugin(world) as crm:
            found = await crm.find_contact(email="Ada@Example.com")
            assert found is not None and found.external_id == wanted
            assert found.email == "ada@example.com"
            read = await crm.read_fields(wanted)
            assert read.external_id == wanted
            assert read.fields[self.editable_field] == "Ada"
            many = await crm.read_many([wanted, self.id_prefix + "999999"])
            assert [r.external_id for r in many] == [wanted]
            assert await crm.find_contact(email="nobody@example.com") is None

    @pytest.mark.asyncio
    async def test_contract_find_by_phone(self) -> None:
        """A contact whose phone field holds the E.164 number is found by it."""
        world = CrmWorld()
        wanted = world.add_contact(
            self.contact("grace@example.com", **{self.phone_field: "+4915112345678"}),
            self.id_prefix,
        )
        async with self.plugin(world) as crm:
            found = await crm.find_contact(phone="+4915112345678")
            assert found is not None and found.external_id == wanted
            assert await crm.find_contact(phone="+4930123456") is None

    @pytest.mark.asyncio
    async def test_contract_create_then_update(self) -> None:
        """A created contact lands in the CRM; an update changes the CRM's value."""
        world = CrmWorld()
        async with self.plugin(world) as crm:
            created = await crm.create_contact(
                self.contact("new@example.com", **{self.editable_field: "Grace"})
            )
            assert created.external_id in world.contacts
            stored = world.contacts[created.external_id]
            assert stored[self.email_field] == "new@example.com"
            await crm.update_fields(created.external_id, {self.editable_field: "Grete"})
            assert world.contacts[created.external_id][self.editable_field] == "Grete"

    @pytest.mark.asyncio
    async def test_contract_log_conversation_is_idempotent(self) -> None:
        """The same key logs once (the second call returns the first id); a new key
        logs a second activity, and each carries the transcript."""
        world = CrmWorld()
        contact = world.add_contact(self.contact("log@example.com"), self.id_prefix)
        when = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
        async with self.plugin(world) as crm:
            first = await crm.log_conversation(
                contact, subject="Chat", body="Hi\nHello", happened_at=when, idempotency_key="k-1"
            )
            again = await crm.log_conversation(
                contact, subject="Chat", body="Hi\nHello", happened_at=when, idempotency_key="k-1"
            )
            other = await crm.log_conversation(
                contact, subject="Chat 2", body="Bye", happened_at=when, idempotency_key="k-2"
            )
        assert first == again != other
        logged = [a for a in world.activities if a.contact_id == contact]
        assert len(logged) == 2, logged
        assert "Hello" in logged[0].text and "Bye" in logged[1].text

    @pytest.mark.asyncio
    async def test_contract_expired_token_is_refreshed_saved_and_retried(self) -> None:
        """A 401 for an expired access token refreshes once, saves, and retries."""
        if not self.uses_tokens():
            pytest.skip(f"{self.crm_type.__name__} does not use OAuth tokens here")
        world = CrmWorld()
        contact = world.add_contact(self.contact("t@example.com"), self.id_prefix)
        saved: list[CrmTokens] = []
        async with self.plugin(world, saved) as crm:
            world.expired = True
            record = await crm.read_fields(contact)
        assert record.external_id == contact
        assert [t.access_token for t in saved] == [world.access_token]
        assert saved[0].refresh_token, "the refresh token must be kept (or the rotated one)"

    @pytest.mark.asyncio
    async def test_contract_revoked_grant_is_bad_credentials(self) -> None:
        """``invalid_grant`` on refresh is ``BadCredentials`` (the admin reconnects)."""
        if not self.uses_tokens():
            pytest.skip(f"{self.crm_type.__name__} does not use OAuth tokens here")
        world = CrmWorld()
        contact = world.add_contact(self.contact("t@example.com"), self.id_prefix)
        async with self.plugin(world) as crm:
            world.expired = world.grant_revoked = True
            with pytest.raises(BadCredentials):
                await crm.read_fields(contact)

    @pytest.mark.asyncio
    async def test_contract_rate_limits_are_retried_then_retry_later(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One rate-limited answer is waited out (``asyncio.sleep``) or ``RetryLater``;
        a lasting limit is ``RetryLater`` with a positive ``after``."""
        waits: list[float] = []

        async def no_sleep(seconds: float, *args: Any) -> None:
            waits.append(seconds)

        monkeypatch.setattr(asyncio, "sleep", no_sleep)
        world = CrmWorld()
        contact = world.add_contact(self.contact("r@example.com"), self.id_prefix)
        async with self.plugin(world) as crm:
            await crm.field_catalog()  # a plugin may cache it; read it before limiting
            world.rate_limited = 1
            try:
                assert (await crm.read_fields(contact)).external_id == contact
                assert waits and all(w > 0 for w in waits), "retry only after waiting"
            except RetryLater as error:
                assert error.after is not None and error.after > 0
            world.rate_limited = 1000
            with pytest.raises(RetryLater) as caught:
                await crm.read_fields(contact)
        assert caught.value.after is not None and caught.value.after > 0

    @pytest.mark.asyncio
    async def test_contract_outage_and_missing_records_are_typed(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A CRM that is down is ``RetryLater``; a record that is not there is a
        ``PermanentFailure``; nothing escapes as an untyped error."""

        async def no_sleep(seconds: float, *args: Any) -> None:
            return None

        monkeypatch.setattr(asyncio, "sleep", no_sleep)
        world = CrmWorld()
        async with self.plugin(world) as crm:
            await crm.field_catalog()
            with pytest.raises(PermanentFailure):
                await crm.read_fields(self.id_prefix + "999999")
            world.down = True
            with pytest.raises(RetryLater):
                await crm.find_contact(email="x@example.com")

    @pytest.mark.asyncio
    async def test_contract_changes_since_resumes_after_its_cursor(self) -> None:
        """A pull drains to nothing new; a record changed after that is pulled next,
        carrying the new value (skipped for a type that does not pull)."""
        if self.crm_type.changes_since is CrmType.changes_since:
            pytest.skip(f"{self.crm_type.__name__} does not pull changes")
        world = CrmWorld()
        for n in range(3):
            world.add_contact(self.contact(f"pull{n}@example.com"), self.id_prefix)
        world.advance(self.settle_seconds)
        async with self.plugin(world) as crm:
            cursor: str | None = None
            pulled: list[str] = []
            for _ in range(10):
                changes = await crm.changes_since(cursor)
                cursor = changes.cursor
                if not changes.records:
                    break
                pulled += [record.external_id for record in changes.records]
            assert sorted(pulled) == sorted(world.contacts), "every contact is pulled once"
            changed = pulled[1]
            await crm.update_fields(changed, {self.editable_field: "Pulled"})
            world.advance(self.settle_seconds)
            after = await crm.changes_since(cursor)
        assert [r.external_id for r in after.records] == [changed]
        assert after.records[0].fields[self.editable_field] == "Pulled"

    @pytest.mark.asyncio
    async def test_contract_record_url_opens_the_crm(self) -> None:
        """``record_url`` is an https link naming the record, or ``None``."""
        world = CrmWorld()
        contact = world.add_contact(self.contact("u@example.com"), self.id_prefix)
        async with self.plugin(world) as crm:
            await crm.connect()
            url = crm.record_url(contact)
        assert url is None or (url.startswith("https://") and contact in url)
