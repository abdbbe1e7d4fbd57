"""The workspace's CSAT settings (one JSON value under the ``csat`` key of
``workspace_settings``) and the answers a survey offers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.contract.models import Choice
from hub.errors import Invalid
from hub.store.models import Channel, WorkspaceSetting
from hub.store.types import utcnow

KEY = "csat"
CHOICE_PREFIX = "csat:"
CHOICES_PART = "choices"
DEFAULT_QUESTION = "How would you rate the help you got from us?"
# What each point of a scale says on its button (at most 20 characters: WhatsApp's limit).
WORDS: dict[int, tuple[str, ...]] = {
    3: ("Poor", "OK", "Great"),
    5: ("Very poor", "Poor", "OK", "Good", "Excellent"),
}


class CsatSettings(BaseModel):
    """Whether closed conversations get a survey, what it asks and on which scale.

    ``since`` is when surveys were last turned on: only conversations closed after it are
    asked, so turning CSAT on never surveys the whole history."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    question: str = Field(default=DEFAULT_QUESTION, min_length=1, max_length=300)
    scale: Literal[3, 5] = 5
    off_channel_ids: list[int] = Field(default_factory=list, max_length=500)
    """Channels whose contacts are not asked (a channel added later is asked)."""
    since: AwareDatetime | None = None


async def load_csat_settings(db: AsyncSession) -> CsatSettings:
    """The current settings (the defaults, off, when never saved)."""
    row = await db.get(WorkspaceSetting, KEY)
    return CsatSettings.model_validate(row.value if row is not None else {})


async def save_csat_settings(
    db: AsyncSession,
    *,
    enabled: bool,
    question: str,
    scale: int,
    off_channel_ids: list[int] | None = None,
    actor: Viewer | None = None,
) -> CsatSettings:
    """Validate and store the settings (``since`` moves when surveys are turned on); the
    caller commits. 422 naming ``off_channel_ids`` for a channel that does not exist.
    A change by ``actor`` (the API's and the admin page's) goes in the audit log."""
    current = await load_csat_settings(db)
    since: datetime | None = current.since
    if enabled and not current.enabled:
        since = utcnow()
    off = sorted(set(off_channel_ids or []))
    if off:
        known = set(await db.scalars(select(Channel.id).where(Channel.id.in_(off))))
        if unknown := [i for i in off if i not in known]:
            raise Invalid("off_channel_ids", f"no channel with the id {unknown[0]}")
    updated = CsatSettings.model_validate(
        {
            "enabled": enabled,
            "question": question.strip(),
            "scale": scale,
            "off_channel_ids": off,
            "since": since,
        }
    )
    value = updated.model_dump(mode="json")
    row = await db.get(WorkspaceSetting, KEY)
    if row is None:
        db.add(WorkspaceSetting(key=KEY, value=value))
    else:
        row.value = value
    if actor is not None:
        target = ("csat_settings", "csat", "CSAT settings")
        before = current.model_dump(mode="json")
        await audit.record_diff(db, actor, target, "updated", before, value)
    return updated


def choices(scale: int) -> tuple[Choice, ...]:
    """The survey's buttons, worst first: ``csat:1`` "1 · Very poor" … ``csat:5``."""
    return tuple(
        Choice(id=f"{CHOICE_PREFIX}{n}", title=f"{n} · {word}")
        for n, word in enumerate(WORDS[scale], start=1)
    )


def _rating(digits: str, scale: int) -> int | None:
    """``digits`` as a rating from 1 to ``scale``: ASCII digits only (``"²".isdigit()``
    is true, and ``int`` refuses it)."""
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 3):
        return None
    rating = int(digits)
    return rating if 1 <= rating <= scale else None


def rating_of_choice(choice_id: str, scale: int) -> int | None:
    """The rating a tapped button stands for, or None when it is no survey button."""
    number = choice_id.removeprefix(CHOICE_PREFIX)
    return None if number == choice_id else _rating(number, scale)


def rating_of_text(text: str | None, scale: int) -> int | None:
    """The rating a typed answer gives: a lone number in range ("4", " 4 ", "4/5")."""
    if text is None:
        return None
    return _rating(text.strip().removesuffix(f"/{scale}").strip(), scale)


def rating_of_form(raw: object, scale: int) -> int | None:
    """The rating a form posted (the answer page's button), or None when it is none."""
    return _rating(raw, scale) if isinstance(raw, str) else None


def choices_part(scale: int) -> dict[str, Any]:
    """The stored message part that carries a survey's buttons to the outbox."""
    return {"kind": CHOICES_PART, "choices": [c.model_dump() for c in choices(scale)]}


def choices_of_parts(parts: list[dict[str, Any]] | None) -> tuple[Choice, ...]:
    """The ``OutboundMessage.choices`` of a stored message (none for most)."""
    for part in parts or []:
        if part.get("kind") == CHOICES_PART:
            return tuple(Choice.model_validate(c) for c in part.get("choices") or ())
    return ()
