"""Actions in words, for the pages that list macros and rules: "Assign to Ana Agent", "Add labels
Billing, VIP"… with the names of the users, teams, labels and snippets they name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.automation.actions import (
    Action,
    AddComment,
    AddLabels,
    ApplySla,
    Assign,
    Close,
    RemoveLabels,
    SendSnippet,
    SetPriority,
    Snooze,
)
from hub.inbox.priority import LABELS as PRIORITY_NAMES

TITLES: dict[str, str] = {
    "assign": "Assign",
    "unassign": "Unassign",
    "add_labels": "Add labels",
    "remove_labels": "Remove labels",
    "set_priority": "Set priority",
    "send_snippet": "Reply with a snippet",
    "add_comment": "Add a comment",
    "snooze": "Snooze",
    "close": "Close",
    "apply_sla": "Apply an SLA policy",
}
SNOOZE_PRESETS: dict[str, str] = {
    "later": "later today (3 hours)",
    "tomorrow": "tomorrow 9:00 UTC",
    "next-week": "next Monday 9:00 UTC",
}
# The durations the editor offers besides the presets, in minutes.
SNOOZE_MINUTES: dict[int, str] = {
    60: "1 hour",
    240: "4 hours",
    1440: "1 day",
    4320: "3 days",
    10080: "1 week",
}
COMMENT_SHOWN = 60


@dataclass(frozen=True)
class Names:
    """The names of what actions refer to, by id (a missing id reads "deleted")."""

    users: Mapping[int, str] = field(default_factory=dict)
    teams: Mapping[int, str] = field(default_factory=dict)
    labels: Mapping[int, str] = field(default_factory=dict)
    snippets: Mapping[int, str] = field(default_factory=dict)
    sla_policies: Mapping[int, str] = field(default_factory=dict)


def _name(names: Mapping[int, str], key: int, what: str) -> str:
    return names.get(key, f"(deleted {what})")


def _minutes(minutes: int) -> str:
    if minutes in SNOOZE_MINUTES:
        return SNOOZE_MINUTES[minutes]
    return f"{minutes} minutes"


def describe(action: Action, names: Names) -> str:
    """One action as a short sentence."""
    if isinstance(action, Assign):
        who = [_name(names.users, action.user_id, "user")] if action.user_id else []
        if action.team_id:
            who.append(f"team {_name(names.teams, action.team_id, 'team')}")
        return "Assign to " + " in ".join(who)
    if isinstance(action, AddLabels | RemoveLabels):
        listed = ", ".join(_name(names.labels, i, "label") for i in action.label_ids)
        return f"{TITLES[action.type]} {listed}"
    if isinstance(action, SetPriority):
        return f"Set priority to {PRIORITY_NAMES[action.priority]}"
    if isinstance(action, SendSnippet):
        return f"Reply with snippet {_name(names.snippets, action.snippet_id, 'snippet')}"
    if isinstance(action, AddComment):
        text = (
            action.text if len(action.text) <= COMMENT_SHOWN else action.text[:COMMENT_SHOWN] + "…"
        )
        return f"Comment “{text}”"
    if isinstance(action, Snooze):
        if action.preset is not None:
            return f"Snooze until {SNOOZE_PRESETS[action.preset]}"
        return f"Snooze for {_minutes(action.minutes or 0)}"
    if isinstance(action, Close):
        return "Close" + (f" with note “{action.note}”" if action.note else "")
    if isinstance(action, ApplySla):
        return f"Apply SLA policy {_name(names.sla_policies, action.policy_id, 'SLA policy')}"
    return TITLES[action.type]
