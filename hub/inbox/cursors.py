"""Opaque paging cursors: a few values as base64url JSON, checked on their way back.

A cursor comes back from the client, so it is untrusted input: every value is checked
for the type and range the database can take (ids fit BIGINT, text holds no NUL, times
carry a zone and exist in UTC) before it reaches SQL. Anything else is a 422 naming
``cursor``, never a 500.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from hub.errors import Invalid
from hub.store.types import MAX_ID


def bad_cursor(message: str = "not a cursor this API gave out") -> Invalid:
    """The error for a cursor this list did not make."""
    return Invalid("cursor", message)


def pack(*values: str | int | datetime) -> str:
    """A cursor holding ``values`` (times as ISO 8601 text)."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def unpack(cursor: str, *types: type) -> list[Any]:
    """The values of a cursor, one of each type in ``types`` (``int``: an id, ``str``,
    ``datetime``: returned in UTC); ``bad_cursor()`` for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        return [_checked(value, kind) for value, kind in zip(values, types, strict=True)]
    except (ValueError, TypeError, OverflowError):  # JSONDecodeError is a ValueError
        raise bad_cursor() from None


def _checked(value: Any, kind: type) -> Any:
    if kind is int:
        # bool is an int in Python; a cursor never holds one.
        if type(value) is not int or not 0 <= value <= MAX_ID:
            raise ValueError("not an id")
        return value
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not text")
    if kind is datetime:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("no time zone")
        return moment.astimezone(UTC)  # an out-of-range time fails here, not in SQL
    return value
