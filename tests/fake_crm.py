"""A localhost fake of the CRMs' APIs: HubSpot's CRM v3 and Salesforce's REST API.

Each fake keeps its records in a ``hub.testing.CrmWorld`` and answers in the vendor's
documented formats (``tests/fake_hubspot.py``, ``tests/fake_salesforce.py``); this module
serves them over real HTTP as one aiohttp app (``fake_crm_app``) for the browser tests
and ``bench/crm_sync.py``, or through respx (``route_respx``) for the plugins' contract
tests. Rate limits are optional: HubSpot's rolling window of requests (100 per 10 s for
a private app on Free/Starter) and Salesforce's daily API quota.

    world = CrmWorld()
    async with serve_fake_crm(hubspot=HubSpotFake(world, token="pat-1")) as base:
        ...  # HubSpot's API base URL is f"{base}/hubspot", Salesforce's f"{base}/salesforce"
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

import httpx
import respx
from aiohttp import web


@dataclass
class FakeRequest:
    """A request as a fake sees it, whoever carried it (aiohttp or respx)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str = ""

    def header(self, name: str) -> str:
        """A header's value in any letter case, ``""`` when not sent."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when it is not JSON)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        """The body parsed as a form."""
        return dict(parse_qsl(self.body.decode()))


@dataclass
class FakeResponse:
    """An answer: status, JSON body (``None`` for none) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Fake(Protocol):
    """A vendor fake: one request in, one answer out."""

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer ``request`` from the world."""
        ...


def correlation_id() -> str:
    """A fresh id in the shape vendors use for request ids."""
    return str(uuid.uuid4())


def fake_crm_app(**fakes: Fake) -> web.Application:
    """An aiohttp app serving each fake under ``/<its name>`` (``hubspot=…``)."""
    app = web.Application()

    def serve(fake: Fake, prefix: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            body = await request.read()
            base = f"{request.scheme}://{request.host}{prefix}"
            answer = fake.handle(
                FakeRequest(
                    method=request.method,
                    path=request.path.removeprefix(prefix) or "/",
                    query=dict(request.query),
                    headers=dict(request.headers),
                    body=body,
                    base_url=base,
                )
            )
            text = None if answer.body is None else json.dumps(answer.body)
            return web.Response(
                status=answer.status,
                text=text,
                content_type="application/json" if text is not None else None,
                headers=answer.headers,
            )

        return handler

    for name, fake in fakes.items():
        app.router.add_route("*", f"/{name}/{{tail:.*}}", serve(fake, f"/{name}"))
    return app


def route_respx(router: respx.MockRouter, base_url: str, fake: Fake) -> None:
    """Answer every request under ``base_url`` from ``fake`` (for respx-based tests)."""
    prefix = httpx.URL(base_url)

    def respond(request: httpx.Request) -> httpx.Response:
        answer = fake.handle(
            FakeRequest(
                method=request.method,
                path=request.url.path.removeprefix(prefix.path.rstrip("/")) or "/",
                query=dict(request.url.params),
                headers=dict(request.headers),
                body=request.content,
                base_url=base_url,
            )
        )
        if answer.body is None:
            return httpx.Response(answer.status, headers=answer.headers)
        return httpx.Response(answer.status, json=answer.body, headers=answer.headers)

    router.route(host=prefix.host, path__startswith=prefix.path or "/").mock(side_effect=respond)


@asynccontextmanager
async def serve_fake_crm(
    host: str = "127.0.0.1", port: int = 0, **fakes: Fake
) -> AsyncIterator[str]:
    """Serve the fakes on ``host`` (a free port unless given) while in the block; yields
    the base URL (``http://127.0.0.1:<port>``)."""
    runner = web.AppRunner(fake_crm_app(**fakes), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        yield f"http://{host}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
