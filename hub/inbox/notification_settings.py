"""Each user's notification settings: which kinds of notification they get, and whether
the inbox page may show desktop notifications and play a sound.

Stored as a JSON object on the user (``users.notification_settings``); what it lacks takes
the default, so a user who never chose gets every kind, without desktop notices or sound.
The kinds are checked where a notification is written (``conversations.notify``, intake):
a kind turned off is never stored, so it neither counts on the bell nor reaches the API.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.store.models import User

Kind = Literal["message", "mention", "assigned", "snooze_ended", "sla_breached"]
KINDS: tuple[Kind, ...] = ("message", "mention", "assigned", "snooze_ended", "sla_breached")


class NotificationSettings(BaseModel):
    """What a user wants to be notified of, and how the inbox page tells them."""

    model_config = ConfigDict(extra="forbid")

    message: bool = Field(True, description="a new message in a conversation assigned to me")
    mention: bool = Field(True, description="someone mentions me in a comment")
    assigned: bool = Field(True, description="someone (or routing) assigns me a conversation")
    snooze_ended: bool = Field(True, description="a snoozed conversation of mine is back")
    sla_breached: bool = Field(
        True,
        description="an SLA target of a conversation of mine (or, unassigned, of my team's; "
        "for owners and managers, of one with neither) was breached",
    )
    desktop: bool = Field(False, description="show desktop notifications (the browser asks too)")
    sound: bool = Field(False, description="play a short sound while the inbox tab is hidden")

    def wants(self, kind: str) -> bool:
        """Whether a notification of ``kind`` should be stored; kinds without a setting
        always are."""
        return bool(getattr(self, kind)) if kind in KINDS else True


def settings_of(user: User) -> NotificationSettings:
    """The user's settings; stored keys that are unknown or not booleans are ignored (a
    downgrade, a hand edit), so reading never fails."""
    return _settings_from(user.notification_settings)


def _settings_from(stored: dict[str, Any] | None) -> NotificationSettings:
    stored = stored or {}
    known = {
        key: value
        for key, value in stored.items()
        if key in NotificationSettings.model_fields and isinstance(value, bool)
    }
    return NotificationSettings(**known)


async def wants(db: AsyncSession, user_id: int, kind: str) -> bool:
    """Whether the user wants notifications of ``kind`` (False for a deleted user)."""
    if kind not in KINDS:
        return True
    user = await db.get(User, user_id)  # usually in the session already: no query
    return user is not None and settings_of(user).wants(kind)


async def assignees_wanting(db: AsyncSession, user_ids: set[int], kind: Kind) -> set[int]:
    """Which of these users want ``kind``, in one query (for a batch of messages)."""
    if not user_ids:
        return set()
    rows = await db.execute(
        select(User.id, User.notification_settings).where(
            User.id.in_(user_ids), User.is_active.is_(True)
        )
    )
    chosen = set()
    for user_id, stored in rows.all():
        value = (stored or {}).get(kind, True)
        if value is not False:
            chosen.add(user_id)
    return chosen


async def load_settings(db: AsyncSession, user_id: int) -> NotificationSettings:
    """A user's settings (404 for no such user)."""
    # The one column: loading the user would also load their teams.
    found = (
        await db.execute(select(User.notification_settings).where(User.id == user_id))
    ).one_or_none()
    if found is None:
        raise NotFound("user")
    return _settings_from(found[0])


async def save_settings(
    work: Work, user_id: int, settings: NotificationSettings
) -> NotificationSettings:
    """Replace a user's settings; their open inbox pages hear of it (desktop, sound)."""
    user = await work.db.get(User, user_id)
    if user is None:
        raise NotFound("user")
    user.notification_settings = settings.model_dump()
    work.emit(
        HubEvent(
            "notification_settings.updated",
            settings.model_dump(),
            user_ids=frozenset({user_id}),
        )
    )
    return settings
