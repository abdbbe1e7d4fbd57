"""Rejected webhook requests counted per source address: past the limit, answer 429.

Anyone can post junk to a webhook URL, and every refusal is written to the inbound log.
Counting refusals per address in a fixed one-minute window lets a provider's occasional
bad request be logged, while a flood from one address is answered 429 without being
logged. The count lives in this process (like the login throttle): several hub
processes each allow the limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

WINDOW = 60.0  # seconds
MAX_SOURCES = 10_000  # addresses tracked at once; the oldest window is forgotten first


class RejectLimit:
    """Refusals per source address in the current window, and whether it is over."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        # source → (start of its window, refusals in it); insertion order is age order.
        self._windows: dict[str, tuple[float, int]] = {}

    def retry_after(self, source: str | None) -> int:
        """Whole seconds until ``source`` may be heard again; 0 when it may be now."""
        if source is None:
            return 0
        window = self._windows.get(source)
        if window is None:
            return 0
        started, count = window
        left = started + WINDOW - self._clock()
        if left <= 0:
            del self._windows[source]
            return 0
        return math.ceil(left) if count >= self.per_minute else 0

    def record(self, source: str | None) -> None:
        """Count one refused request from ``source``."""
        if source is None:
            return
        now = self._clock()
        started, count = self._windows.pop(source, (now, 0))
        if started + WINDOW <= now:
            started, count = now, 0
        self._windows[source] = (started, count + 1)
        while len(self._windows) > MAX_SOURCES:
            del self._windows[next(iter(self._windows))]
