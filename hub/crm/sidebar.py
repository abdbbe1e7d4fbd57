"""What an agent sees and edits of a contact's CRM records: ``read_contact`` answers
from the cache at once (with its age and last error), ``edit_field`` checks the value,
refuses when the CRM changed since the agent saw it, writes, and records the change
with the earlier value (a revert is the same edit back to it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hub.auth.visibility import Viewer
from hub.contract.crm import CrmField
from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv, active_connections
from hub.crm.links import link_of, store_record
from hub.crm.registry import CrmUnavailable
from hub.crm.settings import CrmSettings, catalog_of
from hub.crm.values import checked, same
from hub.errors import HubError, Invalid
from hub.inbox.contacts import announce_contact, get_contact
from hub.store.models import CrmConnection, CrmContactLink, CrmFieldChange
from hub.store.types import utcnow


@dataclass(frozen=True)
class FieldView:
    """One shown field: its catalog entry, value, whether the agent may edit it, and
    the earlier value of the hub's last change to it (for a revert)."""

    field: CrmField
    value: Any
    editable: bool
    previous: CrmFieldChange | None


@dataclass(frozen=True)
class RecordView:
    """One connection's view of the contact."""

    connection: CrmConnection
    title: str
    link: CrmContactLink | None
    fields: list[FieldView]
    record_url: str | None
    stale: bool


async def read_contact(env: CrmEnv, viewer: Viewer, contact_id: int) -> list[RecordView]:
    """Every enabled connection's cached view of a contact the viewer may see (404
    otherwise). Never calls a CRM; ``stale`` says a refresh (or a first link) is due,
    which the caller runs in the background."""
    async with env.sessions() as db:
        await get_contact(db, viewer, contact_id)
        connections = await active_connections(db)
        views: list[RecordView] = []
        for connection in connections:
            link = await link_of(db, connection.id, contact_id)
            settings = CrmSettings.of(connection)
            fields: list[FieldView] = []
            if link is not None:
                last = await _last_changes(db, connection.id, contact_id)
                for field in settings.shown(catalog_of(connection)):
                    fields.append(
                        FieldView(
                            field,
                            (link.cached or {}).get(field.name),
                            settings.is_editable(field),
                            last.get(field.name),
                        )
                    )
            views.append(
                RecordView(
                    connection,
                    _title(env, connection),
                    link,
                    fields,
                    _record_url(env, connection, link),
                    _stale(link, settings),
                )
            )
    return views


def _title(env: CrmEnv, connection: CrmConnection) -> str:
    kind = env.instances.types.get(connection.type)
    return kind.title if kind is not None else connection.type


def _record_url(env: CrmEnv, connection: CrmConnection, link: CrmContactLink | None) -> str | None:
    if link is None:
        return None
    try:
        return env.instances.for_connection(connection).record_url(link.external_id)
    except (CrmUnavailable, Exception):  # a plugin that cannot say gives no link
        return None


def _stale(link: CrmContactLink | None, settings: CrmSettings) -> bool:
    if link is None or link.fetched_at is None:
        return True
    age = (utcnow() - link.fetched_at).total_seconds()
    return age > settings.refresh_minutes * 60


async def _last_changes(db: Any, connection_id: int, contact_id: int) -> dict[str, CrmFieldChange]:
    rows = await db.scalars(
        select(CrmFieldChange)
        .where(
            CrmFieldChange.connection_id == connection_id,
            CrmFieldChange.contact_id == contact_id,
            CrmFieldChange.source.in_(("agent", "push")),
        )
        .order_by(CrmFieldChange.id.desc())
        .limit(200)
    )
    last: dict[str, CrmFieldChange] = {}
    for change in rows:
        last.setdefault(change.field, change)
    return last


@dataclass(frozen=True)
class Edit:
    """An agent's edit: the field, the new value, and the value they saw."""

    connection_id: int
    field: str
    value: Any
    expected: Any


@dataclass(frozen=True)
class Edited:
    """A stored edit: the change row, with the earlier and the new value."""

    change: CrmFieldChange
    fetched_at: datetime


async def edit_field(env: CrmEnv, viewer: Viewer, contact_id: int, edit: Edit) -> Edited:
    """Write one field of the contact's record (see the module doc); 422 naming the
    field for a bad value, 409 ``crm_conflict`` with both values when the CRM's value is
    not the one the agent saw, 502/503 when the CRM fails."""
    async with env.sessions() as db:
        contact = await get_contact(db, viewer, contact_id)
        connection = await db.get(CrmConnection, edit.connection_id)
        if connection is None:
            raise Invalid("connection_id", "no such CRM connection")
        link = await link_of(db, connection.id, contact.id)
    if not connection.enabled:
        raise HubError(409, "crm_disabled", "this CRM connection is disabled")
    if link is None:
        raise HubError(409, "not_linked", "the contact has no record in this CRM yet")
    settings = CrmSettings.of(connection)
    field = next((f for f in catalog_of(connection) if f.name == edit.field), None)
    if field is None:
        raise Invalid("field", f"the CRM has no contact field {edit.field!r}")
    if not settings.is_editable(field):
        raise Invalid("field", f"{field.label} cannot be edited from the inbox")
    value = checked(field, edit.value)
    try:
        plugin = env.instances.for_connection(connection)
        external_id = link.external_id
        record = await env.calls.run(
            connection.id, lambda: plugin.read_fields(external_id), max_wait=2.0
        )
        current = record.fields.get(field.name)
        if not same(current, edit.expected):
            await _remember(env, link.id, record, settings)
            raise HubError(
                409,
                "crm_conflict",
                f"{field.label} was changed in the CRM since you saw it",
                {"field": field.name, "expected": edit.expected, "current": current},
            )
        await env.calls.run(
            connection.id,
            lambda: plugin.update_fields(external_id, {field.name: value}),
            max_wait=2.0,
        )
    except CrmCallFailed as err:
        raise _call_error(err) from None
    async with env.work() as w:
        fresh = await w.db.get(CrmContactLink, link.id)
        if fresh is None:
            raise HubError(409, "not_linked", "the contact was unlinked meanwhile")
        written = record.model_copy(update={"fields": {**record.fields, field.name: value}})
        await store_record(w.db, fresh, written, fresh.owner_email, settings, replace=True)
        conflicts = dict(fresh.conflicts or {})
        conflicts.pop(field.name, None)
        fresh.conflicts = conflicts
        change = CrmFieldChange(
            connection_id=connection.id,
            contact_id=contact.id,
            field=field.name,
            old_value=current,
            new_value=value,
            source="agent",
            actor_id=viewer.id,
        )
        w.db.add(change)
        await w.db.flush()
        await announce_contact(w, contact.id, "crm", connection_id=connection.id)
        fetched_at = fresh.fetched_at or utcnow()
    return Edited(change, fetched_at)


async def _remember(env: CrmEnv, link_id: int, record: Any, settings: CrmSettings) -> None:
    """Cache what the CRM holds now, so the agent's next read shows it."""
    async with env.work() as w:
        link = await w.db.get(CrmContactLink, link_id)
        if link is not None:
            await store_record(w.db, link, record, link.owner_email, settings, replace=True)


def _call_error(err: CrmCallFailed) -> HubError:
    if err.kind == "retry":
        after = max(1, round(err.retry_after or 1))
        return HubError(
            503,
            "crm_busy",
            f"{err.message}; try again in {after} s",
            headers={"Retry-After": str(after)},
        )
    if err.kind == "credentials":
        return HubError(
            502, "crm_bad_credentials", f"{err.message}: an admin must reconnect the CRM"
        )
    return HubError(502, "crm_failed", err.message)
