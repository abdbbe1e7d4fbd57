"""The Jinja environment and the helpers every page handler uses to answer.

User and plugin templates override the core ones; ``default:page.html`` always names the
core template, so an overriding template can extend the one it replaces.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import jinja2
from aiohttp import web

from admin_ui.flash import Level, add_flash, clear_flashes, pending_flashes
from admin_ui.i18n import activate, current, deactivate, gettext, ngettext, npgettext, pgettext
from admin_ui.locale_choice import page_locale
from admin_ui.locale_format import day, number, when
from admin_ui.relative_time import ago
from admin_ui.sla_wording import sla_badge, sla_lines
from admin_ui.urls import PageUrls
from admin_ui.wording import role_name
from hub import appkeys
from hub.auth.identity import IDENTITY
from hub.inbox.contact_fields import format_phone
from hub.inbox.priority import LABELS as PRIORITY_NAMES

# Scripts and styles only from the hub's own files: were some text ever rendered unescaped,
# an injected inline script or event handler would still not run.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_CSRF_TOKEN: ContextVar[str] = ContextVar("csrf_token", default="")


def create_environment(urls: PageUrls) -> jinja2.Environment:
    """An autoescaping environment: everything rendered is text unless a template says not.

    Templates link pages with ``url(name, query, **parts)`` (``urls``), never a spelled-out
    path."""
    core = jinja2.PackageLoader("admin_ui", "templates")
    loader = jinja2.ChoiceLoader([core, jinja2.PrefixLoader({"default": core})])
    # Synchronous rendering: every value a template shows is loaded before it renders,
    # and the async mode's awaitable wrapping of each call, loop and macro cost about a
    # fifth of the inbox page's render time.
    # No auto-reload: templates change with a release, not under a running hub, and the
    # check stats every template a page includes (over a hundred for the inbox) on each
    # request.
    env = jinja2.Environment(
        loader=loader, autoescape=True, extensions=["jinja2.ext.i18n"], auto_reload=False
    )
    # New-style gettext: ``_("Hello %(name)s", name=x)`` escapes ``x`` and formats once,
    # and the callables read the request's language from admin_ui.i18n's context variable.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    # Multi-line {% trans %} blocks collapse their whitespace, as `make messages` extracts
    # them (admin_ui/locale/babel.cfg: trimmed = true), so the rendered id is the catalog's.
    env.policies["ext.i18n.trimmed"] = True
    env.filters["when"] = when
    env.filters["number"] = number
    env.filters["day"] = day
    env.filters["phone"] = format_phone
    env.filters["ago"] = ago
    env.globals["url"] = urls
    # The page's language and zone (``<html lang>``, the profile's pickers).
    env.globals["ui_locale"] = current
    env.globals["role_name"] = role_name
    # The priority picker's choices, in rising order, with their English names: a
    # template shows ``_(name)`` (the names are marked in admin_ui.action_wording).
    env.globals["priorities"] = tuple(PRIORITY_NAMES.items())
    # Macros imported without context (``{% from "_macros.html" import csrf %}``) still
    # reach the token of the request being rendered.
    env.globals["current_csrf_token"] = _CSRF_TOKEN.get
    # A conversation's SLA due times and breaches in words (rows and the header).
    env.globals["sla_lines"] = sla_lines
    env.globals["sla_badge"] = sla_badge
    return env


async def render(
    request: web.Request, name: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """Render a page to an HTML response.

    Every page gets ``user`` and ``csrf_token`` (of the logged-in user, if any) and the
    flash messages waiting for it, which are then cleared.
    """
    flashes = pending_flashes(request)
    html = await _render_template(request, name, {"flashes": flashes, **context})
    response = _html_response(html, status)
    if flashes:
        clear_flashes(request, response)
    return response


async def render_fragment(
    request: web.Request, name: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """Render a partial template (a list row, a message, a panel) to an HTML response,
    for a script that swaps it into the page. The full page includes the same partial,
    so each thing has one rendering. Flash messages stay for the next page."""
    return _html_response(await _render_template(request, name, context), status)


async def _render_template(request: web.Request, name: str, context: dict[str, Any]) -> str:
    identity = request.get(IDENTITY)
    session = identity.session if identity is not None else None
    csrf_token = session.csrf_token if session is not None else ""
    common = {"user": identity.user if identity is not None else None, "csrf_token": csrf_token}
    template = request.config_dict[appkeys.TEMPLATES].get_template(name)
    token = _CSRF_TOKEN.set(csrf_token)
    # The user's language and time zone (the browser's language for a visitor).
    locale_token = activate(await page_locale(request))
    try:
        return template.render(request=request, **{**common, **context})
    finally:
        deactivate(locale_token)
        _CSRF_TOKEN.reset(token)


def _html_response(html: str, status: int) -> web.Response:
    response = web.Response(text=html, status=status, content_type="text/html")
    # Pages hold CSRF tokens and personal data: never cached, never framed elsewhere.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


def redirect(
    request: web.Request, location: str, flash: tuple[Level, str] | None = None
) -> web.Response:
    """A 303 to ``location`` (the answer to a successful form), optionally with a notice."""
    response = web.Response(status=303, headers={"Location": location})
    if flash is not None:
        add_flash(request, response, *flash)
    return response
