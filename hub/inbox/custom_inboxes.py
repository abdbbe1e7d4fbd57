"""Custom inboxes: saved filters owned by a user, shared with chosen users and teams.

Whoever owns an inbox or has it shared with them (directly or through a team) may use
it; only its creator may change or delete it. What it shows is still cut down to what
each viewer may see (``hub.inbox.views``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.errors import Forbidden, NotFound
from hub.inbox.filters import CustomInboxFilters
from hub.inbox.labels import check_label_ids
from hub.people.directory import teams_by_ids, users_by_ids
from hub.store.models import CustomInbox, CustomInboxShare
from hub.store.paging import name_key, name_page


def accessible_inboxes(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition: custom inboxes the viewer owns or that are shared with them."""
    shared = exists(
        select(CustomInboxShare.id).where(
            CustomInboxShare.inbox_id == CustomInbox.id,
            or_(
                CustomInboxShare.user_id == viewer.id,
                CustomInboxShare.team_id.in_(viewer.team_ids),
            ),
        )
    )
    return or_(CustomInbox.owner_id == viewer.id, shared)


async def get_accessible_inbox(db: AsyncSession, viewer: Viewer, inbox_id: int) -> CustomInbox:
    """A custom inbox the viewer may use; 404 otherwise (never say it exists)."""
    inbox = await db.scalar(
        select(CustomInbox).where(CustomInbox.id == inbox_id, accessible_inboxes(viewer))
    )
    if inbox is None:
        raise NotFound("custom inbox")
    return inbox


# --- listing and editing -------------------------------------------------------------

Scope = Literal["all", "mine", "others"]


@dataclass(frozen=True)
class Sharing:
    """Who a custom inbox is shared with, besides its owner."""

    user_ids: list[int] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SharedInbox:
    """A custom inbox with the users and teams it is shared with."""

    inbox: CustomInbox
    sharing: Sharing


def scope_clause(viewer: Viewer, scope: Scope) -> ColumnElement[bool]:
    """SQL condition for the sidebar's lists: By me, By others, or All of them."""
    if scope == "mine":
        return CustomInbox.owner_id == viewer.id
    if scope == "others":
        return and_(CustomInbox.owner_id != viewer.id, accessible_inboxes(viewer))
    return accessible_inboxes(viewer)


async def sharing_of(db: AsyncSession, inbox_ids: Sequence[int]) -> dict[int, Sharing]:
    """The sharing of each of these inboxes, in one query."""
    found: dict[int, Sharing] = {inbox_id: Sharing() for inbox_id in inbox_ids}
    if not inbox_ids:
        return found
    rows = await db.execute(
        select(CustomInboxShare.inbox_id, CustomInboxShare.user_id, CustomInboxShare.team_id)
        .where(CustomInboxShare.inbox_id.in_(inbox_ids))
        .order_by(CustomInboxShare.user_id, CustomInboxShare.team_id)
    )
    for inbox_id, user_id, team_id in rows.all():
        if user_id is not None:
            found[inbox_id].user_ids.append(user_id)
        if team_id is not None:
            found[inbox_id].team_ids.append(team_id)
    return found


async def list_custom_inboxes(
    db: AsyncSession, viewer: Viewer, *, scope: Scope, cursor: str | None, limit: int
) -> tuple[list[SharedInbox], str | None]:
    """One page, by name, of the custom inboxes the viewer has in ``scope``."""
    inboxes, next_cursor = await name_page(
        db,
        CustomInbox,
        name_key(CustomInbox.name),
        CustomInbox.id,
        [scope_clause(viewer, scope)],
        cursor,
        limit,
    )
    sharing = await sharing_of(db, [inbox.id for inbox in inboxes])
    return [SharedInbox(inbox, sharing[inbox.id]) for inbox in inboxes], next_cursor


async def get_custom_inbox(db: AsyncSession, viewer: Viewer, inbox_id: int) -> SharedInbox:
    """A custom inbox the viewer may use, with its sharing; 404 otherwise."""
    inbox = await get_accessible_inbox(db, viewer, inbox_id)
    return SharedInbox(inbox, (await sharing_of(db, [inbox.id]))[inbox.id])


