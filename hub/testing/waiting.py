"""Waiting in a test for what the hub does in the background: ``eventually(check)``.

The outbox worker, the media fetcher and the bus listeners run as their own tasks, so a
test that triggers one cannot assert on the result at once, and a fixed ``sleep`` is
either too short on a loaded machine or wastes time everywhere else. ``eventually``
re-runs the test's own check until it passes and, when it never does, fails with the
check's last assertion, so the failure says what was wrong and not only "timed out".
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = ...,  # noqa: ASYNC109 - see the implementation
    interval: float = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    *,
    timeout: float = ...,  # noqa: ASYNC109 - see the implementation
    interval: float = ...,
) -> T: ...


async def eventually(
    check: Callable[[], object],
    *,
    # Not asyncio.timeout() around the call: between attempts it must keep the last
    # failed assertion, and raise that rather than a bare TimeoutError. Generous: a
    # passing check returns at once, and a loaded CI machine stalls for seconds (a
    # PostgreSQL test's restarted worker took over 5 s to send once).
    timeout: float = 15.0,  # noqa: ASYNC109
    interval: float = 0.02,
) -> object:
    """Run ``check`` (a plain or an ``async`` function) until it passes; return its result.

    ``check`` passes when it returns without raising ``AssertionError`` and its result is
    ``None`` (an assertion that held) or truthy; ``False``, ``0`` or an empty collection
    mean "not yet". It runs every ``interval`` seconds, and once more at the ``timeout``;
    then the last ``AssertionError`` is raised again (or one saying what the check kept
    returning). Any other exception stops the wait at once: it is a failure, not a
    "not yet".

    Example: ``message = await eventually(lambda: hub_api.message(message_id))``, or with
    an assertion inside ``async def sent() -> None: assert len(calls) == 2``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        last: AssertionError
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
        except AssertionError as failed:
            last = failed
        else:
            if result is None or result:
                return result
            last = AssertionError(f"{_name(check)} still returned {result!r} after {timeout}s")
        if loop.time() >= deadline:
            raise last
        await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))


def _name(check: Callable[[], object]) -> str:
    name = getattr(check, "__qualname__", repr(check))
    return "the check" if name == "<lambda>" else name
