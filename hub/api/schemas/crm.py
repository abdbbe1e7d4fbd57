"""Bodies and answers of the CRM endpoints: connections, their settings and OAuth, a
contact's CRM records, bulk link jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StrictBool

from hub.api.schemas.people import PatchBody
from hub.contract.crm import CrmField
from hub.crm.connections import ConnectionChanges, NewConnection
from hub.crm.settings import CrmSettings
from hub.crm.sidebar import RecordView
from hub.store.models import CrmBulkJob, CrmConnection, CrmFieldChange
from hub.store.types import utcnow


class CrmConnectionOut(BaseModel):
    """A CRM connection as admins see it."""

    id: int
    type: str
    name: str
    enabled: bool
    status: Literal["connecting", "ok", "error"] = Field(
        description="connecting: waiting for the OAuth authorization; error: see status_reason"
    )
    status_reason: str | None = Field(description="the CRM's own message when in error")
    oauth: bool = Field(description="whether this connection connects through OAuth")
    config: dict[str, Any] | None = Field(
        description='the type\'s Config, secrets as "********"; null when unreadable'
    )
    settings: CrmSettings
    catalog_fetched_at: datetime | None
    last_pulled_at: datetime | None
    retry_after: datetime | None = Field(description="set while the CRM asked the hub to wait")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: CrmConnection, config: dict[str, Any] | None, oauth: bool) -> CrmConnectionOut:
        """Describe ``row``."""
        return cls(
            id=row.id,
            type=row.type,
            name=row.name,
            enabled=row.enabled,
            status=row.status if row.status in ("connecting", "ok", "error") else "error",
            status_reason=row.status_reason,
            oauth=oauth,
            config=config,
            settings=CrmSettings.of(row),
            catalog_fetched_at=row.catalog_fetched_at,
            last_pulled_at=row.last_pulled_at,
            retry_after=row.retry_after,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class CrmConnectionCreateBody(BaseModel):
    """``POST /api/v1/crm-connections``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(min_length=1, max_length=100, description="a CRM type's name")
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict, description="the type's Config")
    enabled: StrictBool = True
    settings: CrmSettings | None = None

    def new(self) -> NewConnection:
        """As a domain request."""
        return NewConnection(self.type, self.name, self.config, self.enabled, self.settings)


class CrmConnectionPatchBody(PatchBody):
    """``PATCH /api/v1/crm-connections/{id}``: ``config`` is merged over the stored one
    (a secret sent as "********" is kept) and checked with the CRM again."""

    name: str | None = Field(None, min_length=1, max_length=200)
    enabled: StrictBool | None = None
    config: dict[str, Any] | None = None

    def changes(self) -> ConnectionChanges:
        """As a domain request."""
        return ConnectionChanges(self.name, self.enabled, self.config)


class CrmFieldsOut(BaseModel):
    """The CRM's contact fields."""

    items: list[CrmField]


class OAuthStartOut(BaseModel):
    """Where to send the admin's browser to authorize the hub in the CRM."""

    authorization_url: str
    expires_at: datetime


class OAuthCallbackQuery(BaseModel):
    """The CRM's redirect back: ``code`` and ``state``, or an ``error``."""

    model_config = ConfigDict(extra="ignore")

    state: str = Field(min_length=1, max_length=200)
    code: str | None = Field(None, max_length=4000)
    error: str | None = Field(None, max_length=500)
    error_description: str | None = Field(None, max_length=2000)


class BulkJobOut(BaseModel):
    """A bulk first link job and its progress."""

    id: int
    connection_id: int
    status: Literal["running", "done", "failed"]
    total: int = Field(description="unlinked contacts when the job started")
    processed: int
    linked: int = Field(description="found in the CRM and linked")
    created: int = Field(description="created in the CRM (the linking rule allows it)")
    not_found: int
    failed: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: CrmBulkJob) -> BulkJobOut:
        """Describe ``job``."""
        return cls.model_validate(job, from_attributes=True)


