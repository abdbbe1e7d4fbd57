"""HubSpot's wire shapes turned into the contract's: objects, properties, webhook events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from hub.contract import CrmField, CrmRecord

FieldType = Literal["string", "email", "phone", "number", "boolean", "date", "datetime", "enum"]

IDENTITY = frozenset({"email", "phone", "mobilephone"})
"""Email and phones identify the contact: the inbox never edits them."""

_TYPES: dict[str, FieldType] = {
    "string": "string",
    "number": "number",
    "date": "date",
    "datetime": "datetime",
    "enumeration": "enum",
    "bool": "boolean",
}


def parse_time(value: Any) -> datetime | None:
    """A HubSpot timestamp (ISO 8601 text, or ms since the epoch) as aware UTC."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def record_of(obj: dict[str, Any]) -> CrmRecord:
    """A contact object (``{id, properties, updatedAt, …}``) as a ``CrmRecord``."""
    properties: dict[str, Any] = dict(obj.get("properties") or {})
    phone = properties.get("phone") or properties.get("mobilephone") or None
    return CrmRecord(
        external_id=str(obj["id"]),
        email=properties.get("email") or None,
        phone=phone,
        owner_external_id=properties.get("hubspot_owner_id") or None,
        fields=properties,
        updated_at=parse_time(obj.get("updatedAt") or properties.get("lastmodifieddate")),
        raw=obj,
    )


def field_of(prop: dict[str, Any]) -> CrmField:
    """A property definition as a ``CrmField``; read-only when HubSpot says its value is
    (``modificationMetadata.readOnlyValue``) or it is calculated; identity never editable."""
    name = str(prop["name"])
    field_type: FieldType = _TYPES.get(str(prop.get("type")), "string")
    if prop.get("fieldType") == "phonenumber" or name in {"phone", "mobilephone"}:
        field_type = "phone"
    if name == "email":
        field_type = "email"
    metadata = prop.get("modificationMetadata") or {}
    read_only = bool(metadata.get("readOnlyValue", False)) or bool(prop.get("calculated"))
    options = tuple(
        str(option["value"])
        for option in prop.get("options") or []
        if not option.get("hidden") and "value" in option
    )
    return CrmField(
        name=name,
        label=str(prop.get("label") or name),
        type=field_type,
        editable=not read_only and name not in IDENTITY,
        options=options if field_type == "enum" else (),
    )


def _occurred_ms(event: dict[str, Any]) -> int:
    """An event's ``occurredAt`` for ordering; 0 when it is missing or not a number."""
    text = str(event.get("occurredAt"))
    return int(text) if text.isdigit() else 0


def records_of_events(events: Iterable[dict[str, Any]]) -> list[CrmRecord]:
    """Webhook events grouped by contact: one record per contact carrying the changed
    properties (the latest value of each), ``updated_at`` the latest event's time.

    Only ``contact.propertyChange`` and ``contact.creation`` describe a contact that
    exists; deletions, merges and other objects' events are left to the periodic pull.
    """
    changes: dict[str, dict[str, Any]] = {}
    times: dict[str, datetime] = {}
    for event in sorted(events, key=_occurred_ms):
        kind = str(event.get("subscriptionType", ""))
        if kind not in {"contact.propertyChange", "contact.creation"}:
            continue
        object_id = str(event.get("objectId", ""))
        if not object_id:
            continue
        fields = changes.setdefault(object_id, {})
        if kind == "contact.propertyChange" and event.get("propertyName"):
            fields[str(event["propertyName"])] = event.get("propertyValue")
        occurred = parse_time(event.get("occurredAt"))
        if occurred is not None:
            times[object_id] = occurred
    return [
        CrmRecord(
            external_id=object_id,
            email=fields.get("email") or None,
            phone=fields.get("phone") or fields.get("mobilephone") or None,
            owner_external_id=fields.get("hubspot_owner_id") or None,
            fields=fields,
            updated_at=times.get(object_id),
        )
        for object_id, fields in changes.items()
    ]
