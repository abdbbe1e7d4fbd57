"""Paging helpers every list shares: opaque cursors, and pages ordered by a name.

A cursor is a few values as base64url JSON, checked on its way back: it comes back from the client, so it is untrusted input: every value is checked
for the type and range the database can take (ids fit BIGINT, text holds no NUL, times
carry a zone and exist in UTC) before it reaches SQL. Anything else is a 422 naming
``cursor``, never a 500.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

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


Row = TypeVar("Row")

# --- paging by name (users, teams, snippets, custom inboxes, channels) ----------------


def name_key(column: Any) -> ColumnElement[str]:
    """The sort key of a name column: case-insensitive, as people read a list."""
    return func.lower(column)


def encode_name_cursor(key: str, row_id: int) -> str:
    """An opaque cursor: the sort key and id of the last row of a page."""
    return pack(key, row_id)


def decode_name_cursor(cursor: str) -> tuple[str, int]:
    """The position a cursor points at; 422 naming ``cursor`` when it is not one of ours."""
    key, row_id = unpack(cursor, str, int)
    return key, row_id


async def name_page(
    db: AsyncSession,
    entity: type[Row],
    key: ColumnElement[str],
    id_column: Any,
    conditions: Sequence[ColumnElement[bool]],
    cursor: str | None,
    limit: int,
) -> tuple[list[Row], str | None]:
    """One page of ``entity`` rows ordered by ``key`` then id, and the next page's cursor."""
    query = select(entity, key).where(*conditions)
    if cursor:
        last_key, last_id = decode_name_cursor(cursor)
        query = query.where(or_(key > last_key, and_(key == last_key, id_column > last_id)))
    result = await db.execute(query.order_by(key, id_column).limit(limit + 1))
    rows = [(row, row_key) for row, row_key in result.all()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last, last_key = rows[-1]
        next_cursor = encode_name_cursor(last_key, last.id)  # type: ignore[attr-defined]
    return [row for row, _ in rows], next_cursor


def like_pattern(text: str) -> str:
    """A LIKE pattern for "contains ``text``", case-folded, with wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"
