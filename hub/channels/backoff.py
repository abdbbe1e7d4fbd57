"""How long the outbox waits before the next delivery attempt of a message.

Exponential backoff with "equal jitter": the delay doubles with every failed attempt up
to a cap, and half of it is random. The random half spreads the retries of many messages
that failed together (a provider outage) so they do not all return at once; the fixed
half keeps a retry from coming back almost immediately, which full jitter allows.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def retry_delay(
    attempts: int,
    *,
    base: float,
    cap: float,
    after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before the next attempt, after ``attempts`` failed ones (>= 1).

    The exponential part is ``base * 2 ** (attempts - 1)``, at most ``cap``; the delay is
    between half of it and all of it. It is never shorter than ``after``, the time the
    provider asked for (``RetryLater(after=...)``), even when that exceeds ``cap``: asking
    again sooner would only be refused again.
    """
    # Bound the exponent: 2 ** 10_000 overflows a float long before any cap matters.
    exponential = min(cap, base * 2.0 ** min(max(attempts - 1, 0), 62))
    delay = exponential / 2 + rand() * exponential / 2
    if after is not None and after > delay:
        return after
    return delay
