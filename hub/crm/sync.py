"""Keeping contacts in step: pulls (``changes_since`` from the stored cursor), CRM
webhooks, and pushes of mapped hub fields that never overwrite a change made in the CRM
since it was fetched (that is recorded and shown as a conflict instead)."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import or_, select, update

from hub.contract.errors import WebhookRejected
from hub.contract.models import WebhookRequest
from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv
from hub.crm.links import apply_records, link_of, store_record
from hub.crm.mapping import hub_value
from hub.crm.settings import CrmSettings
from hub.crm.values import same
from hub.errors import HubError, NotFound
from hub.inbox.contacts import announce_contact
from hub.store.models import Contact, CrmConnection, CrmContactLink, CrmFieldChange
from hub.store.types import utcnow

log = logging.getLogger(__name__)
MAX_PAGES = 20  # a pull's pages in one run; the cursor resumes the rest next time


def usable(connection: CrmConnection) -> bool:
    """Whether background jobs may call the connection now (enabled, connected, not
    asked to wait)."""
    if not connection.enabled or connection.status != "ok":
        return False
    return connection.retry_after is None or connection.retry_after <= utcnow()


async def back_off(env: CrmEnv, connection_id: int, err: CrmCallFailed) -> None:
    """Leave the connection alone for the time the CRM asked (rate limit, outage)."""
    seconds = err.retry_after or 60.0
    async with env.sessions() as db:
        await db.execute(
            update(CrmConnection)
            .where(CrmConnection.id == connection_id)
            .values(
                retry_after=utcnow() + timedelta(seconds=seconds),
                failures=CrmConnection.failures + 1,
            )
        )
        await db.commit()


async def pull(env: CrmEnv, connection_id: int) -> int:
    """Pull the connection's changes since its cursor into the linked contacts' caches
    (and the pulled hub fields); how many links changed. A type that cannot pull is
    left alone (its webhooks keep it in step)."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
    if connection is None or not usable(connection):
        return 0
    plugin = env.instances.for_connection(connection)
    cursor = connection.sync_cursor
    changed = 0
    for _ in range(MAX_PAGES):
        try:
            changes = await env.calls.run(connection_id, partial(plugin.changes_since, cursor))
        except NotImplementedError:
            break
        except CrmCallFailed as err:
            if err.kind == "retry":
                await back_off(env, connection_id, err)
            else:
                log.warning("CRM connection %s: pull failed: %s", connection_id, err.message)
            break
        changed += await apply_records(env, connection, changes.records)
        async with env.sessions() as db:
            await db.execute(
                update(CrmConnection)
                .where(CrmConnection.id == connection_id)
                .values(
                    sync_cursor=changes.cursor,
                    last_pulled_at=utcnow(),
                    failures=0,
                    retry_after=None,
                )
            )
            await db.commit()
        if changes.cursor == cursor or not changes.records:
            break
        cursor = changes.cursor
    return changed


