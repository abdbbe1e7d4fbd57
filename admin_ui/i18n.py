"""The UI's translations: the language and time zone of the request being rendered, and
the gettext functions that templates (Jinja's i18n extension) and Python wording modules
call.

The locale lives in a context variable set per request (admin_ui.locale_choice), so one
shared Jinja environment serves every language and a wording function called outside a
template translates too. Outside a request (a job, a test) it is English and UTC.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from contextvars import ContextVar, Token
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel import Locale

SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class UiLocale:
    """What a page is rendered in: a language with its catalog and Babel's locale data
    (plural rules, date and number formats), and the time zone its times are shown in."""

    language: str
    translations: stdlib_gettext.NullTranslations
    locale: Locale
    zone: ZoneInfo


ENGLISH = UiLocale(
    SOURCE_LANGUAGE, stdlib_gettext.NullTranslations(), Locale.parse("en"), ZoneInfo("UTC")
)
_CURRENT: ContextVar[UiLocale | None] = ContextVar("ui_locale", default=None)


def current() -> UiLocale:
    """The locale of the request being handled (English and UTC when none is set)."""
    return _CURRENT.get() or ENGLISH


def activate(ui_locale: UiLocale) -> Token[UiLocale | None]:
    """Make ``ui_locale`` the current one; the token undoes it (:func:`deactivate`)."""
    return _CURRENT.set(ui_locale)


def deactivate(token: Token[UiLocale | None]) -> None:
    """Restore the locale that was current before :func:`activate` gave ``token``."""
    _CURRENT.reset(token)


def translations() -> stdlib_gettext.NullTranslations:
    """The catalog of the request being rendered (English, the source, when none is set)."""
    return current().translations


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n`` in the current language."""
    return translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, told apart from the same English words used
    with another meaning by ``context``."""
    return translations().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    """:func:`ngettext` with a context, as :func:`pgettext`."""
    return translations().npgettext(context, singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it: for module-level tables,
    which are built at import time, before any request has a language. The code that
    shows such a string passes it through :func:`gettext` at render time."""
    return message
