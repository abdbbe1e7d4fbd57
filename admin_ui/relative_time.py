"""Times as a person glances at them: "just now", "5 minutes ago", "3 days ago"."""

from __future__ import annotations

from datetime import datetime

from hub.store.types import utcnow


def _count(value: int, unit: str) -> str:
    return f"{value} {unit}{'' if value == 1 else 's'} ago"


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """How long before ``now`` (the current time by default) ``when`` was; "never" for
    None. A time a little in the future (clocks differ) reads "just now"."""
    if when is None:
        return "never"
    seconds = int(((now or utcnow()) - when).total_seconds())
    if seconds < 45:
        return "just now"
    minutes = round(seconds / 60)
    if minutes < 60:
        return _count(minutes, "minute")
    hours = round(minutes / 60)
    if hours < 24:
        return _count(hours, "hour")
    return _count(round(hours / 24), "day")
