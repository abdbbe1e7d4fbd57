"""``SharedRead``: callers asking together share one read, and no caller is answered by a
read that began before it asked."""

from __future__ import annotations

import asyncio

import pytest

from hub.store.shared_read import SharedRead


class Source:
    """A value behind a gate: each read waits for the gate, then returns the value as it
    was when the read began."""

    def __init__(self) -> None:
        self.value = "v1"
        self.gate = asyncio.Event()
        self.started = 0
        self.fail = False

    async def read(self, key: str) -> str:
        self.started += 1
        seen = self.value
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("the read failed")
        return f"{key}:{seen}"


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_callers_asking_together_share_one_read() -> None:
    source = Source()
    shared = SharedRead(source.read)
    callers = [asyncio.create_task(shared.get("a")) for _ in range(20)]
    await settle()
    source.gate.set()
    assert await asyncio.gather(*callers) == ["a:v1"] * 20
    assert shared.reads == source.started == 1


async def test_a_caller_asking_during_a_read_gets_the_next_read() -> None:
    source = Source()
    shared = SharedRead(source.read)
    early = asyncio.create_task(shared.get("a"))
    await settle()
    assert source.started == 1  # the first read is under way, with v1
    source.value = "v2"  # changed after that read began
    late = [asyncio.create_task(shared.get("a")) for _ in range(5)]
    await settle()
    source.gate.set()
    assert await early == "a:v1"
    assert await asyncio.gather(*late) == ["a:v2"] * 5
    assert shared.reads == 2


async def test_each_key_has_its_own_read() -> None:
    source = Source()
    shared = SharedRead(source.read)
    source.gate.set()
    assert await asyncio.gather(shared.get("a"), shared.get("b")) == ["a:v1", "b:v1"]
    assert shared.reads == 2


async def test_a_failed_read_fails_its_callers_and_the_next_caller_reads_again() -> None:
    source = Source()
    shared = SharedRead(source.read)
    source.fail = True
    callers = [asyncio.create_task(shared.get("a")) for _ in range(3)]
    await settle()
    source.gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    source.fail = False
    assert await shared.get("a") == "a:v1"
    assert shared.reads == 2


async def test_a_caller_going_away_does_not_cancel_the_others_read() -> None:
    source = Source()
    shared = SharedRead(source.read)
    leaving = asyncio.create_task(shared.get("a"))
    staying = asyncio.create_task(shared.get("a"))
    await settle()
    leaving.cancel()
    await settle()
    source.gate.set()
    assert await staying == "a:v1"
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_readers_waiting_when_the_read_is_cancelled_are_cancelled_too() -> None:
    source = Source()
    shared = SharedRead(source.read)
    first = asyncio.create_task(shared.get("a"))
    await settle()
    queued = asyncio.create_task(shared.get("a"))  # waits for the next read
    await settle()
    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__ == "SharedRead._run":  # type: ignore[union-attr]
            task.cancel()
    results = await asyncio.gather(first, queued, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    # Nothing is left waiting: the next caller starts a read of its own.
    source.gate.set()
    assert await shared.get("a") == "a:v1"
