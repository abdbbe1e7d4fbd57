"""An in-memory CRM implementing the ``CrmType`` contract, for the engine's tests.

Plugin objects are built afresh for every call, so the CRM's data lives in an
``Account`` (by config ``account`` name) that a test arranges and inspects: records,
owners, logged activities, calls made, and failures to inject (a rate limit answered
``n`` times, an outage, refused credentials, a crash after logging).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from pydantic import BaseModel, SecretStr

from hub.contract import (
    PLUGIN_CONFIG,
    BadCredentials,
    CrmChanges,
    CrmField,
    CrmRecord,
    CrmTokens,
    CrmType,
    RetryLater,
    WebhookRequest,
    hookimpl,
)
from hub.contract.crm import OAuthApp
from hub.contract.errors import WebhookRejected
from hub.plugin_manager import HubPluginManager, PluginInfo

CATALOG = [
    CrmField(name="firstname", label="First name", type="string"),
    CrmField(name="lastname", label="Last name", type="string"),
    CrmField(name="email", label="Email", type="email"),
    CrmField(name="phone", label="Phone", type="phone"),
    CrmField(name="company", label="Company", type="string"),
    CrmField(name="hubspot_owner_id", label="Owner", type="string", editable=False),
    CrmField(
        name="lifecyclestage",
        label="Lifecycle stage",
        type="enum",
        options=("lead", "customer"),
    ),
    CrmField(name="score", label="Score", type="number"),
    CrmField(name="country", label="Country", type="string"),
]


@dataclass
class Account:
    """One fake CRM account's data and behaviour."""

    token: str = "good-token"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    changes: list[tuple[int, str]] = field(default_factory=list)  # (sequence, record id)
    rate_limited: int = 0  # answer RetryLater this many times first
    down: bool = False
    crash_after_logging: int = 0  # log, then raise, this many times
    # OAuth: the code the fake authorizes and its PKCE challenge; tokens it issued.
    codes: dict[str, str] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, owner: str | None = None, **fields: Any) -> str:
        """Store a record; its id."""
        record_id = str(100 + next(self._ids))
        self.records[record_id] = {**fields, **({"hubspot_owner_id": owner} if owner else {})}
        self.changes.append((next(self._seq), record_id))
        return record_id

    def change(self, record_id: str, **fields: Any) -> None:
        """Someone changes a record in the CRM."""
        self.records[record_id].update(fields)
        self.changes.append((next(self._seq), record_id))

    def issue_tokens(self) -> CrmTokens:
        """New tokens, as the CRM's token endpoint answers."""
        access, refresh = f"at-{next(self._ids)}", f"rt-{next(self._ids)}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return CrmTokens(
            access_token=access,
            refresh_token=refresh,
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )


ACCOUNTS: dict[str, Account] = {}


class MemoryConfig(BaseModel):
    """Which account; the token typed into the form."""

    model_config = PLUGIN_CONFIG

    account: str
    api_token: SecretStr = SecretStr("good-token")
    api_base_url: str = "https://crm.example.test"


class MemoryCrm(CrmType[MemoryConfig]):
    """The in-memory CRM, connected with a private app token."""

    name = "memory"
    title = "Memory CRM"
    description = "A CRM in the test's memory."
    logo = '<svg xmlns="http://www.w3.org/2000/svg"/>'
    Config = MemoryConfig

    @property
    def account(self) -> Account:
        return ACCOUNTS[self.config.account]

    async def _call(self, name: str) -> None:
        account = self.account
        account.calls.append(name)
        if account.down:
            raise RetryLater("the CRM is down (503)", after=3600)
        if account.rate_limited > 0:
            account.rate_limited -= 1
            raise RetryLater("429 rate limited", after=0.01)
        await self._authorize()

    async def _authorize(self) -> None:
        if self.config.api_token.get_secret_value() != self.account.token:
            raise BadCredentials("401: the token is invalid or expired")

    def _record(self, record_id: str) -> CrmRecord:
        fields = self.account.records[record_id]
        return CrmRecord(
            external_id=record_id,
            email=fields.get("email"),
            phone=fields.get("phone"),
            owner_external_id=fields.get("hubspot_owner_id"),
            fields=dict(fields),
        )

    async def connect(self) -> None:
        await self._call("connect")

    def record_url(self, external_id: str) -> str | None:
        return f"{self.config.api_base_url}/contacts/{external_id}"

    async def owner_email(self, owner_external_id: str) -> str | None:
        await self._call("owner_email")
        return self.account.owners.get(owner_external_id)

    async def field_catalog(self) -> list[CrmField]:
        await self._call("field_catalog")
        return list(CATALOG)

    async def find_contact(
        self, *, email: str | None = None, phone: str | None = None
    ) -> CrmRecord | None:
        await self._call("find_contact")
        for record_id, fields in self.account.records.items():
            if (email and fields.get("email") == email) or (phone and fields.get("phone") == phone):
                return self._record(record_id)
        return None

    async def find_many(self, emails: list[str]) -> dict[str, CrmRecord]:
        await self._call("find_many")
        wanted = {e.lower() for e in emails}
        return {
            fields["email"].lower(): self._record(record_id)
            for record_id, fields in self.account.records.items()
            if fields.get("email") and fields["email"].lower() in wanted
        }

    async def create_contact(self, fields: dict[str, Any]) -> CrmRecord:
        await self._call("create_contact")
        return self._record(self.account.add(**fields))

    async def read_fields(self, external_id: str) -> CrmRecord:
        await self._call("read_fields")
        return self._record(external_id)

    async def update_fields(self, external_id: str, fields: dict[str, Any]) -> None:
        await self._call("update_fields")
        self.account.change(external_id, **fields)

    async def log_conversation(
        self,
        external_id: str,
        *,
        subject: str,
        body: str,
        happened_at: datetime,
        idempotency_key: str,
    ) -> str:
        await self._call("log_conversation")
        account = self.account
        for activity_id, activity in account.activities.items():
            if activity["key"] == idempotency_key:
                return activity_id
        activity_id = f"note-{len(account.activities) + 1}"
        account.activities[activity_id] = {
            "record": external_id,
            "subject": subject,
            "body": body,
            "key": idempotency_key,
        }
        if account.crash_after_logging > 0:
            account.crash_after_logging -= 1
            raise RetryLater("the connection dropped before the answer")
        return activity_id

    async def changes_since(self, cursor: str | None) -> CrmChanges:
        await self._call("changes_since")
        after = int(cursor or 0)
        newer = [(seq, rid) for seq, rid in self.account.changes if seq > after][:2]
        if not newer:
            return CrmChanges([], cursor)
        return CrmChanges([self._record(rid) for _, rid in newer], str(newer[-1][0]))

    async def handle_webhook(self, request: WebhookRequest) -> list[CrmRecord]:
        if request.header("X-Memory-Signature") != "signed":
            raise WebhookRejected(401, "missing or wrong signature")
        events = json.loads(request.body)
        return [
            CrmRecord(
                external_id=str(e["objectId"]), fields={e["propertyName"]: e["propertyValue"]}
            )
            for e in events
        ]


