"""Each user's language and time zone for the UI, both optional: NULL means automatic
(the browser's Accept-Language; the workspace's business hours' zone, else UTC).

The UI (admin_ui.locale_choice) reads them for every page; ``PUT /api/v1/me/locale`` and
the profile page change them.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import Invalid, NotFound
from hub.events.work import Work
from hub.inbox.business_hours import check_zone, get_hours
from hub.store.models import User

# The languages the UI is translated into, each named in itself (the picker shows them
# so whatever the page's current language). English is the source; admin_ui/locale holds
# a catalog for each of the others (tests/test_i18n_catalogs.py checks both ways).
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"
DEFAULT_TIME_ZONE = "UTC"


def check_language(code: str | None) -> str | None:
    """``code`` when the UI speaks it (None: automatic); 422 on ``language`` otherwise."""
    if code is not None and code not in LANGUAGES:
        raise Invalid("language", f"must be one of {', '.join(LANGUAGES)}, or null for automatic")
    return code


async def save_locale(
    work: Work, user_id: int, language: str | None, time_zone: str | None
) -> User:
    """Set a user's language and time zone (None: automatic); 422 for an unknown one."""
    check_language(language)
    if time_zone is not None:
        check_zone(time_zone)
    user = await work.db.get(User, user_id)
    if user is None:
        raise NotFound("user")
    user.language = language
    user.time_zone = time_zone
    await work.db.flush()
    return user


async def workspace_time_zone(db: AsyncSession) -> str:
    """The zone of the workspace's business hours, the default for users without one of
    their own; UTC when the workspace has none."""
    hours = await get_hours(db, None)
    return hours.time_zone if hours is not None else DEFAULT_TIME_ZONE
