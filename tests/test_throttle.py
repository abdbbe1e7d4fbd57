"""Login throttling: a sliding window per key, attempts in flight counted, never growing
without bound."""

from __future__ import annotations

import pytest

from hub.auth.throttle import IN_FLIGHT_WAIT, PENDING_SECONDS, MemoryThrottle, Throttled


def _wait(throttle: MemoryThrottle, *keys: str, now: float) -> float:
    """The wait a new attempt gets (0: allowed); the attempt, if made, is settled as a
    success so it leaves no trace."""
    try:
        attempt = throttle.reserve_now(keys, now=now)
    except Throttled as throttled:
        return throttled.retry_after
    throttle.settle_now(attempt, failed=False, now=now)
    return 0.0


def _fail(throttle: MemoryThrottle, *keys: str, now: float) -> None:
    throttle.settle_now(throttle.reserve_now(keys, now=now), failed=True, now=now)


def test_a_key_is_throttled_after_max_failures_until_the_oldest_leaves_the_window() -> None:
    throttle = MemoryThrottle(max_failures=3, window_seconds=100)
    for t in (0.0, 10.0, 20.0):
        assert _wait(throttle, "email:a", now=t) == 0
        _fail(throttle, "email:a", now=t)
    assert _wait(throttle, "email:a", now=30.0) == 70.0
    assert _wait(throttle, "email:b", now=30.0) == 0
    assert _wait(throttle, "email:a", now=100.0) == 0  # the failure at 0 expired


def test_any_throttled_key_blocks_the_attempt() -> None:
    throttle = MemoryThrottle(max_failures=1, window_seconds=60)
    _fail(throttle, "ip:1.2.3.4", now=0.0)
    assert _wait(throttle, "email:new@example.com", "ip:1.2.3.4", now=1.0) == 59.0


def test_attempts_in_flight_count_until_settled() -> None:
    throttle = MemoryThrottle(max_failures=3, window_seconds=60)
    flying = [throttle.reserve_now(["email:a", "ip:1"], now=0.0) for _ in range(3)]
    with pytest.raises(Throttled) as refused:
        throttle.reserve_now(["email:a"], now=0.0)
    assert refused.value.retry_after == IN_FLIGHT_WAIT
    throttle.settle_now(flying[0], failed=False, now=1.0)  # a success frees its place
    throttle.settle_now(flying[1], failed=True, now=1.0)
    assert throttle.reserve_now(["email:a"], now=1.0)
    # An attempt never settled stops counting after a while.
    assert _wait(throttle, "ip:1", now=PENDING_SECONDS + 0.5) == 0


def test_checking_keys_stores_nothing_and_expired_keys_are_dropped() -> None:
    throttle = MemoryThrottle(max_failures=5, window_seconds=10)
    for i in range(1000):
        _wait(throttle, f"email:{i}@example.com", now=0.0)
    assert throttle._counts == {}
    _fail(throttle, "email:x", now=0.0)
    _wait(throttle, "email:x", now=11.0)
    assert throttle._counts == {}


def test_forgiving_forgets_only_the_given_key() -> None:
    throttle = MemoryThrottle(max_failures=2, window_seconds=60)
    _fail(throttle, "email:a", "ip:1", now=0.0)
    attempt = throttle.reserve_now(["email:a", "ip:1"], now=1.0)
    throttle.settle_now(attempt, failed=False, forgive="email:a", now=1.0)
    assert "email:a" not in throttle._counts
    _fail(throttle, "ip:1", now=2.0)  # the address's earlier failure still counts
    assert _wait(throttle, "ip:1", now=3.0) == 57.0
