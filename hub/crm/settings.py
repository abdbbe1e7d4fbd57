"""A CRM connection's settings (``crm_connections.settings``): which fields the sidebar
shows and lets agents edit, how hub contact fields map to CRM fields, and the linking
rule. Validated by ``CrmSettings``; until an admin chooses, a default set is shown."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.contract.crm import CrmField
from hub.store.models import CrmConnection

HUB_FIELDS = ("name", "first_name", "last_name", "email", "phone", "country", "language")
"""The hub contact fields a mapping may name, besides ``fields.<key>`` (custom fields)."""

# Normalized names (lowercase letters and digits) of the fields shown until an admin
# chooses: names, company, owner, lifecycle stage / lead status, for either CRM.
DEFAULT_SHOWN = frozenset(
    {
        "firstname",
        "lastname",
        "company",
        "accountname",
        "owner",
        "ownerid",
        "hubspotownerid",
        "lifecyclestage",
        "leadstatus",
        "hsleadstatus",
        "status",
    }
)
DEFAULT_EDITABLE = frozenset({"firstname", "lastname"})
# Never editable from the inbox, whatever the settings say: they are how records are found.
NEVER_EDITABLE_TYPES = frozenset({"email", "phone"})

_CUSTOM = re.compile(r"^fields\.[A-Za-z0-9_\-]{1,100}$")


def normalized(name: str) -> str:
    """A field name compared loosely: ``hubspot_owner_id`` and ``HubSpotOwnerId`` match."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class FieldMapping(BaseModel):
    """One hub contact field kept in step with one CRM field, in a direction."""

    model_config = ConfigDict(extra="forbid")

    hub_field: str = Field(
        description="name, first_name, last_name, email, phone, country, language or fields.<key>"
    )
    crm_field: str = Field(min_length=1, max_length=200)
    direction: Literal["pull", "push", "both"] = "both"

    @field_validator("hub_field")
    @classmethod
    def _known_hub_field(cls, value: str) -> str:
        if value not in HUB_FIELDS and not _CUSTOM.match(value):
            raise ValueError(f"must be one of {', '.join(HUB_FIELDS)} or fields.<key>")
        return value

    @property
    def pulls(self) -> bool:
        """CRM changes are copied to the hub contact."""
        return self.direction in ("pull", "both")

    @property
    def pushes(self) -> bool:
        """Hub contact changes are written to the CRM."""
        return self.direction in ("push", "both")


class LinkingRule(BaseModel):
    """How a hub contact finds its CRM record: by email, then by phone; created when
    none is found only if ``create_when_missing``."""

    model_config = ConfigDict(extra="forbid")

    create_when_missing: bool = False


class CrmSettings(BaseModel):
    """Everything an admin chooses for one connection."""

    model_config = ConfigDict(extra="forbid")

    shown_fields: list[str] | None = Field(
        default=None,
        description="CRM field names the sidebar shows, in order; null: the default set",
    )
    editable_fields: list[str] | None = Field(
        default=None, description="which shown fields agents may edit; null: the names"
    )
    mapping: list[FieldMapping] = Field(default_factory=list)
    linking: LinkingRule = Field(default_factory=LinkingRule)
    refresh_minutes: int = Field(
        default=5, ge=1, le=1440, description="cached values older than this are refreshed on read"
    )
    transcripts: bool = Field(default=True, description="log closed conversations on the record")

    @field_validator("mapping")
    @classmethod
    def _one_mapping_per_field(cls, value: list[FieldMapping]) -> list[FieldMapping]:
        seen: set[str] = set()
        for item in value:
            if item.hub_field in seen:
                raise ValueError(f"{item.hub_field} is mapped twice")
            seen.add(item.hub_field)
        return value

    @classmethod
    def of(cls, connection: CrmConnection) -> CrmSettings:
        """The connection's stored settings; the defaults when they no longer validate."""
        try:
            return cls.model_validate(connection.settings or {})
        except ValidationError:
            return cls()

    def shown(self, catalog: list[CrmField]) -> list[CrmField]:
        """The fields the sidebar shows: the chosen ones in their order (those the CRM
        no longer has are left out), else the default set in the catalog's order."""
        by_name = {f.name: f for f in catalog}
        if self.shown_fields is not None:
            return [by_name[name] for name in self.shown_fields if name in by_name]
        return [f for f in catalog if normalized(f.name) in DEFAULT_SHOWN]

    def is_editable(self, field: CrmField) -> bool:
        """Whether agents may edit ``field``: the CRM allows it, it is not an email or
        phone, and it is chosen (by default: the names)."""
        if not field.editable or field.type in NEVER_EDITABLE_TYPES:
            return False
        if self.editable_fields is not None:
            return field.name in self.editable_fields
        return normalized(field.name) in DEFAULT_EDITABLE


def settings_json(settings: CrmSettings) -> dict[str, Any]:
    """Settings as stored in the connection row."""
    return settings.model_dump(mode="json")


def catalog_of(connection: CrmConnection) -> list[CrmField]:
    """The connection's stored field catalog (empty until first read from the CRM)."""
    fields: list[CrmField] = []
    for raw in connection.catalog or []:
        try:
            fields.append(CrmField.model_validate(raw))
        except ValidationError:
            continue  # a field stored by an older plugin version: shown by name only
    return fields
