"""A conversation's SLA in words, for its list row and its header: "First reply due in
12 min", "Resolution breached 5 min ago"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.inbox.sla_status import TargetState, badge_of, targets_of
from hub.store.models import Conversation
from hub.store.types import utcnow


@dataclass(frozen=True)
class Shown:
    """One target as shown: its state (a CSS class), the sentence and the time."""

    state: str
    text: str
    at: datetime


def span(seconds: float) -> str:
    """A duration as a glance reads it: "1 min", "12 min", "3 h", "2 days"."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    hours = round(minutes / 60)
    if hours < 48:
        return f"{hours} h"
    return f"{round(hours / 24)} days"


def _sentence(t: TargetState, now: datetime) -> str:
    if t.state == "breached":
        return f"{t.name} breached {span((now - t.at).total_seconds())} ago"
    if t.state == "missed":
        return f"{t.name} missed"
    return f"{t.name} due in {span((t.at - now).total_seconds())}"


def sla_lines(conversation: Conversation) -> list[Shown]:
    """The header's lines: every target worth showing."""
    now = utcnow()
    return [Shown(t.state, _sentence(t, now), t.at) for t in targets_of(conversation, now)]


def sla_badge(conversation: Conversation) -> Shown | None:
    """The row's badge: "SLA breached", or "Reply due in 12 min" when due soon."""
    now = utcnow()
    t = badge_of(conversation, now)
    if t is None:
        return None
    if t.state == "breached":
        return Shown("breached", "SLA breached", t.at)
    return Shown("soon", f"{t.name} due in {span((t.at - now).total_seconds())}", t.at)
