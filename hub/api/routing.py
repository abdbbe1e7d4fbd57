"""API routes declared once, with their models: aiohttp serves them, OpenAPI describes them."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
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

    def add_to(self, router: web.UrlDispatcher) -> None:
        """Serve every declared endpoint."""
        for endpoint in self.endpoints:
            router.add_route(endpoint.method, endpoint.path, endpoint.handler)
