"""Rules in words, for the pages that list them: "A message is received · Message text
contains “invoice” → Assign to team Billing"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from pydantic import BaseModel

from admin_ui.action_wording import TITLES as ACTION_TITLES
from admin_ui.action_wording import Names, describe, priority_name
from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
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

# The tables hold marked English (N_); the editor and the list translate when shown.
RULE_ACTION_TITLES: dict[str, str] = {
    **ACTION_TITLES,
    "assign_round_robin": N_("Assign round robin in a team"),
    "send_webhook": N_("Send a webhook"),
}
# The condition types the editor offers.
CONDITION_TITLES: dict[str, str] = {
    "message_text": N_("Message text"),
    "channel": N_("Channel"),
    "contact_field": N_("Contact field"),
    "labels": N_("Labels"),
    "priority": N_("Priority"),
    "team": N_("Team"),
    "assignee": N_("Assignee"),
    "business_hours": N_("Business hours"),
}
# hub.automation.rules.EVENT_TITLES in the UI's words: the picker's titles, and the
# same in the middle of a sentence for the list ("When a message is received").
EVENT_TITLES: dict[str, str] = {
    "conversation_created": N_("A conversation is created"),
    "message_received": N_("A message is received"),
    "assigned": N_("A conversation is assigned"),
    "closed": N_("A conversation is closed"),
    "reopened": N_("A conversation is reopened"),
    "no_reply": N_("No reply after some minutes"),
}
EVENT_WHEN: dict[str, str] = {
    "conversation_created": N_("a conversation is created"),
    "message_received": N_("a message is received"),
    "assigned": N_("a conversation is assigned"),
    "closed": N_("a conversation is closed"),
    "reopened": N_("a conversation is reopened"),
}


def titles(table: Mapping[str, str]) -> list[tuple[str, str]]:
    """A marked table's entries in the request's language, in order."""
    return [(key, _(title)) for key, title in table.items()]


def event_when(event: str, minutes: int | None) -> str:
    """A rule's event as the end of "When …"."""
    if event == "no_reply":
        return ngettext(
            "a customer has waited %(num)d minute for a reply",
            "a customer has waited %(num)d minutes for a reply",
            minutes or 0,
        ) % {"num": minutes or 0}
    return _(EVENT_WHEN[event]) if event in EVENT_WHEN else event


@dataclass(frozen=True)
class RuleNames:
    """``Names`` for actions, plus channels for conditions."""

    names: Names
    channels: Mapping[int, str] = field(default_factory=dict)


def _list(names: Mapping[int, str], ids: list[int], gone: str) -> str:
    return ", ".join(names.get(i, gone) for i in ids)


def describe_condition(condition: BaseModel, names: RuleNames) -> str:
    """One condition as a short phrase."""
    n = names.names
    if isinstance(condition, MessageText):
        said = (
            _("Message text contains “%(value)s”")
            if condition.op == "contains"
            else _("Message text matches “%(value)s”")
        )
        return said % {"value": condition.value}
    if isinstance(condition, ChannelIs):
        channels = _list(names.channels, condition.channel_ids, _("(deleted channel)"))
        return _("Channel is %(names)s") % {"names": channels}
    if isinstance(condition, ContactField):
        said = (
            _("Contact %(field)s equals “%(value)s”")
            if condition.op == "equals"
            else _("Contact %(field)s contains “%(value)s”")
        )
        return said % {"field": condition.field, "value": condition.value}
    if isinstance(condition, Labels):
        labels = _list(n.labels, condition.label_ids, _("(deleted label)"))
        said = (
            _("Has any of labels %(names)s")
            if condition.op == "has_any"
            else _("Has none of labels %(names)s")
        )
        return said % {"names": labels}
    if isinstance(condition, PriorityIs):
        said = (
            _("Priority is %(priority)s")
            if condition.op == "is"
            else _("Priority is at least %(priority)s")
        )
        return said % {"priority": priority_name(condition.priority)}
    if isinstance(condition, TeamIs):
        if condition.op == "none":
            return _("No team")
        teams = _list(n.teams, condition.team_ids, _("(deleted team)"))
        return _("Team is %(names)s") % {"names": teams}
    if isinstance(condition, AssigneeIs):
        if condition.op == "unassigned":
            return _("Unassigned")
        users = _list(n.users, condition.user_ids, _("(deleted user)"))
        return _("Assigned to %(names)s") % {"names": users}
    if isinstance(condition, BusinessHoursAre):
        if condition.op == "open":
            return _("During business hours")
        return _("Outside business hours")
    return str(getattr(condition, "type", "condition"))


def describe_action(action: BaseModel, names: RuleNames) -> str:
    """One action as a short sentence."""
    if isinstance(action, AssignRoundRobin):
        team = names.names.teams.get(action.team_id, _("(deleted team)"))
        return _("Assign round robin in team %(name)s") % {"name": team}
    if isinstance(action, SendWebhook):
        return _("Send a webhook to %(url)s") % {"url": action.url}
    return describe(cast(Action, action), names.names)
