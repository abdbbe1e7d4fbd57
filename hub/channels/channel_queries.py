"""Reading channels for their administration: one live channel, a page of them, and
checking that the users and teams a routing names exist."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Invalid, NotFound
from hub.inbox.channel_settings import ChannelRouting
from hub.store.models import Channel, Team, User
from hub.store.paging import name_key, name_page, pack, unpack


async def live_channel(db: AsyncSession, channel_id: int) -> Channel:
    """A channel that is not deleted; 404 otherwise."""
    channel = await db.get(Channel, channel_id)
    if channel is None or channel.deleted_at is not None:
        raise NotFound("channel")
    return channel


async def check_routing(db: AsyncSession, routing: ChannelRouting) -> None:
    """422 naming ``routing.user_ids`` / ``routing.team_ids`` when an id names nobody."""
    if routing.mode == "round_robin" and not (routing.user_ids or routing.team_ids):
        raise Invalid("routing.user_ids", "round_robin needs at least one user or team")
    for field, model, ids in (
        ("routing.user_ids", User, routing.user_ids),
        ("routing.team_ids", Team, routing.team_ids),
    ):
        if not ids:
            continue
        found = set(await db.scalars(select(model.id).where(model.id.in_(set(ids)))))
        missing = sorted(set(ids) - found)
        if missing:
            raise Invalid(field, f"no such id: {', '.join(map(str, missing))}")


async def list_channels(
    db: AsyncSession,
    *,
    sort: Literal["name", "created"],
    type_: str | None,
    enabled: bool | None,
    include_deleted: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[Channel], str | None]:
    """One page of channels by name (case-insensitive) or in the order they were created."""
    conditions: list[ColumnElement[bool]] = []
    if type_ is not None:
        conditions.append(Channel.type == type_)
    if enabled is not None:
        conditions.append(Channel.enabled.is_(enabled))
    if not include_deleted:
        conditions.append(Channel.deleted_at.is_(None))
    if sort == "name":
        return await name_page(
            db, Channel, name_key(Channel.name), Channel.id, conditions, cursor, limit
        )
    query = select(Channel).where(*conditions)
    if cursor:
        (last_id,) = unpack(cursor, int)
        query = query.where(Channel.id > last_id)
    rows = list(await db.scalars(query.order_by(Channel.id).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], pack(rows[limit - 1].id)
    return rows, None
