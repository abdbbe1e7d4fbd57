"""The ``Idempotency-Key`` header of the send endpoints: read it, run the write at most
once (``hub.inbox.idempotency``), and mark a replayed answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel

from hub.api.context import work
from hub.auth.visibility import Viewer
from hub.errors import HubError
from hub.events.work import Work
from hub.inbox.idempotency import KeyedRequest, Scope, check_key, fingerprint, run_once

T = TypeVar("T")
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def keyed_request(
    request: web.Request, viewer: Viewer, scope: Scope, target: int | None, body: BaseModel
) -> KeyedRequest | None:
    """The request's idempotency key with what identifies the request (None without a
    key); 400 for a malformed key or more than one."""
    values = request.headers.getall(HEADER, [])
    if not values:
        return None
    if len(values) > 1:
        raise HubError(400, "invalid_idempotency_key", f"send one {HEADER} header, not several")
    digest = fingerprint(target, body.model_dump(mode="json"))
    return KeyedRequest(viewer.id, scope, check_key(values[0]), digest)


async def once(
    request: web.Request,
    keyed: KeyedRequest | None,
    act: Callable[[Work], Awaitable[T]],
    id_of: Callable[[T], int],
    load: Callable[[Work, int], Awaitable[T]],
) -> tuple[T, bool]:
    """``act`` in a unit of work, at most once per key; the result and whether it is a
    replay (then ``load``-ed again by its id)."""
    if keyed is None:
        async with work(request) as w:
            return await act(w), False
    return await run_once(lambda: work(request), keyed, act, id_of, load)


def marked(response: web.Response, replayed: bool) -> web.Response:
    """``response``, with ``Idempotent-Replayed: true`` when it answers a repeat."""
    if replayed:
        response.headers[REPLAYED] = "true"
    return response
