"""The base class of every CRM plugin: one CRM's API, translated to ``CrmRecord``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

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


@dataclass(frozen=True)
class CrmContext:
    """What the core hands a CRM instance: its connection id and the shared HTTP client."""

    connection_id: int
    http: httpx.AsyncClient


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

    def __init__(self, config: ConfigT, context: CrmContext) -> None:
        self.config: ConfigT = config
        self.context = context

    async def connect(self) -> None:
        """Validate the credentials; raise ``BadCredentials`` when they fail."""

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

    async def update_fields(self, external_id: str, fields: dict[str, Any]) -> None:
        """Write editable fields of one contact."""
        raise NotImplementedError

    async def log_conversation(
        self, external_id: str, *, subject: str, body: str, happened_at: datetime
    ) -> str:
        """Log a conversation as an activity on the contact; return the activity id."""
        raise NotImplementedError

    async def changes_since(self, cursor: str | None) -> CrmChanges:
        """Pull contacts changed since ``cursor`` (optional)."""
        raise NotImplementedError(f"{self.name} does not pull changes")

    async def handle_webhook(self, request: WebhookRequest) -> list[CrmRecord]:
        """Verify and translate a push notification from the CRM (optional)."""
        raise NotImplementedError(f"{self.name} does not receive webhooks")
