"""API routes declared once, with their models: aiohttp serves them, OpenAPI describes them."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The shape of every list: one page of items and the cursor of the next page."""

    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class Endpoint:
    """One API operation: where it lives, what it takes and what it answers."""

    method: str
    path: str
    handler: Handler
    summary: str
    description: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    tag: str = "api"
    auth: bool = True
    errors: tuple[int, ...] = ()
    # Takes an ``Idempotency-Key`` header (``hub.api.idempotency``).
    idempotent: bool = False
    # A second success status answered with no body (204 for a GET with nothing to show).
    empty_status: int | None = None
    # Other media types the success answer may come in (a CSV export), besides JSON.
    alternates: tuple[str, ...] = ()


@dataclass
class ApiRoutes:
    """A table of endpoints, filled by the ``route`` decorator in each API module."""

    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        idempotent: bool = False,
        empty_status: int | None = None,
        alternates: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Declare ``handler`` as the operation ``method path``."""

        def register(handler: Handler) -> Handler:
            doc = inspect.getdoc(handler) or ""
            summary, _, description = doc.partition("\n")
            self.endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary.strip(),
                    description=description.strip(),
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    tag=self.tag,
                    auth=auth,
                    errors=errors,
                    idempotent=idempotent,
                    empty_status=empty_status,
                    alternates=alternates,
                )
            )
            return handler

        return register

    def get(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Declare a GET operation."""
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Declare a POST operation."""
        return self.route("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Declare a PATCH operation."""
        return self.route("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Declare a PUT operation."""
        return self.route("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Handler], Handler]:
        """Declare a DELETE operation."""
        return self.route("DELETE", path, **kwargs)


def mount_routes(
    router: web.UrlDispatcher, prefix: str, routes: Iterable[web.AbstractRouteDef]
) -> None:
    """Add ``routes``, declared with their whole paths, to a sub-app mounted at ``prefix``.

    A handler's decorator keeps the URL a reader looks for (``/admin/users``); the
    sub-app's router gets the rest (``/users``), and ``add_subapp(prefix, …)`` puts the
    prefix back in front of it.
    """
    for route in routes:
        if not isinstance(route, web.RouteDef):
            raise TypeError(f"only routes can be mounted, not {route!r}")
        router.add_route(route.method, under(prefix, route.path), route.handler, **route.kwargs)


def under(prefix: str, path: str) -> str:
    """``path`` relative to ``prefix`` (``""`` for the prefix itself); a ValueError when
    ``path`` is not below it, so a route cannot land under the wrong sub-app."""
    if path != prefix and not path.startswith(prefix + "/"):
        raise ValueError(f"the route {path} is not under {prefix}")
    return path[len(prefix) :]
