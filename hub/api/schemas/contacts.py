"""Bodies, query parameters and responses of the contact endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.inbox.contact_fields import ContactChanges, Text
from hub.inbox.contact_merge import MergeSuggestion
from hub.inbox.contacts import IdentityRow
from hub.store.models import Contact
from hub.store.types import MAX_ID, DbId


class ContactBody(ContactChanges):
    """``POST /api/v1/contacts`` and ``PATCH /api/v1/contacts/{id}``.

    On PATCH only the fields given change. ``default_region`` (e.g. ``DE``) is how to read
    a ``phone`` without a leading ``+``; it is not stored.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    default_region: str | None = Field(
        None, min_length=2, max_length=2, description="ISO 3166 region for national numbers"
    )


class MergeBody(BaseModel):
    """``POST /api/v1/contacts/{id}/merge``: the contact to fold into this one."""

    model_config = ConfigDict(extra="forbid")

    other_id: DbId


class IdentityBody(BaseModel):
    """``POST /api/v1/contacts/{id}/identities``: reach the contact on a channel."""

    model_config = ConfigDict(extra="forbid")

    channel_id: DbId
    address: str = Field(
        min_length=1,
        max_length=1000,
        description="what identifies the contact on the channel, as the agent typed it "
        "(WhatsApp: a phone number with its country code; custom channel: the service's id)",
    )


class ContactQuery(BaseModel):
    """``GET /api/v1/contacts`` parameters."""

    model_config = ConfigDict(extra="forbid")

    q: Text | None = Field(
        None, max_length=200, description="part of the name, email or phone number"
    )
    sort: Literal["name", "newest"] = Field("name", description="by name A to Z, or newest first")
    blocked: bool | None = Field(None, description="only blocked (true) or unblocked (false)")
    cursor: str | None = Field(None, max_length=300)
    limit: int = Field(25, ge=1, le=100)


class PageQuery(BaseModel):
    """Paging parameters of a plain list."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(None, max_length=300)
    limit: int = Field(25, ge=1, le=100)


class MergeSuggestionQuery(PageQuery):
    """``GET /api/v1/contacts/merge-suggestions`` parameters."""

    contact_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only the pairs this contact is one of"
    )


class ContactOut(BaseModel):
    """A contact as the API shows it."""

    id: int
    name: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    avatar_url: str | None
    country: str | None
    language: str | None
    blocked: bool
    blocked_at: datetime | None
    fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        """Serialize a stored contact."""
        c = contact
        return cls(
            id=c.id,
            name=c.name,
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            phone=c.phone,
            avatar_url=c.avatar_url,
            country=c.country,
            language=c.language,
            blocked=c.blocked,
            blocked_at=c.blocked_at,
            fields=c.fields or {},
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class IdentityOut(BaseModel):
    """Who a contact is on one channel."""

    id: int
    channel_id: int
    channel_type: str
    channel_name: str
    external_id: str
    profile: dict[str, Any]

    @classmethod
    def of(cls, row: IdentityRow) -> IdentityOut:
        """Serialize a listed identity."""
        i = row.identity
        return cls(
            id=i.id,
            channel_id=i.channel_id,
            channel_type=row.channel_type,
            channel_name=row.channel_name,
            external_id=i.external_id,
            profile=i.profile or {},
        )


class MergeSuggestionOut(BaseModel):
    """Two contacts that share an email or phone: merge ``other`` into ``contact``."""

    contact: ContactOut
    other: ContactOut
    reasons: list[Literal["email", "phone"]]

    @classmethod
    def of(cls, suggestion: MergeSuggestion) -> MergeSuggestionOut:
        """Serialize a suggestion."""
        return cls(
            contact=ContactOut.of(suggestion.contact),
            other=ContactOut.of(suggestion.other),
            reasons=list(suggestion.reasons),
        )
