"""Rules in words, for the pages that list them: "A message is received · Message text
contains “invoice” → Assign to team Billing"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from pydantic import BaseModel

from admin_ui.action_wording import TITLES as ACTION_TITLES
from admin_ui.action_wording import Names, describe
from hub.automation.actions import Action
from hub.automation.rule_actions import AssignRoundRobin, SendWebhook
from hub.automation.rule_conditions import (
    AssigneeIs,
    BusinessHoursAre,
    ChannelIs,
    ContactField,
    Labels,
    MessageText,
    PriorityIs,
    TeamIs,
)
from hub.inbox.priority import LABELS as PRIORITY_NAMES

RULE_ACTION_TITLES: dict[str, str] = {
    **ACTION_TITLES,
    "assign_round_robin": "Assign round robin in a team",
    "send_webhook": "Send a webhook",
}
# The condition types the editor offers.
CONDITION_TITLES: dict[str, str] = {
    "message_text": "Message text",
    "channel": "Channel",
    "contact_field": "Contact field",
    "labels": "Labels",
    "priority": "Priority",
    "team": "Team",
    "assignee": "Assignee",
    "business_hours": "Business hours",
}


@dataclass(frozen=True)
class RuleNames:
    """``Names`` for actions, plus channels for conditions."""

    names: Names
    channels: Mapping[int, str] = field(default_factory=dict)


def _list(names: Mapping[int, str], ids: list[int], what: str) -> str:
    return ", ".join(names.get(i, f"(deleted {what})") for i in ids)


def describe_condition(condition: BaseModel, names: RuleNames) -> str:
    """One condition as a short phrase."""
    n = names.names
    if isinstance(condition, MessageText):
        verb = "contains" if condition.op == "contains" else "matches"
        return f"Message text {verb} “{condition.value}”"
    if isinstance(condition, ChannelIs):
        return f"Channel is {_list(names.channels, condition.channel_ids, 'channel')}"
    if isinstance(condition, ContactField):
        return f"Contact {condition.field} {condition.op} “{condition.value}”"
    if isinstance(condition, Labels):
        verb = "Has any of labels" if condition.op == "has_any" else "Has none of labels"
        return f"{verb} {_list(n.labels, condition.label_ids, 'label')}"
    if isinstance(condition, PriorityIs):
        verb = "is" if condition.op == "is" else "is at least"
        return f"Priority {verb} {PRIORITY_NAMES[condition.priority]}"
    if isinstance(condition, TeamIs):
        if condition.op == "none":
            return "No team"
        return f"Team is {_list(n.teams, condition.team_ids, 'team')}"
    if isinstance(condition, AssigneeIs):
        if condition.op == "unassigned":
            return "Unassigned"
        return f"Assigned to {_list(n.users, condition.user_ids, 'user')}"
    if isinstance(condition, BusinessHoursAre):
        return "During business hours" if condition.op == "open" else "Outside business hours"
    return str(getattr(condition, "type", "condition"))


def describe_action(action: BaseModel, names: RuleNames) -> str:
    """One action as a short sentence."""
    if isinstance(action, AssignRoundRobin):
        team = names.names.teams.get(action.team_id, "(deleted team)")
        return f"Assign round robin in team {team}"
    if isinstance(action, SendWebhook):
        return f"Send a webhook to {action.url}"
    return describe(cast(Action, action), names.names)
