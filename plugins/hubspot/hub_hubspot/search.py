"""Bodies for HubSpot's CRM search: contacts by email or phone, notes of a contact,
contacts changed since a moment, and the resumable cursor of that pull."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

PAGE = 100
"""Results per search page (HubSpot allows up to 200)."""


def by_email(email: str, properties: list[str]) -> dict[str, Any]:
    """Contacts whose ``email`` equals ``email`` (HubSpot compares case-insensitively)."""
    return {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": email.lower()}]}
        ],
        "properties": properties,
        "limit": 10,
    }


def national_digits(e164: str) -> str | None:
    """The digits of an E.164 number without its country code, as HubSpot keeps them in
    ``hs_searchable_calculated_*``; ``None`` when the number does not parse."""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return None


def by_phone(e164: str, properties: list[str]) -> dict[str, Any]:
    """Contacts with ``e164`` in a phone field: phones keep the format they were typed in,
    so the number as given is OR'ed with HubSpot's own calculated digits."""
    groups = [
        {"filters": [{"propertyName": name, "operator": "EQ", "value": e164}]}
        for name in ("phone", "mobilephone")
    ]
    digits = national_digits(e164)
    if digits:
        groups += [
            {"filters": [{"propertyName": name, "operator": "EQ", "value": digits}]}
            for name in (
                "hs_searchable_calculated_phone_number",
                "hs_searchable_calculated_mobile_number",
            )
        ]
    return {"filterGroups": groups, "properties": properties, "limit": 10}


def notes_of(contact_id: str, after: str | None) -> dict[str, Any]:
    """One page of the notes associated with a contact, with their bodies."""
    body: dict[str, Any] = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "associations.contact", "operator": "EQ", "value": contact_id}
                ]
            }
        ],
        "properties": ["hs_note_body", "hs_timestamp"],
        "limit": 200,
    }
    if after:
        body["after"] = after
    return body


@dataclass
class Cursor:
    """Where a pull of changed contacts resumes: the last ``lastmodifieddate`` seen (ms)
    and the ids already seen at exactly that moment (ties are skipped, not lost)."""

    since_ms: int = 0
    seen: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        """The cursor of ``text``; the beginning for ``None`` or one this plugin did not
        write (a pull then starts over, which repeats records but loses none)."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(int(data["t"]), [str(i) for i in data.get("ids", [])])
        except (ValueError, KeyError, TypeError):
            return cls()

    def dump(self) -> str:
        """The cursor as text for the core to keep."""
        return json.dumps({"t": self.since_ms, "ids": self.seen}, separators=(",", ":"))


def changed_since(cursor: Cursor, properties: list[str], after: str | None) -> dict[str, Any]:
    """Contacts modified at or after the cursor's moment, oldest first. The plugin drops
    the ones already seen at that moment; ``after`` (an offset) pages past them when a
    whole page shares the moment."""
    body: dict[str, Any] = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "lastmodifieddate",
                        "operator": "GTE",
                        "value": str(cursor.since_ms),
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        "properties": properties,
        "limit": PAGE,
    }
    if after:
        body["after"] = after
    return body
