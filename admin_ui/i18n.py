"""The UI's translations: the language of the request being rendered, and the gettext
functions that templates (Jinja's i18n extension) and Python wording modules call.

The language lives in a context variable set per request, so one shared Jinja environment
serves every language and a wording function called outside a template translates too.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from contextvars import ContextVar

_SOURCE = stdlib_gettext.NullTranslations()
_TRANSLATIONS: ContextVar[stdlib_gettext.NullTranslations | None] = ContextVar(
    "translations", default=None
)


def translations() -> stdlib_gettext.NullTranslations:
    """The catalog of the request being rendered (English, the source, when none is set)."""
    return _TRANSLATIONS.get() or _SOURCE


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
