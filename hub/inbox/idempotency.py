"""No double sends: a client's ``Idempotency-Key`` makes a write happen at most once.

The rules, in priority order:

1. The key row is inserted in the same transaction as what it guards, and before it,
   so a crash leaves both or neither, and the unique constraint on
   ``(user_id, scope, key)`` decides between twins: the second insert waits for the
   first transaction (PostgreSQL's unique index, SQLite's single writer) and, once that
   commits, fails; the loser rolls back everything and answers from the stored row.
2. A key is the caller's own (``user_id``) for one kind of endpoint (``scope``); the same
   key with another request (target or body) is ``422 idempotency_key_reused``.
3. A replay is built by loading the resource again, never from a stored response body.
4. Only a success is remembered: a request refused with a 4xx rolls back, key included,
   so the client may fix it and retry with the same key.
5. Keys older than ``HUB_IDEMPOTENCY_KEY_HOURS`` are deleted by a periodic job.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.errors import HubError
from hub.events.work import Work
from hub.store.models import IdempotencyKey
from hub.store.pruning import delete_in_batches
from hub.store.types import utcnow

log = logging.getLogger(__name__)

Scope = Literal["message", "comment", "conversation", "bulk"]
# What a key's stored id names, by scope: a new conversation answers its first message.
RESOURCE_KIND: dict[str, str] = {"comment": "comment", "bulk": "bulk_job"}
T = TypeVar("T")
MAX_KEY_LENGTH = 255
# Claims tried before giving up on a twin that keeps winning and then vanishing.
_ATTEMPTS = 3


def check_key(raw: str) -> str:
    """``raw`` if it is 1 to 255 printable ASCII characters; 400 otherwise."""
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in raw):
        raise HubError(
            400,
            "invalid_idempotency_key",
            f"the Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
        )
    return raw


def fingerprint(target: int | None, body: dict[str, Any]) -> str:
    """The sha256 of a request: what it acts on and its validated body, in a canonical
    form, so the same request spelled differently (key order, spaces) matches."""
    canonical = json.dumps({"target": target, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class KeyedRequest:
    """A write that carries an idempotency key: whose, for which endpoint, which request."""

    user_id: int
    scope: Scope
    key: str
    request_sha256: str


class _KeyTaken(Exception):
    """The key was claimed by a twin that committed first."""


async def _stored(work: Work, request: KeyedRequest) -> IdempotencyKey | None:
    row = await work.db.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == request.user_id,
            IdempotencyKey.scope == request.scope,
            IdempotencyKey.key == request.key,
        )
    )
    if row is not None and row.request_sha256 != request.request_sha256:
        raise HubError(
            422,
            "idempotency_key_reused",
            "this Idempotency-Key was already used for a different request; "
            "use a new key for a new request",
        )
    return row


async def _claim(work: Work, request: KeyedRequest) -> IdempotencyKey:
    row = IdempotencyKey(
        user_id=request.user_id,
        scope=request.scope,
        key=request.key,
        request_sha256=request.request_sha256,
        resource_kind=RESOURCE_KIND.get(request.scope, "message"),
    )
    work.db.add(row)
    try:
        # The transaction's first write: a twin in flight makes this wait, then fail.
        await work.db.flush()
    except IntegrityError:
        raise _KeyTaken from None
    return row


async def run_once(
    open_work: Callable[[], AbstractAsyncContextManager[Work]],
    request: KeyedRequest,
    act: Callable[[Work], Awaitable[T]],
    id_of: Callable[[T], int],
    load: Callable[[Work, int], Awaitable[T]],
) -> tuple[T, bool]:
    """Run ``act`` in a unit of work unless ``request`` was done before, in which case
    ``load`` what it stored (by the id ``id_of`` took from ``act``'s result); the result
    and whether it is a replay.

    A twin still in flight is waited for by the database. If its row cannot be read
    after it won (it vanished again), the claim is retried, and after a few rounds the
    answer is ``409 idempotency_in_flight`` with ``Retry-After: 1``.
    """
    for _ in range(_ATTEMPTS):
        try:
            async with open_work() as work:
                stored = await _stored(work, request)
                if stored is not None and stored.resource_id is not None:
                    return await load(work, stored.resource_id), True
                if stored is None:
                    claimed = await _claim(work, request)
                    result = await act(work)
                    claimed.resource_id = id_of(result)
                    await work.db.flush()
                    return result, False
        except _KeyTaken:
            continue
    raise HubError(
        409,
        "idempotency_in_flight",
        "a request with this Idempotency-Key is still being processed; retry shortly",
        headers={"Retry-After": "1"},
    )


async def prune_idempotency_keys(
    sessions: async_sessionmaker[AsyncSession], *, keep_hours: int, now: datetime | None = None
) -> int:
    """Delete keys older than ``keep_hours``, in small batches; how many went."""
    cutoff = (now or utcnow()) - timedelta(hours=keep_hours)
    deleted = await delete_in_batches(sessions, IdempotencyKey, IdempotencyKey.created_at < cutoff)
    if deleted:
        log.info("idempotency keys: %s past %s hours deleted", deleted, keep_hours)
    return deleted