async def _share(db: AsyncSession, inbox: CustomInbox, sharing: Sharing) -> Sharing:
    # Sharing with the owner means nothing: they have the inbox already.
    user_ids = sorted(set(sharing.user_ids) - {inbox.owner_id})
    team_ids = sorted(set(sharing.team_ids))
    await users_by_ids(db, user_ids, "share.user_ids")
    await teams_by_ids(db, team_ids, "share.team_ids")
    await db.execute(delete(CustomInboxShare).where(CustomInboxShare.inbox_id == inbox.id))
    db.add_all(CustomInboxShare(inbox_id=inbox.id, user_id=u) for u in user_ids)
    db.add_all(CustomInboxShare(inbox_id=inbox.id, team_id=t) for t in team_ids)
    await db.flush()
    return Sharing(user_ids, team_ids)


def _facts(inbox: CustomInbox, sharing: Sharing) -> dict[str, Any]:
    return {
        "name": inbox.name,
        "filters": inbox.filters,
        "shared_user_ids": sorted(sharing.user_ids),
        "shared_team_ids": sorted(sharing.team_ids),
    }


async def _record(
    db: AsyncSession,
    viewer: Viewer,
    inbox: CustomInbox,
    verb: str,
    before: dict[str, Any] | None,
    shared: Sharing | None,
) -> None:
    # Only shared inboxes are the workspace's business; a private one is its owner's.
    after = _facts(inbox, shared) if shared is not None else None
    was_shared = before is not None and (before["shared_user_ids"] or before["shared_team_ids"])
    if not was_shared and not (shared is not None and (shared.user_ids or shared.team_ids)):
        return
    target = ("custom_inbox", inbox.id, inbox.name)
    await audit.record_diff(db, viewer, target, verb, before or {}, after or {})


async def create_custom_inbox(
    db: AsyncSession, viewer: Viewer, name: str, filters: CustomInboxFilters, sharing: Sharing
) -> SharedInbox:
    """Save a filter as a custom inbox owned by the viewer, shared as asked."""
    await check_label_ids(db, filters.label_ids, "filters.label_ids")
    inbox = CustomInbox(owner_id=viewer.id, name=name, filters=filters.model_dump(mode="json"))
    db.add(inbox)
    await db.flush()
    shared = await _share(db, inbox, sharing)
    await _record(db, viewer, inbox, "created", None, shared)
    return SharedInbox(inbox, shared)


async def _owned(db: AsyncSession, viewer: Viewer, inbox_id: int) -> CustomInbox:
    inbox = await get_accessible_inbox(db, viewer, inbox_id)
    if inbox.owner_id != viewer.id:
        raise Forbidden("only the creator of a custom inbox may change it")
    return inbox


async def update_custom_inbox(
    db: AsyncSession,
    viewer: Viewer,
    inbox_id: int,
    *,
    name: str | None = None,
    filters: CustomInboxFilters | None = None,
    sharing: Sharing | None = None,
) -> SharedInbox:
    """Change a custom inbox: only its creator may (403 for others who have it, 404 for
    those who do not). Given filters and sharing replace the old ones whole."""
    inbox = await _owned(db, viewer, inbox_id)
    before = _facts(inbox, (await sharing_of(db, [inbox.id]))[inbox.id])
    if name is not None:
        inbox.name = name
    if filters is not None:
        await check_label_ids(db, filters.label_ids, "filters.label_ids")
        inbox.filters = filters.model_dump(mode="json")
    if sharing is not None:
        shared = await _share(db, inbox, sharing)
    else:
        shared = (await sharing_of(db, [inbox.id]))[inbox.id]
    await db.flush()
    await _record(db, viewer, inbox, "updated", before, shared)
    return SharedInbox(inbox, shared)


async def delete_custom_inbox(db: AsyncSession, viewer: Viewer, inbox_id: int) -> None:
    """Delete a custom inbox (its creator only, as for changes)."""
    inbox = await _owned(db, viewer, inbox_id)
    before = _facts(inbox, (await sharing_of(db, [inbox.id]))[inbox.id])
    await _record(db, viewer, inbox, "deleted", before, None)
    await db.delete(inbox)
    await db.flush()