class PreviousValue(BaseModel):
    """The value before the hub's last change of a field (revert = PATCH back to it)."""

    value: JsonValue
    change_id: int
    changed_at: datetime
    source: str


class CrmFieldValue(BaseModel):
    """One shown field of a contact's CRM record."""

    name: str
    label: str
    type: str
    options: list[str]
    editable: bool
    value: JsonValue
    previous: PreviousValue | None


class CrmConflictOut(BaseModel):
    """A hub change not pushed because the CRM changed the field first."""

    field: str
    hub: JsonValue
    crm: JsonValue
    at: str | None


class CrmOwnerOut(BaseModel):
    """The record's owner in the CRM."""

    external_id: str
    email: str | None


class ContactCrmRecordOut(BaseModel):
    """One connection's record of the contact, from the cache."""

    connection_id: int
    connection_name: str
    type: str
    title: str
    status: str
    status_reason: str | None
    linked: bool
    external_id: str | None
    record_url: str | None
    owner: CrmOwnerOut | None
    fetched_at: datetime | None
    age_seconds: int | None = Field(description="how old the cached values are")
    refreshing: bool = Field(description="a refresh (or a first link) is running in the background")
    error: str | None = Field(description="why the last read or write failed; values are cached")
    fields: list[CrmFieldValue]
    conflicts: list[CrmConflictOut]

    @classmethod
    def of(cls, view: RecordView, refreshing: bool) -> ContactCrmRecordOut:
        """Describe ``view``."""
        link, connection = view.link, view.connection
        fetched = link.fetched_at if link else None
        return cls(
            connection_id=connection.id,
            connection_name=connection.name,
            type=connection.type,
            title=view.title,
            status=connection.status,
            status_reason=connection.status_reason,
            linked=link is not None,
            external_id=link.external_id if link else None,
            record_url=view.record_url,
            owner=CrmOwnerOut(external_id=link.owner_external_id, email=link.owner_email)
            if link and link.owner_external_id
            else None,
            fetched_at=fetched,
            age_seconds=int((utcnow() - fetched).total_seconds()) if fetched else None,
            refreshing=refreshing,
            error=(link.last_error if link else None)
            or (connection.status_reason if connection.status == "error" else None),
            fields=[
                CrmFieldValue(
                    name=f.field.name,
                    label=f.field.label,
                    type=f.field.type,
                    options=list(f.field.options),
                    editable=f.editable,
                    value=f.value,
                    previous=_previous(f.previous),
                )
                for f in view.fields
            ],
            conflicts=[
                CrmConflictOut(field=name, hub=c.get("hub"), crm=c.get("crm"), at=c.get("at"))
                for name, c in ((link.conflicts or {}) if link else {}).items()
                if isinstance(c, dict)
            ],
        )


def _previous(change: CrmFieldChange | None) -> PreviousValue | None:
    if change is None:
        return None
    return PreviousValue(
        value=change.old_value,
        change_id=change.id,
        changed_at=change.created_at,
        source=change.source,
    )


class ContactCrmOut(BaseModel):
    """``GET /api/v1/contacts/{id}/crm``."""

    items: list[ContactCrmRecordOut]


class ContactCrmPatchBody(BaseModel):
    """``PATCH /api/v1/contacts/{id}/crm``: write one field, if the CRM still holds the
    value the agent saw (``expected``)."""

    model_config = ConfigDict(extra="forbid")

    connection_id: int = Field(ge=1, le=2**63 - 1)
    field: str = Field(min_length=1, max_length=200)
    value: JsonValue = Field(description='the new value; null or "" clears the field')
    expected: JsonValue = Field(description="the value the agent saw before editing")


class ContactCrmChangeOut(BaseModel):
    """A field written: the earlier value is kept for a revert."""

    change_id: int
    connection_id: int
    field: str
    old_value: JsonValue
    new_value: JsonValue
    changed_at: datetime
