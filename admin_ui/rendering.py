"""The Jinja environment: user and plugin templates override the core ones."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

TEMPLATES = web.AppKey("templates", jinja2.Environment)


def create_environment() -> jinja2.Environment:
    """Autoescaping environment; ``default:page.html`` always names the core template,
    so an overriding template can extend the one it replaces."""
    core = jinja2.PackageLoader("admin_ui", "templates")
    loader = jinja2.ChoiceLoader([core, jinja2.PrefixLoader({"default": core})])
    return jinja2.Environment(loader=loader, autoescape=True, enable_async=True)


async def render(
    request: web.Request, name: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """Render a page to an HTML response."""
    template = request.app[TEMPLATES].get_template(name)
    html = await template.render_async(request=request, **context)
    return web.Response(text=html, status=status, content_type="text/html")
