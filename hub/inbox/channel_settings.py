"""A channel's stored routing and settings, read by the inbox (intake, routing) and by
the pipes and the channel administration above it."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.store.models import Channel
from hub.store.types import DbId

log = logging.getLogger(__name__)
OUT_OF_HOURS_TEXT_MAX = 1000


class ChannelRouting(BaseModel):
    """Who gets a new conversation of the channel.

    ``unassigned`` leaves it in the unassigned queue; ``round_robin`` rotates among the
    available agents of ``user_ids`` and the members of ``team_ids``; ``crm_owner`` gives
    it to the contact's owner in the linked CRM (falling back to unassigned).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["unassigned", "round_robin", "crm_owner"] = "unassigned"
    user_ids: list[DbId] = Field(default_factory=list, max_length=500)
    team_ids: list[DbId] = Field(default_factory=list, max_length=500)

    @classmethod
    def of(cls, channel: Channel) -> ChannelRouting:
        """The channel's routing, defaults filled; a stored value that no longer
        validates (written by an older version) reads as the default."""
        try:
            return cls.model_validate(channel.routing or {})
        except ValidationError:
            log.warning("channel %s: stored routing is invalid; using defaults", channel.id)
            return cls()


class ChannelSettings(BaseModel):
    """Per-channel behaviour of the pipes.

    ``closed_conversation``: a message to a closed conversation ``reopen``s it or starts a
    ``new`` one. ``max_concurrency`` / ``rate_per_second`` override the hub-wide outbox
    limits (``None``: use the hub's settings). ``out_of_hours_reply``: when a contact
    writes while the conversation's business hours are closed, the hub answers with
    ``out_of_hours_text``, at most once per conversation a day (``hub.inbox.out_of_hours``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    closed_conversation: Literal["reopen", "new"] = "reopen"
    max_concurrency: int | None = Field(default=None, ge=1, le=100)
    rate_per_second: float | None = Field(default=None, gt=0, le=10_000)
    out_of_hours_reply: bool = False
    out_of_hours_text: str | None = Field(default=None, max_length=OUT_OF_HOURS_TEXT_MAX)

    @model_validator(mode="after")
    def _text_when_on(self) -> ChannelSettings:
        if self.out_of_hours_reply and not (self.out_of_hours_text or "").strip():
            raise ValueError("out_of_hours_text: write the reply to turn it on")
        return self

    @classmethod
    def of(cls, channel: Channel) -> ChannelSettings:
        """The channel's settings, defaults filled; an invalid stored value reads as
        the default."""
        try:
            return cls.model_validate(channel.settings or {})
        except ValidationError:
            log.warning("channel %s: stored settings are invalid; using defaults", channel.id)
            return cls()


def routing_json(routing: ChannelRouting) -> dict[str, Any]:
    """A routing as stored in ``Channel.routing``."""
    return routing.model_dump(mode="json")


def settings_json(settings: ChannelSettings) -> dict[str, Any]:
    """Settings as stored in ``Channel.settings``."""
    return settings.model_dump(mode="json")
