"""A fake custom-channel service on localhost for the browser tests: the URL a custom
channel POSTs agent replies to.

It records every request and answers with ``status``, which a test switches while it
runs (500 to make deliveries fail, then 200 to let a retry through). A 2xx answer
carries ``{"id": "svc-<n>"}``, the service's id for the message, as the custom channel's
contract asks; any other status ``{"error": "service down"}``. Serve it with
``serve(background_loop, fake.app())``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Received:
    """One request the fake service received."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeService:
    """The fake's state: the status it answers with, and the requests received."""

    status: int = 200
    requests: list[Received] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp app answering every POST."""
        app = web.Application()
        app.router.add_post("/{path:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(Received(request.path, dict(request.headers), body))
        if 200 <= self.status < 300:
            return web.json_response({"id": f"svc-{len(self.requests)}"}, status=self.status)
        return web.json_response({"error": "service down"}, status=self.status)
