"""Actions in words, for the pages that list macros and rules: "Assign to Ana Agent", "Add labels
Billing, VIP"… with the names of the users, teams, labels and snippets they name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
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

# The tables hold marked English (N_): they are built at import, before any request has
# a language; ``title``, ``describe`` and the pickers' functions translate when called.
TITLES: dict[str, str] = {
    "assign": N_("Assign"),
    "unassign": N_("Unassign"),
    "add_labels": N_("Add labels"),
    "remove_labels": N_("Remove labels"),
    "set_priority": N_("Set priority"),
    "send_snippet": N_("Reply with a snippet"),
    "add_comment": N_("Add a comment"),
    "snooze": N_("Snooze"),
    "close": N_("Close"),
    "apply_sla": N_("Apply an SLA policy"),
}
SNOOZE_PRESETS: dict[str, str] = {
    "later": N_("later today (3 hours)"),
    "tomorrow": N_("tomorrow 9:00 UTC"),
    "next-week": N_("next Monday 9:00 UTC"),
}
# The durations the editor offers besides the presets, in minutes.
SNOOZE_MINUTES: dict[int, str] = {
    60: N_("1 hour"),
    240: N_("4 hours"),
    1440: N_("1 day"),
    4320: N_("3 days"),
    10080: N_("1 week"),
}
# A priority's name as the UI shows it (hub.inbox.priority's names, marked here).
PRIORITY_NAMES: dict[str, str] = {
    "none": N_("No priority"),
    "low": N_("Low"),
    "medium": N_("Medium"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
COMMENT_SHOWN = 60


def title(kind: str) -> str:
    """An action type's name in the page's language ("Add labels")."""
    return _(TITLES[kind]) if kind in TITLES else kind


def priority_name(priority: str) -> str:
    """A priority's name in the page's language ("Urgent")."""
    return _(PRIORITY_NAMES[priority]) if priority in PRIORITY_NAMES else priority


def snooze_choices() -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """The snooze pickers' presets and durations, worded in the page's language."""
    presets = [(key, _(words)) for key, words in SNOOZE_PRESETS.items()]
    durations = [(minutes, _(words)) for minutes, words in SNOOZE_MINUTES.items()]
    return presets, durations


@dataclass(frozen=True)
class Names:
    """The names of what actions refer to, by id (a missing id reads "deleted")."""

    users: Mapping[int, str] = field(default_factory=dict)
    teams: Mapping[int, str] = field(default_factory=dict)
    labels: Mapping[int, str] = field(default_factory=dict)
    snippets: Mapping[int, str] = field(default_factory=dict)
    sla_policies: Mapping[int, str] = field(default_factory=dict)


def _deleted(what: str) -> str:
    # One whole phrase per kind: German inflects the article with the noun.
    return {
        "user": _("(deleted user)"),
        "team": _("(deleted team)"),
        "label": _("(deleted label)"),
        "snippet": _("(deleted snippet)"),
        "SLA policy": _("(deleted SLA policy)"),
    }[what]


def _name(names: Mapping[int, str], key: int, what: str) -> str:
    return names[key] if key in names else _deleted(what)


def _minutes(minutes: int) -> str:
    if minutes in SNOOZE_MINUTES:
        return _(SNOOZE_MINUTES[minutes])
    return ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}


def describe(action: Action, names: Names) -> str:
    """One action as a short sentence, in the page's language."""
    if isinstance(action, Assign):
        user = _name(names.users, action.user_id, "user") if action.user_id else None
        team = _name(names.teams, action.team_id, "team") if action.team_id else None
        if user and team:
            return _("Assign to %(user)s in team %(team)s") % {"user": user, "team": team}
        if team:
            return _("Assign to team %(team)s") % {"team": team}
        return _("Assign to %(user)s") % {"user": user or ""}
    if isinstance(action, AddLabels | RemoveLabels):
        listed = ", ".join(_name(names.labels, i, "label") for i in action.label_ids)
        if isinstance(action, AddLabels):
            return _("Add labels %(labels)s") % {"labels": listed}
        return _("Remove labels %(labels)s") % {"labels": listed}
    if isinstance(action, SetPriority):
        return _("Set priority to %(priority)s") % {"priority": priority_name(action.priority)}
    if isinstance(action, SendSnippet):
        snippet = _name(names.snippets, action.snippet_id, "snippet")
        return _("Reply with snippet %(snippet)s") % {"snippet": snippet}
    if isinstance(action, AddComment):
        text = (
            action.text if len(action.text) <= COMMENT_SHOWN else action.text[:COMMENT_SHOWN] + "…"
        )
        return _("Comment “%(text)s”") % {"text": text}
    if isinstance(action, Snooze):
        if action.preset is not None:
            return _("Snooze until %(when)s") % {"when": _(SNOOZE_PRESETS[action.preset])}
        return _("Snooze for %(duration)s") % {"duration": _minutes(action.minutes or 0)}
    if isinstance(action, Close):
        if action.note:
            return _("Close with note “%(note)s”") % {"note": action.note}
        return _("Close")
    if isinstance(action, ApplySla):
        policy = _name(names.sla_policies, action.policy_id, "SLA policy")
        return _("Apply SLA policy %(policy)s") % {"policy": policy}
    return title(action.type)
