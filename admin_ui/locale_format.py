"""Times and numbers as the page's locale writes them, in the user's time zone
(admin_ui.i18n's current locale): the templates' ``when`` and ``number`` filters."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    get_date_format,
    get_datetime_format,
    get_day_names,
    get_time_format,
)
from babel.numbers import format_decimal

from admin_ui.i18n import SOURCE_LANGUAGE, current

# English keeps the hub's unambiguous ISO-like form; other languages their own order.
_ENGLISH_PATTERN = "yyyy-MM-dd HH:mm z"


@cache
def _pattern(locale: Locale) -> str:
    """A date with a short time and the zone: ``21.11.2026, 15:05 MEZ`` in German."""
    if locale.language == SOURCE_LANGUAGE:
        return _ENGLISH_PATTERN
    date = get_date_format("medium", locale).pattern
    time = get_time_format("short", locale).pattern
    both = str(get_datetime_format("medium", locale))  # "{1}, {0}": the date, the time
    return both.replace("{1}", date).replace("{0}", time) + " z"


def when(value: datetime | None) -> str:
    """A timestamp in the user's zone: ``2026-11-21 14:05 UTC`` in English,
    ``21.11.2026, 15:05 MEZ`` in German for Berlin (empty for none)."""
    if value is None:
        return ""
    ui = current()
    return format_datetime(value, _pattern(ui.locale), tzinfo=ui.zone, locale=ui.locale)


def number(value: float | None) -> str:
    """A number with the locale's separators: ``1,234.5`` / ``1.234,5`` (empty for none)."""
    if value is None:
        return ""
    return format_decimal(value, locale=current().locale)


def day(value: date | None) -> str:
    """A date with its weekday: ``Fri 25 Dec 2026``, ``Fr. 25. Dez. 2026`` (empty for none)."""
    if value is None:
        return ""
    locale = current().locale
    pattern = "EEE d MMM y" if locale.language == SOURCE_LANGUAGE else "EEE d. MMM y"
    return format_date(value, pattern, locale=locale)


def abbreviated_weekday_names() -> list[str]:
    """Monday to Sunday, short, in the page's language (CLDR's: "Mon", "Mo.")."""
    names = get_day_names("abbreviated", locale=current().locale)
    return [str(names[index]) for index in range(7)]


def weekday_names() -> list[str]:
    """Monday to Sunday in the page's language (CLDR's names: "Montag")."""
    names = get_day_names("wide", locale=current().locale)
    return [str(names[index]) for index in range(7)]
