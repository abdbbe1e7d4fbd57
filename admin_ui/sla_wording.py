"""A conversation's SLA in words, for its list row and its header: "First reply due in
12 min", "Resolution breached 5 min ago"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from hub.inbox.sla_status import TargetState, badge_of, targets_of
from hub.store.models import Conversation
from hub.store.types import utcnow


@dataclass(frozen=True)
class Shown:
    """One target as shown: its state (a CSS class), the sentence and the time."""

    state: str
    text: str
    at: datetime


# The targets' names (hub.inbox.sla_status.NAMES), marked here for the catalog.
TARGET_NAMES: dict[str, str] = {
    "first_response": N_("First reply"),
    "next_response": N_("Next reply"),
    "resolution": N_("Resolution"),
}


def span(seconds: float) -> str:
    """A duration as a glance reads it: "1 min", "12 min", "3 h", "2 days"."""
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return _("%(num)d min") % {"num": minutes}
    hours = round(minutes / 60)
    if hours < 48:
        return _("%(num)d h") % {"num": hours}
    days = round(hours / 24)
    return ngettext("%(num)d day", "%(num)d days", days) % {"num": days}


def _target(t: TargetState) -> str:
    return _(TARGET_NAMES[t.target]) if t.target in TARGET_NAMES else t.name


def _sentence(t: TargetState, now: datetime) -> str:
    name = _target(t)
    if t.state == "breached":
        since = span((now - t.at).total_seconds())
        return _("%(target)s breached %(span)s ago") % {"target": name, "span": since}
    if t.state == "missed":
        return _("%(target)s missed") % {"target": name}
    return _due(name, t.at, now)


def _due(name: str, at: datetime, now: datetime) -> str:
    return _("%(target)s due in %(span)s") % {
        "target": name,
        "span": span((at - now).total_seconds()),
    }


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
        return Shown("breached", _("SLA breached"), t.at)
    return Shown("soon", _due(_target(t), t.at, now), t.at)
