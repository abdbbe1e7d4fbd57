"""Calling a CRM plugin: rate limits and outages back off and retry, refused
credentials put the connection in error with the CRM's message (the admin reconnects),
anything else becomes a ``CrmCallFailed`` the caller records and shows.

The CRM's own words reach people only through ``status_reason`` and ``last_error``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.channels.backoff import retry_delay
from hub.contract.errors import BadCredentials, PermanentFailure, RetryLater
from hub.crm.registry import CrmUnavailable
from hub.store.models import CrmConnection

log = logging.getLogger(__name__)
T = TypeVar("T")
FailureKind = Literal["credentials", "retry", "failed", "unavailable"]


class CrmCallFailed(Exception):
    """A CRM call that did not succeed; ``retry_after`` (seconds) for a ``retry``."""

    def __init__(self, kind: FailureKind, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class CrmCalls:
    """Runs plugin calls with backoff; ``max_wait`` bounds one wait (a request handler
    passes a small one, a background job a larger one)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        attempts: int = 4,
        base: float = 0.5,
        cap: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.waits: list[float] = []  # every backoff slept, for the bench and tests

    async def run(
        self, connection_id: int, call: Callable[[], Awaitable[T]], *, max_wait: float = 30.0
    ) -> T:
        """``call()``'s answer, retried after ``RetryLater`` and network errors."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except (RetryLater, httpx.TransportError) as err:
                after = err.after if isinstance(err, RetryLater) else None
                delay = retry_delay(attempt, base=self.base, cap=self.cap, after=after)
                if attempt >= self.attempts or delay > max_wait:
                    raise CrmCallFailed("retry", _reason(err), retry_after=delay) from None
                self.waits.append(delay)
                await self.sleep(delay)
            except BadCredentials as err:
                message = str(err) or "the CRM refused the credentials"
                await self.mark_error(connection_id, message)
                raise CrmCallFailed("credentials", message) from None
            except PermanentFailure as err:
                raise CrmCallFailed("failed", err.message) from None
            except CrmUnavailable as err:
                raise CrmCallFailed("unavailable", err.reason) from None
            except NotImplementedError:
                raise
            except httpx.HTTPError as err:
                raise CrmCallFailed("failed", _reason(err)) from None
            except Exception as err:  # a plugin's bug fails the call, never the hub
                log.exception("CRM connection %s: plugin call failed", connection_id)
                raise CrmCallFailed(
                    "failed", f"the CRM plugin failed: {type(err).__name__}"
                ) from None

    async def mark_error(self, connection_id: int, message: str) -> None:
        """Put the connection in error with ``message`` (own transaction, at once)."""
        async with self._sessions() as db:
            await db.execute(
                update(CrmConnection)
                .where(CrmConnection.id == connection_id)
                .values(status="error", status_reason=f"{message} — reconnect the CRM")
            )
            await db.commit()


def _reason(err: Exception) -> str:
    if isinstance(err, RetryLater):
        return f"the CRM asked to wait: {err}"
    return f"the CRM could not be reached: {type(err).__name__}"
