"""The base class of every CRM plugin: one CRM's API, translated to ``CrmRecord``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict

from hub.contract.models import CrmRecord, WebhookRequest

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class CrmField(BaseModel):
    """One field of the CRM's contact object, as the inbox shows and edits it."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    type: Literal["string", "email", "phone", "number", "boolean", "date", "datetime", "enum"]
    editable: bool = True
    options: tuple[str, ...] = ()


class CrmTokens(BaseModel):
    """OAuth tokens of one connection, kept encrypted by the core.

    ``instance_url`` is where a CRM says the account lives (Salesforce answers it with
    every token, and it may change on refresh); ``extra`` keeps anything else the token
    endpoint answered that the plugin needs later (a HubSpot portal id).
    """

    model_config = ConfigDict(frozen=True)

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    instance_url: str | None = None
    extra: dict[str, Any] = {}


class OAuthApp(BaseModel):
    """How the core runs a CRM's OAuth authorization-code flow (with PKCE and state).

    The core sends the admin to ``authorize_url`` with ``client_id``, ``redirect_uri``,
    ``scope`` (``scopes`` joined by spaces), ``state``, ``code_challenge`` (S256) and
    ``response_type=code``; the callback's code goes to ``CrmType.exchange_code``.
    """

    model_config = ConfigDict(frozen=True)

    authorize_url: str
    scopes: tuple[str, ...] = ()


class TokenSaver(Protocol):
    """Stores refreshed tokens for the connection (encrypted, in the same row)."""

    async def __call__(self, tokens: CrmTokens) -> None: ...


@dataclass(frozen=True)
class CrmContext:
    """What the core hands a CRM instance: its connection id, the shared HTTP client, and
    for OAuth connections the current tokens and how to store refreshed ones.

    A plugin refreshes an expired access token once (``refresh``), calls ``save_tokens``
    with the new ones before using them (a rotated refresh token must not be lost), and
    retries the call; ``invalid_grant`` is ``BadCredentials`` (the admin reconnects).
    """

    connection_id: int
    http: httpx.AsyncClient
    tokens: CrmTokens | None = None
    save_tokens: TokenSaver | None = None


@dataclass(frozen=True)
class CrmChanges:
    """Records changed since a cursor, and the cursor to resume from."""

    records: list[CrmRecord]
    cursor: str | None


class CrmType(Generic[ConfigT]):
    """A CRM plugin. Email and phone are never editable from the inbox.

    Like a channel, a CRM never touches the database; the core's sync engine calls it.
    """

    name: ClassVar[str]
    """Unique type name, e.g. ``"hubspot"``."""
    title: ClassVar[str]
    """Human name shown in the admin UI."""
    description: ClassVar[str]
    """One or two sentences for the admin's CRM picker."""
    logo: ClassVar[str]
    """An SVG document (text)."""
    Config: ClassVar[type[BaseModel]]
    """Credentials and options; the admin form is generated from it."""
    available: ClassVar[bool] = True
    """False while the plugin is not built yet: the type is listed, marked "not available
    yet", and the core refuses to connect it."""
    oauth: ClassVar[OAuthApp | None] = None
    """Set when the CRM connects through OAuth (the Config then holds the app's client id
    and secret); ``None`` for credentials typed into the form (a private app token)."""

    def __init__(self, config: ConfigT, context: CrmContext) -> None:
        self.config: ConfigT = config
        self.context = context

    async def connect(self) -> None:
        """Validate the credentials; raise ``BadCredentials`` when they fail."""

    def client_id(self) -> str:
        """The OAuth app's client id, for the authorization URL (OAuth types only)."""
        raise NotImplementedError(f"{self.name} does not connect through OAuth")

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> CrmTokens:
        """Trade the authorization code of the OAuth callback for tokens (OAuth types)."""
        raise NotImplementedError(f"{self.name} does not connect through OAuth")

    async def refresh(self, tokens: CrmTokens) -> CrmTokens:
        """New tokens for expired ones; ``BadCredentials`` on ``invalid_grant``."""
        raise NotImplementedError(f"{self.name} does not connect through OAuth")

    def record_url(self, external_id: str) -> str | None:
        """Where an agent opens the record in the CRM's own app ("open in HubSpot")."""
        return None

    async def owner_email(self, owner_external_id: str) -> str | None:
        """The email of a record's owner (a CRM user), to route to the hub user who has
        it; ``None`` when the CRM does not say."""
        return None

    async def field_catalog(self) -> list[CrmField]:
        """The contact fields the inbox may show, with which of them are editable."""
        raise NotImplementedError

    async def find_contact(
        self, *, email: str | None = None, phone: str | None = None
    ) -> CrmRecord | None:
        """Find a contact by email or E.164 phone; ``None`` when there is none."""
        raise NotImplementedError

    async def create_contact(self, fields: dict[str, Any]) -> CrmRecord:
        """Create a contact and return it."""
        raise NotImplementedError

    async def read_fields(self, external_id: str) -> CrmRecord:
        """Read one contact's fields."""
        raise NotImplementedError

    async def read_many(self, external_ids: list[str]) -> list[CrmRecord]:
        """Read several contacts (a batch API where the CRM has one); records that are
        gone are left out. By default one ``read_fields`` each."""
        return [await self.read_fields(external_id) for external_id in external_ids]

    async def update_fields(self, external_id: str, fields: dict[str, Any]) -> None:
        """Write editable fields of one contact."""
        raise NotImplementedError

    async def log_conversation(
        self,
        external_id: str,
        *,
        subject: str,
        body: str,
        happened_at: datetime,
        idempotency_key: str,
    ) -> str:
        """Log a conversation as an activity on the contact; return the activity id.

        The same ``idempotency_key`` must never log twice (the core retries after a crash
        between the CRM's answer and its own write): carry the key in the activity and
        look for it before creating one, returning the existing activity's id.
        """
        raise NotImplementedError

    async def changes_since(self, cursor: str | None) -> CrmChanges:
        """Pull contacts changed since ``cursor`` (optional)."""
        raise NotImplementedError(f"{self.name} does not pull changes")

    async def handle_webhook(self, request: WebhookRequest) -> list[CrmRecord]:
        """Verify and translate a push notification from the CRM (optional)."""
        raise NotImplementedError(f"{self.name} does not receive webhooks")
