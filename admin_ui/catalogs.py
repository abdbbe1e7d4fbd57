"""The UI's message catalogs: each language's ``.po`` file under admin_ui/locale,
compiled by Babel the first time a page needs that language, then kept for the process.

No ``.mo`` file is built or committed: the ``.po`` files in git are what runs, so a clean
clone, CI and a wheel need no build step (docs/decisions.md, "i18n").
"""

from __future__ import annotations

import gettext as stdlib_gettext
import io
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from admin_ui.i18n import SOURCE_LANGUAGE, UiLocale
from hub.inbox.user_locale import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"


def po_path(language: str) -> Path:
    """Where the catalog of ``language`` lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations_for(language: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog of ``language`` (one of ``LANGUAGES``). English, the source,
    needs none: its strings are the message ids. Fuzzy entries are left out, as msgfmt
    does: a guess is not a translation."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return stdlib_gettext.NullTranslations()
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return stdlib_gettext.GNUTranslations(compiled)


@cache
def ui_locale(language: str, zone: str) -> UiLocale:
    """The locale for ``language`` (one of ``LANGUAGES``) and the IANA ``zone``, built
    once per pair."""
    return UiLocale(
        language=language,
        translations=translations_for(language),
        locale=Locale.parse(language),
        zone=ZoneInfo(zone),
    )