class OAuthConfig(MemoryConfig):
    """An OAuth app's client id and secret."""

    client_id: str = "client-1"
    client_secret: SecretStr = SecretStr("secret-1")


class MemoryOAuthCrm(MemoryCrm):
    """The in-memory CRM, connected through OAuth; refreshes an expired token once."""

    name = "memory_oauth"
    title = "Memory OAuth CRM"
    Config: ClassVar[type[BaseModel]] = OAuthConfig
    oauth = OAuthApp(
        authorize_url="https://crm.example.test/oauth/authorize", scopes=("crm.read", "crm.write")
    )

    def client_id(self) -> str:
        return str(self.config.client_id)  # type: ignore[attr-defined]

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> CrmTokens:
        self.account.calls.append("exchange_code")
        challenge = self.account.codes.pop(code, None)
        digest = hashlib.sha256(code_verifier.encode()).digest()
        if challenge != base64.urlsafe_b64encode(digest).rstrip(b"=").decode():
            raise BadCredentials("invalid_grant: code or verifier wrong")
        return self.account.issue_tokens()

    async def refresh(self, tokens: CrmTokens) -> CrmTokens:
        self.account.calls.append("refresh")
        if tokens.refresh_token not in self.account.refresh_tokens:
            raise BadCredentials("invalid_grant: refresh token revoked")
        self.account.refresh_tokens.discard(tokens.refresh_token)  # rotated
        return self.account.issue_tokens()

    async def _authorize(self) -> None:
        tokens = self.context.tokens
        if tokens is None:
            raise BadCredentials("not authorized yet")
        if tokens.access_token in self.account.access_tokens:
            return
        fresh = await self.refresh(tokens)
        assert self.context.save_tokens is not None
        await self.context.save_tokens(fresh)
        object.__setattr__(self.context, "tokens", fresh)


class _Plugin:
    @hookimpl
    def hub_register_crm_types(self) -> list[type[CrmType[Any]]]:
        return [MemoryCrm, MemoryOAuthCrm]


def crm_plugins() -> HubPluginManager:
    """A plugin manager holding only the memory CRM types."""
    manager = HubPluginManager(autoload=False)
    manager.register(_Plugin(), PluginInfo(name="memory-crm", distribution="tests", version="1"))
    return manager


# --- fixtures' helpers ------------------------------------------------------------------


async def no_sleep(seconds: float) -> None:
    """The backoff's sleep in tests: the wait is recorded (``CrmCalls.waits``), not slept."""


def quiet_app(settings: Any) -> Any:
    """The real app with the memory CRM types, its CRM jobs left to the test."""
    from hub import appkeys
    from hub.app import create_app
    from hub.crm.engine import CrmOptions

    app = create_app(settings, plugins=crm_plugins())
    app[appkeys.CRM_OPTIONS] = CrmOptions(background=False)
    return app


def engine_of(client: Any) -> Any:
    """The CRM engine of a test client's app, with backoff waits recorded, not slept."""
    from hub import appkeys

    engine = client.app[appkeys.CRM]
    engine.env.calls.sleep = no_sleep
    return engine
