"""Times as a person glances at them: "just now", "5 minutes ago", "3 days ago", in the
page's language (Babel's CLDR wording: "vor 5 Minuten")."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_timedelta

from admin_ui.i18n import current, gettext
from hub.store.types import utcnow


def _past(span: timedelta) -> str:
    # threshold=1: the largest unit that fits whole (23 hours stay hours); past a week
    # Babel counts weeks, then months.
    return format_timedelta(-span, threshold=1, add_direction=True, locale=current().locale)


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """How long before ``now`` (the current time by default) ``when`` was; "never" for
    None. A time a little in the future (clocks differ) reads "just now"."""
    if when is None:
        return gettext("never")
    seconds = int(((now or utcnow()) - when).total_seconds())
    if seconds < 45:
        return gettext("just now")
    minutes = round(seconds / 60)
    if minutes < 60:
        return _past(timedelta(minutes=minutes))
    hours = round(minutes / 60)
    if hours < 24:
        return _past(timedelta(hours=hours))
    return _past(timedelta(days=round(hours / 24)))
