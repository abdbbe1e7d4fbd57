"""The provider rules a reply is checked against before it is queued: message
templates and the customer-service window (WhatsApp's 24 hours).

Checked up front so the agent hears at once, rather than minutes later from the
outbox; the vendor's own refusal still maps to ``WindowClosed`` at send time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from hub.contract.channel import Capabilities
from hub.errors import HubError, Invalid
from hub.events.work import Work
from hub.store.models import Conversation
from hub.store.types import utcnow

TEMPLATE_PART = "template"


@dataclass(frozen=True)
class TemplateChoice:
    """A provider-approved template and the values of its body's ``{{1}}``, ``{{2}}``…"""

    name: str
    language: str
    parameters: list[str] = field(default_factory=list)

    def part(self) -> dict[str, Any]:
        """The message part it is stored as."""
        return {
            "kind": TEMPLATE_PART,
            "name": self.name,
            "language": self.language,
            "parameters": list(self.parameters),
        }

    def rendering(self) -> str:
        """The message's readable text in the inbox, search and previews."""
        shown = f"[template {self.name} ({self.language})]"
        return f"{shown} {' | '.join(self.parameters)}" if self.parameters else shown


def template_of_parts(parts: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The ``OutboundMessage.template`` of a stored message: ``{name, language,
    parameters}``, or None when it is no template message."""
    for part in parts or []:
        if part.get("kind") == TEMPLATE_PART:
            return {
                "name": part.get("name"),
                "language": part.get("language"),
                "parameters": list(part.get("parameters") or []),
            }
    return None


def check_template(capabilities: Capabilities, label: str) -> None:
    """422 when the channel cannot send templates."""
    if not capabilities.templates:
        raise Invalid("template", f"{label} has no message templates")


async def last_inbound_at(work: Work, contact_id: int, channel_id: int) -> datetime | None:
    """When the contact last wrote on the channel, in any of their conversations: the
    window is the contact's, not one thread's."""
    latest: datetime | None = await work.db.scalar(
        select(func.max(Conversation.last_inbound_at)).where(
            Conversation.contact_id == contact_id, Conversation.channel_id == channel_id
        )
    )
    return latest


def check_window(
    capabilities: Capabilities, last_inbound: datetime | None, now: datetime | None = None
) -> None:
    """409 ``window_closed`` when the channel has a customer-service window and the
    contact has not written within it (or never): only a template may be sent."""
    hours = capabilities.window_hours
    if hours is None:
        return
    now = utcnow() if now is None else now
    if last_inbound is not None and now - last_inbound < timedelta(hours=hours):
        return
    raise HubError(
        409,
        "window_closed",
        f"the {hours}-hour customer-service window is closed: send a template",
        {
            "window_hours": hours,
            "last_inbound_at": last_inbound.isoformat() if last_inbound else None,
        },
    )
