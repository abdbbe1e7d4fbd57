"""Recording changes in the audit log, inside the change's own transaction.

Domain functions call ``record`` with the session of their unit of work, so an entry
commits or rolls back with the change it describes: exactly once, never for a change
that did not happen. Nothing here updates or deletes an entry; only the retention job
(``hub.auth.audit_retention``) deletes old ones.

Values are made safe before they are stored: a field named like a secret (password,
token, secret, key…) or listed by the caller (a channel's or CRM's config schema marks
its secret fields) is written as ``"***"``, whatever its value, so the log says *that* a
secret changed, never what it is.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.origin import current_origin
from hub.auth.visibility import Viewer
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import AuditEntry, User

SECRET = "***"  # noqa: S105 - the mask written in place of a secret
HUB_LABEL = "Hub (automation)"
_LABEL_MAX = 300
_SECRET_NAME = re.compile(
    r"password|passwd|secret|token|api_?key|private_?key|credential|signing_?key", re.IGNORECASE
)

Changes = dict[str, list[Any]]


def is_secret_name(name: str) -> bool:
    """Whether a field's name says it holds a secret."""
    return _SECRET_NAME.search(name) is not None


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: dates as ISO text, sets as sorted lists."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def redact(values: Mapping[str, Any], secrets: Collection[str] = ()) -> dict[str, Any]:
    """``values`` with every secret replaced by ``"***"`` (an empty one stays empty),
    nested mappings included."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key in secrets or is_secret_name(key):
            out[key] = SECRET if value not in (None, "") else value
        elif isinstance(value, Mapping):
            out[key] = redact(value, secrets)
        else:
            out[key] = plain(value)
    return out


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], secrets: Collection[str] = ()
) -> Changes:
    """``{field: [before, after]}`` for each field whose value differs, secrets redacted
    (a changed secret shows as ``["***", "***"]``: that it changed, not to what)."""
    changes: Changes = {}
    for key in dict.fromkeys([*before, *after]):
        old, new = plain(before.get(key)), plain(after.get(key))
        if old == new or (_empty(old) and _empty(new)):
            continue
        if key in secrets or is_secret_name(key):
            old = SECRET if old not in (None, "") else old
            new = SECRET if new not in (None, "") else new
        elif isinstance(old, Mapping | None) and isinstance(new, Mapping | None):
            # Nested settings are compared field by field ("config.token"), so each
            # inner secret is redacted by its own name too.
            for inner, pair in diff(old or {}, new or {}, secrets).items():
                changes[f"{key}.{inner}"] = pair
            continue
        changes[key] = [old, new]
    return changes


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def created(values: Mapping[str, Any], secrets: Collection[str] = ()) -> Changes:
    """The changes of a new thing: ``[None, value]`` for each field set."""
    return diff({}, values, secrets)


def deleted(values: Mapping[str, Any], secrets: Collection[str] = ()) -> Changes:
    """The changes of a removed thing: ``[value, None]`` for each field it had."""
    return diff(values, {}, secrets)


_BOOKKEEPING = frozenset({"id", "created_at", "updated_at", "name_key", "created_by"})


def row_facts(row: object, skip: Collection[str] = ()) -> dict[str, Any]:
    """A stored row's columns as plain values, less ids and timestamps (to diff)."""
    columns = sa_inspect(row).mapper.column_attrs
    return {
        c.key: plain(getattr(row, c.key))
        for c in columns
        if c.key not in _BOOKKEEPING and c.key not in skip
    }


def config_facts(cipher: ConfigCipher, encrypted: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The audited fields of a thing with an encrypted config (a channel, a CRM
    connection): ``fields`` plus ``config``, decrypted so it can be diffed (its secrets
    are redacted when recorded); ``{}`` when the hub's key changed and it is unreadable."""
    try:
        config = cipher.decrypt(encrypted)
    except CredentialsUnreadable:
        config = {}  # nothing readable to compare
    return {**fields, "config": config}


def snapshot(obj: object, fields: Collection[str]) -> dict[str, Any]:
    """The named attributes of ``obj``, as plain values (to diff before and after)."""
    return {name: plain(getattr(obj, name)) for name in fields}


async def _actor_label(db: AsyncSession, actor_id: int | None) -> str:
    if actor_id is None:
        return HUB_LABEL
    user = await db.get(User, actor_id)
    if user is None:
        return f"user {actor_id}"
    return f"{user.name} <{user.email}>"[: _LABEL_MAX * 2]


async def record(
    db: AsyncSession,
    actor_id: int | None,
    action: str,
    target_type: str,
    target_id: int | str | None,
    target_label: str | None,
    changes: Changes | None = None,
) -> AuditEntry | None:
    """Add an audit entry to ``db``'s transaction: ``actor_id`` (None for the hub
    itself) did ``action`` (``"<target_type>.<verb>"``) to the target. An update that
    changed nothing (``changes == {}``) is not recorded; ``None`` records no changes."""
    if changes is not None and not changes and action.endswith(".updated"):
        return None
    origin = current_origin()
    entry = AuditEntry(
        actor_id=actor_id,
        actor_label=await _actor_label(db, actor_id),
        token_id=origin.token_id,
        token_name=origin.token_name,
        ip=origin.ip,
        user_agent=origin.user_agent,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        target_label=target_label[:_LABEL_MAX] if target_label else target_label,
        changes=changes or {},
    )
    db.add(entry)
    return entry


async def record_diff(
    db: AsyncSession,
    actor: Viewer,
    target: tuple[str, int | str | None, str | None],
    verb: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    secrets: Collection[str] = (),
) -> AuditEntry | None:
    """Record ``<type>.<verb>`` of ``target`` (type, id, label) by ``actor`` with the
    difference of ``before`` and ``after`` (``{}`` for a created or deleted thing)."""
    kind, target_id, label = target
    changes = diff(before, after, secrets)
    return await record(db, actor.actor_id, f"{kind}.{verb}", kind, target_id, label, changes)
