"""Salesforce's wire shapes turned into the contract's (describe fields, records), and the
quoting SOQL and SOSL need for values that come from outside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from hub.contract import CrmField, CrmRecord

FieldType = Literal["string", "email", "phone", "number", "boolean", "date", "datetime", "enum"]

_TYPES: dict[str, FieldType] = {
    "email": "email",
    "phone": "phone",
    "boolean": "boolean",
    "int": "number",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "long": "number",
    "date": "date",
    "datetime": "datetime",
    "picklist": "enum",
}
# Compound and binary fields are read through their parts, never shown whole.
_SKIPPED = {"address", "location", "base64", "anyType", "complexvalue"}
_SOQL_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")


def soql_quote(value: str) -> str:
    """``value`` as a SOQL string literal: quotes, backslashes and control characters
    escaped, so no input can end the literal and add a condition."""
    return "'" + "".join(_SOQL_ESCAPES.get(char, char) for char in value) + "'"


def sosl_term(value: str) -> str:
    """``value`` for a SOSL ``FIND {…}``, each reserved character escaped."""
    return "".join(f"\\{char}" if char in _SOSL_RESERVED else char for char in value)


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal (unquoted, UTC, whole seconds as Salesforce keeps them)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """A Salesforce dateTime (``2026-01-01T12:00:00.000+0000``) as aware UTC."""
    if not value:
        return None
    text = str(value)
    for shape in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, shape).astimezone(UTC)
        except ValueError:
            continue
    return None


def field_of(described: dict[str, Any]) -> CrmField | None:
    """A describe field as a ``CrmField`` (``None`` for compound or binary ones):
    editable ⇔ ``updateable``; email and phone fields never editable."""
    kind = str(described.get("type", "string"))
    if kind in _SKIPPED:
        return None
    field_type: FieldType = _TYPES.get(kind, "string")
    options = tuple(
        str(value["value"])
        for value in described.get("picklistValues") or []
        if value.get("active", True)
    )
    return CrmField(
        name=str(described["name"]),
        label=str(described.get("label") or described["name"]),
        type=field_type,
        editable=bool(described.get("updateable")) and field_type not in {"email", "phone"},
        options=options if field_type == "enum" else (),
    )


def record_of(data: dict[str, Any]) -> CrmRecord:
    """A Contact or Lead (``{attributes, Id, …}``) as a ``CrmRecord``."""
    fields = {key: value for key, value in data.items() if key != "attributes"}
    return CrmRecord(
        external_id=str(data["Id"]),
        email=fields.get("Email") or None,
        phone=fields.get("Phone") or fields.get("MobilePhone") or None,
        owner_external_id=fields.get("OwnerId") or None,
        fields=fields,
        updated_at=parse_time(fields.get("SystemModstamp") or fields.get("LastModifiedDate")),
        raw=data,
    )
