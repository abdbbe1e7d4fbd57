"""Login throttling shared by every hub process on one Redis (the bus's, ``HUB_BUS_URL``).

Each key has two sorted sets scored by time in milliseconds: ``…:failed`` (failures in
the window) and ``…:pending`` (attempts being checked). A Lua script checks and reserves
in one step, so two processes cannot both take the last attempt; the script reads Redis's
own clock, so processes whose clocks differ still agree on the window. While Redis does
not answer, each process counts in its own memory (logged), rather than refusing logins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hub.auth.throttle import (
    IN_FLIGHT_WAIT,
    PENDING_SECONDS,
    Attempt,
    MemoryThrottle,
    Throttled,
)

log = logging.getLogger(__name__)

# Logins wait at most this long for Redis before counting in memory instead.
TIMEOUT = 2.0

# KEYS: failed and pending set of each throttle key, in pairs.
# ARGV: window ms, pending ms, max failures, in-flight wait ms, token.
# Returns the wait in ms (nothing reserved), or 0 (reserved on every key).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, pending_ms = tonumber(ARGV[1]), tonumber(ARGV[2])
local max, in_flight_wait = tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = 0
for i = 1, #KEYS, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', KEYS[i + 1], '-inf', now - pending_ms)
  local failed = redis.call('ZCARD', KEYS[i])
  local pending = redis.call('ZCARD', KEYS[i + 1])
  if failed >= max then
    local oldest = redis.call('ZRANGE', KEYS[i], failed - max, failed - max, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now, 1)
  elseif failed + pending >= max then
    wait = math.max(wait, in_flight_wait)
  end
end
if wait > 0 then
  return wait
end
for i = 1, #KEYS, 2 do
  redis.call('ZADD', KEYS[i + 1], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[i + 1], pending_ms)
end
return 0
"""

# KEYS: as for _RESERVE. ARGV: window ms, token, 1 if failed, index of the pair to
# forgive (1-based; 0: none).
_SETTLE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, forgive = tonumber(ARGV[1]), tonumber(ARGV[4])
for i = 1, #KEYS, 2 do
  redis.call('ZREM', KEYS[i + 1], ARGV[2])
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[i], now, ARGV[2])
    redis.call('PEXPIRE', KEYS[i], window)
  end
end
if forgive > 0 then
  redis.call('DEL', KEYS[forgive * 2 - 1])
end
return 0
"""


class RedisThrottle:
    """The counts in Redis, under ``prefix`` (the bus's namespace), for every process."""

    def __init__(self, url: str, prefix: str, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = float(window_seconds)
        self.prefix = prefix
        self._redis = Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self._reserve = self._redis.register_script(_RESERVE)
        self._settle = self._redis.register_script(_SETTLE)
        # Attempts reserved while Redis was away are counted, and settled, here.
        self._local = MemoryThrottle(max_failures, window_seconds)
        self._local_tokens: set[str] = set()

    async def reserve(self, keys: Sequence[str]) -> Attempt:
        """See ``LoginThrottle.reserve``."""
        attempt = Attempt(tuple(keys))
        try:
            wait_ms = await self._reserve(
                keys=self._redis_keys(attempt.keys),
                args=[
                    int(self.window * 1000),
                    int(PENDING_SECONDS * 1000),
                    self.max_failures,
                    int(IN_FLIGHT_WAIT * 1000),
                    attempt.token,
                ],
            )
        except RedisError as err:
            log.warning("login throttle: Redis does not answer (%s); counting in memory", err)
            local = self._local.reserve_now(keys)
            self._local_tokens.add(local.token)
            return local
        if int(wait_ms) > 0:
            raise Throttled(int(wait_ms) / 1000)
        return attempt

    async def settle(self, attempt: Attempt, *, failed: bool, forgive: str | None = None) -> None:
        """See ``LoginThrottle.settle``. A settlement Redis misses is not retried: the
        reservation expires after ``PENDING_SECONDS``."""
        if attempt.token in self._local_tokens:
            self._local_tokens.discard(attempt.token)
            self._local.settle_now(attempt, failed=failed, forgive=forgive)
            return
        forgive_pair = attempt.keys.index(forgive) + 1 if forgive in attempt.keys else 0
        try:
            await self._settle(
                keys=self._redis_keys(attempt.keys),
                args=[int(self.window * 1000), attempt.token, 1 if failed else 0, forgive_pair],
            )
        except RedisError as err:
            log.warning("login throttle: Redis does not answer (%s); attempt not settled", err)

    async def close(self) -> None:
        """Close the connections to Redis."""
        await self._redis.aclose()

    def _redis_keys(self, keys: Sequence[str]) -> list[str]:
        return [f"{self.prefix}{key}:{kind}" for key in keys for kind in ("failed", "pending")]
