"""Reading and writing the hub contact fields a mapping names (``name``, ``email``, …,
``fields.<key>``); pulled values are normalized like an agent's edit, and a value the
hub cannot take (a phone without a country code) is left out rather than stored."""

from __future__ import annotations

from typing import Any

from hub.errors import HubError
from hub.inbox.contact_fields import (
    normalize_country,
    normalize_email,
    normalize_language,
    normalize_phone,
)
from hub.store.models import Contact

_NORMALIZE = {
    "email": normalize_email,
    "country": normalize_country,
    "language": normalize_language,
}


def hub_value(contact: Contact, hub_field: str) -> Any:
    """The contact's value of ``hub_field``."""
    if hub_field.startswith("fields."):
        return (contact.fields or {}).get(hub_field.removeprefix("fields."))
    return getattr(contact, hub_field)


def set_hub_value(contact: Contact, hub_field: str, value: Any) -> bool:
    """Set ``hub_field`` from a CRM value; whether the contact changed."""
    if hub_field.startswith("fields."):
        key = hub_field.removeprefix("fields.")
        current = dict(contact.fields or {})
        if current.get(key) == value:
            return False
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
        contact.fields = current  # a new object, so the JSON column is seen as changed
        return True
    text = None if value is None or value == "" else str(value)
    if text is not None:
        try:
            if hub_field == "phone":
                text = normalize_phone(text, contact.country)
            elif hub_field in _NORMALIZE:
                text = _NORMALIZE[hub_field](text)
        except HubError:
            return False  # the CRM holds something the hub cannot take; keep ours
    if hub_field == "name" and text is None:
        return False  # a contact always has a name
    if getattr(contact, hub_field) == text:
        return False
    setattr(contact, hub_field, text)
    return True
