"""The audit log in words: what each kind of target is called, and each recorded change
as a line a person reads ("Name: Desk → Front desk")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Every target type the domain records (hub.auth.audit callers), as the filter offers it.
TARGET_TYPES = {
    "channel": "Channels",
    "channel_type": "Channel types (declared)",
    "crm_connection": "CRM connections",
    "user": "Users",
    "team": "Teams",
    "api_token": "API tokens",
    "settings": "Workspace settings",
    "csat_settings": "Satisfaction survey",
    "rule": "Rules",
    "macro": "Macros",
    "snippet": "Snippets",
    "label": "Labels",
    "sla_policy": "SLA policies",
    "business_hours": "Business hours",
    "webhook": "Webhooks",
    "custom_inbox": "Shared custom inboxes",
}
_VALUE_MAX = 120
EMPTY = "—"


@dataclass(frozen=True)
class ChangeLine:
    """One changed field: its name and its value before and after, as text."""

    field: str
    before: str
    after: str


def value_text(value: Any) -> str:
    """A recorded value as short text: ``—`` for none, lists joined, the rest as JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        text = ", ".join(str(v) for v in value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _VALUE_MAX else text[: _VALUE_MAX - 1] + "…"


def field_name(key: str) -> str:
    """``config.api_key`` → ``Config / api key``."""
    parts = [part.replace("_", " ") for part in key.split(".")]
    parts[0] = parts[0][:1].upper() + parts[0][1:]
    return " / ".join(parts)


def change_lines(changes: dict[str, Any]) -> list[ChangeLine]:
    """The recorded changes, one line per field, in the order recorded."""
    lines = []
    for key, pair in changes.items():
        before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        lines.append(ChangeLine(field_name(key), value_text(before), value_text(after)))
    return lines


def action_text(action: str) -> str:
    """``crm_connection.updated`` → ``CRM connection updated``."""
    kind, _, verb = action.partition(".")
    noun = TARGET_TYPES.get(kind, kind.replace("_", " "))
    singular = noun[:-1] if noun.endswith("s") and not noun.endswith("ss") else noun
    if kind in ("settings", "csat_settings"):
        singular = noun
    return f"{singular} {verb.replace('_', ' ')}".strip()
