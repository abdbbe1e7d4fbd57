"""Login throttling: a sliding window per key that never grows without bound."""

from __future__ import annotations

from hub.auth.throttle import LoginThrottle


def test_a_key_is_throttled_after_max_failures_until_the_oldest_leaves_the_window() -> None:
    throttle = LoginThrottle(max_failures=3, window_seconds=100)
    for t in (0.0, 10.0, 20.0):
        assert throttle.retry_after("email:a", now=t) == 0
        throttle.record_failure("email:a", now=t)
    assert throttle.retry_after("email:a", now=30.0) == 70.0
    assert throttle.retry_after("email:b", now=30.0) == 0
    assert throttle.retry_after("email:a", now=100.0) == 0  # the failure at 0 expired


def test_any_throttled_key_blocks_the_attempt() -> None:
    throttle = LoginThrottle(max_failures=1, window_seconds=60)
    throttle.record_failure("ip:1.2.3.4", now=0.0)
    assert throttle.retry_after("email:new@example.com", "ip:1.2.3.4", now=1.0) == 59.0


def test_checking_keys_stores_nothing_and_expired_keys_are_dropped() -> None:
    throttle = LoginThrottle(max_failures=5, window_seconds=10)
    for i in range(1000):
        throttle.retry_after(f"email:{i}@example.com", now=0.0)
    assert throttle._failures == {}
    throttle.record_failure("email:x", now=0.0)
    throttle.retry_after("email:x", now=11.0)
    assert throttle._failures == {}


def test_reset_forgets_only_the_given_keys() -> None:
    throttle = LoginThrottle(max_failures=1, window_seconds=60)
    throttle.record_failure("email:a", "ip:1", now=0.0)
    throttle.reset("email:a")
    assert throttle.retry_after("email:a", now=1.0) == 0
    assert throttle.retry_after("ip:1", now=1.0) > 0
