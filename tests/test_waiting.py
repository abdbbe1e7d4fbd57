"""``hub.testing.eventually``: waits for a check to pass, and fails with what was wrong."""

from __future__ import annotations

import asyncio

import pytest

from hub.testing import eventually


async def test_a_check_that_passes_later_returns_its_result() -> None:
    calls: list[int] = []

    def count() -> list[int]:
        calls.append(len(calls))
        return calls if len(calls) >= 3 else []

    assert await eventually(count, interval=0.001) == [0, 1, 2]


async def test_an_async_assertion_is_rerun_until_it_holds() -> None:
    state = {"ready": False}
    asyncio.get_running_loop().call_later(0.05, state.update, {"ready": True})

    async def ready() -> None:
        await asyncio.sleep(0)
        assert state["ready"], "not ready yet"

    assert await eventually(ready, interval=0.01) is None
    assert state["ready"]


async def test_after_the_timeout_the_last_assertion_is_raised_again() -> None:
    attempts: list[int] = []

    def never() -> None:
        attempts.append(1)
        assert len(attempts) < 0, f"attempt {len(attempts)} failed"

    with pytest.raises(AssertionError, match=r"attempt \d+ failed") as caught:
        await eventually(never, timeout=0.1, interval=0.01)
    assert f"attempt {len(attempts)} failed" in str(caught.value)
    assert len(attempts) >= 3


async def test_a_check_that_stays_false_fails_naming_what_it_returned() -> None:
    def empty() -> list[int]:
        return []

    with pytest.raises(AssertionError, match=r"empty still returned \[\] after 0.05s"):
        await eventually(empty, timeout=0.05, interval=0.01)


async def test_another_exception_is_not_retried() -> None:
    attempts: list[int] = []

    def broken() -> bool:
        attempts.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await eventually(broken, timeout=1)
    assert attempts == [1]
