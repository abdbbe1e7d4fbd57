"""Page URLs by route name: templates and redirects never spell a path out.

Every page route has a name (``admin.users``, ``admin.user``, ``login``). ``url(name,
query, **parts)`` in templates and ``page_url(request, name, …)`` in handlers ask the
router of the app or sub-app that serves the route, so a path changes in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource

from hub import appkeys

Query = Mapping[str, str | int | None]


class PageUrls:
    """The URLs of the named routes of an app and of every sub-app mounted in it.

    The index is built on first use: by then the app runs, so its routes are final and
    the sub-apps' paths carry their prefixes.
    """

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._named: dict[str, AbstractResource] | None = None

    def __call__(self, name: str, query: Query | None = None, **parts: str | int) -> str:
        """The path of the route ``name`` with its ``{parts}`` filled in, and ``query``
        (its ``None`` values left out) as the query string."""
        if self._named is None:
            self._named = _index(self._app)
        resource = self._named.get(name)
        if resource is None:
            raise LookupError(f"no page route is named {name!r}")
        url = resource.url_for(**{key: str(value) for key, value in parts.items()})
        kept = {key: value for key, value in (query or {}).items() if value is not None}
        return str(url.with_query(kept) if kept else url)


def page_url(
    request: web.Request, name: str, query: Query | None = None, **parts: str | int
) -> str:
    """The URL of the route ``name`` (see ``PageUrls``), for a handler's redirect."""
    return request.config_dict[appkeys.URLS](name, query, **parts)


def _index(app: web.Application) -> dict[str, AbstractResource]:
    named: dict[str, AbstractResource] = {}
    for name, resource in _named_resources(app):
        if name in named:
            raise ValueError(f"two routes are named {name!r}")
        named[name] = resource
    return named


def _named_resources(app: web.Application) -> Iterator[tuple[str, AbstractResource]]:
    yield from app.router.named_resources().items()
    for resource in app.router.resources():
        if isinstance(resource, web.PrefixedSubAppResource):
            yield from _named_resources(resource.get_info()["app"])
