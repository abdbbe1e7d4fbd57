"""CRM field values: checked against the field's type before a write, and compared
loosely (CRMs answer numbers and booleans as text) to spot a change made meanwhile."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from hub.contract.crm import CrmField
from hub.errors import Invalid

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_TEXT = 10_000


def checked(field: CrmField, value: Any) -> Any:
    """``value`` as the CRM field takes it; 422 naming the field when it does not fit.

    ``None`` and ``""`` clear the field.
    """
    if value is None or value == "":
        return None
    problem = _problem(field, value)
    if problem is not None:
        raise Invalid(field.name, problem)
    if field.type == "number" and isinstance(value, str):
        number = float(value)
        return int(number) if number.is_integer() else number
    if field.type == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    return value


def _problem(field: CrmField, value: Any) -> str | None:
    kind = field.type
    if kind == "boolean":
        ok = isinstance(value, bool) or (
            isinstance(value, str) and value.lower() in ("true", "false")
        )
        return None if ok else "must be true or false"
    if kind == "number":
        if isinstance(value, bool):
            return "must be a number"
        if isinstance(value, int | float):
            return None
        try:
            float(str(value))
        except ValueError:
            return "must be a number"
        return None
    if not isinstance(value, str):
        return "must be text"
    if len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters"
    if kind == "email" and not _EMAIL.match(value):
        return "must be an email address"
    if kind == "phone" and not _PHONE.match(value):
        return "must be a phone number in E.164 form, e.g. +4915123456789"
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return "must be a date, YYYY-MM-DD"
    if kind == "datetime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "must be a date and time in ISO 8601"
    if kind == "enum" and field.options and value not in field.options:
        return f"must be one of {', '.join(field.options)}"
    return None


def canonical(value: Any) -> Any:
    """A form in which equal values compare equal: empty is ``None``, numbers and
    booleans are compared by value whether the CRM sent them as text or not."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        number = float(value)
        return repr(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return text.lower()
        try:
            number = float(text)
        except ValueError:
            return text
        if text.lower() in ("nan", "inf", "-inf", "infinity"):
            return text
        return repr(int(number)) if number.is_integer() else repr(number)
    return value


def same(a: Any, b: Any) -> bool:
    """Whether two values of one field are the same value."""
    return bool(canonical(a) == canonical(b))