async def receive_webhook(env: CrmEnv, connection_id: int, request: WebhookRequest) -> int:
    """Verify and apply a CRM's push notification; how many links changed. 404 for an
    unknown or disabled connection or a type without webhooks; the plugin's refusal
    answers its status."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
    if connection is None or not connection.enabled:
        raise NotFound("CRM connection")
    plugin = env.instances.for_connection(connection)
    try:
        records = await plugin.handle_webhook(request)
    except NotImplementedError:
        raise NotFound("CRM webhook") from None
    except WebhookRejected as err:
        raise HubError(err.status, "webhook_rejected", err.reason) from None
    except Exception as err:
        log.exception("CRM connection %s: handle_webhook failed", connection_id)
        raise HubError(
            400, "webhook_rejected", f"the CRM plugin refused it: {type(err).__name__}"
        ) from None
    return await apply_records(env, connection, records)


async def push_contact(env: CrmEnv, connection_id: int, contact_id: int) -> list[str]:
    """Write the contact's pushed mappings that differ from the cached CRM values; a
    field the CRM changed since it was fetched is not written but recorded as a
    conflict. The CRM fields written."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        contact = await db.get(Contact, contact_id)
        link = await link_of(db, connection_id, contact_id)
    if connection is None or contact is None or link is None or not usable(connection):
        return []
    settings = CrmSettings.of(connection)
    cached = link.cached or {}
    wanted: dict[str, Any] = {}
    for mapping in settings.mapping:
        if mapping.pushes and mapping.hub_field not in ("email", "phone"):
            value = hub_value(contact, mapping.hub_field)
            if not same(value, cached.get(mapping.crm_field)):
                wanted[mapping.crm_field] = value
    if not wanted:
        return []
    plugin = env.instances.for_connection(connection)
    external_id = link.external_id
    try:
        record = await env.calls.run(connection_id, lambda: plugin.read_fields(external_id))
    except CrmCallFailed as err:
        await _failed(env, link.id, err)
        return []
    # Already equal in the CRM (another process pushed it): nothing to write or decide.
    wanted = {f: v for f, v in wanted.items() if not same(record.fields.get(f), v)}
    writes = {f: v for f, v in wanted.items() if same(record.fields.get(f), cached.get(f))}
    conflicts = {f: v for f, v in wanted.items() if f not in writes}
    if writes:
        try:
            await env.calls.run(connection_id, lambda: plugin.update_fields(external_id, writes))
        except CrmCallFailed as err:
            await _failed(env, link.id, err)
            return []
    async with env.work() as w:
        fresh = await w.db.get(CrmContactLink, link.id)
        if fresh is None:
            return []
        written = record.model_copy(update={"fields": {**record.fields, **writes}})
        await store_record(w.db, fresh, written, fresh.owner_email, settings, replace=True)
        shown = dict(fresh.conflicts or {})
        for name, value in writes.items():
            shown.pop(name, None)
            w.db.add(
                _change(connection_id, contact_id, name, record.fields.get(name), value, "push")
            )
        for name, value in conflicts.items():
            crm_value = record.fields.get(name)
            shown[name] = {"hub": value, "crm": crm_value, "at": utcnow().isoformat()}
            w.db.add(_change(connection_id, contact_id, name, crm_value, value, "conflict"))
        fresh.conflicts = shown
        await w.db.flush()
        await announce_contact(w, contact_id, "crm", connection_id=connection_id)
    return list(writes)


def _change(
    connection_id: int, contact_id: int, field: str, old: Any, new: Any, source: str
) -> CrmFieldChange:
    return CrmFieldChange(
        connection_id=connection_id,
        contact_id=contact_id,
        field=field,
        old_value=old,
        new_value=new,
        source=source,
    )


async def _failed(env: CrmEnv, link_id: int, err: CrmCallFailed) -> None:
    async with env.sessions() as db:
        link = await db.get(CrmContactLink, link_id)
        if link is not None:
            link.last_error = f"push failed: {err.message}"
            await db.commit()


async def pushing_connections(env: CrmEnv) -> list[int]:
    """Ids of the enabled connections that push at least one field."""
    async with env.sessions() as db:
        rows = await db.scalars(select(CrmConnection).where(CrmConnection.enabled.is_(True)))
        return [c.id for c in rows if any(m.pushes for m in CrmSettings.of(c).mapping)]


async def push_due(env: CrmEnv, connection_id: int, limit: int = 500) -> int:
    """Push linked contacts changed in the hub since their last sync: the safety net
    for changes whose event was missed (a restart), or that no agent could hear of (a
    contact without conversations). Contacts whose mapped values already match the
    cache cost no CRM call. How many pushed a field."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        if connection is None or not any(m.pushes for m in CrmSettings.of(connection).mapping):
            return 0
        contact_ids = list(
            await db.scalars(
                select(CrmContactLink.contact_id)
                .join(Contact, Contact.id == CrmContactLink.contact_id)
                .where(
                    CrmContactLink.connection_id == connection_id,
                    or_(
                        CrmContactLink.last_synced_at.is_(None),
                        Contact.updated_at > CrmContactLink.last_synced_at,
                    ),
                )
                .order_by(Contact.updated_at)
                .limit(limit)
            )
        )
    pushed = 0
    for contact_id in contact_ids:
        pushed += bool(await push_contact(env, connection_id, contact_id))
    return pushed
