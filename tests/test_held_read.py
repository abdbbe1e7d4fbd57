"""``HeldRead``: an answer held until ``forget`` (or its age limit), never kept from a
read begun before a ``forget``; and ``forget_on_change``, which calls ``forget`` on the
bus's announcements, a resync, or when its listener fell behind (the sidebar's shared
counts are dropped the same way)."""

from __future__ import annotations

import asyncio

from hub.events.bus import MemoryBus
from hub.events.event import HubEvent
from hub.events.forget import everything, forget_on_change
from hub.inbox.jobs import forget_counts_on_change
from hub.inbox.view_counts import CountsCache
from hub.store.shared_read import HeldRead
from tests.test_shared_read import Source, settle


async def test_an_answer_is_held_until_forgotten() -> None:
    source = Source()
    source.gate.set()
    held = HeldRead(source.read, ttl=3600)
    assert [await held.get("a") for _ in range(5)] == ["a:v1"] * 5
    assert await held.get("b") == "b:v1"
    assert held.reads == 2
    source.value = "v2"
    assert await held.get("a") == "a:v1"  # nobody said it changed
    held.forget("a")
    assert (await held.get("a"), await held.get("b")) == ("a:v2", "b:v1")
    held.forget()
    assert await held.get("b") == "b:v2"
    assert held.reads == 4


async def test_an_answer_older_than_the_age_limit_is_read_again() -> None:
    source = Source()
    source.gate.set()
    held = HeldRead(source.read, ttl=0)
    await held.get("a")
    await held.get("a")
    assert held.reads == 2


async def test_a_read_under_way_when_forgotten_answers_its_callers_but_is_not_kept() -> None:
    source = Source()
    held = HeldRead(source.read, ttl=3600)
    early = asyncio.create_task(held.get("a"))
    await settle()
    assert source.started == 1  # reading v1
    source.value = "v2"
    held.forget("a")  # the change is announced while that read is under way
    source.gate.set()
    assert await early == "a:v1"  # asked before the change: as if it had read alone
    assert await held.get("a") == "a:v2"
    assert held.reads == 2


class Forgets:
    """Records what ``forget_on_change`` drops."""

    def __init__(self) -> None:
        self.keys: list[int | None] = []

    def forget(self, key: int | None) -> None:
        self.keys.append(key)


def channel_of(event: HubEvent) -> int | None:
    value = event.data.get("id")
    return value if isinstance(value, int) else None


async def test_announcements_a_resync_and_falling_behind_drop_what_is_held() -> None:
    bus = MemoryBus(queue_size=3)
    forgets = Forgets()
    follower = asyncio.create_task(
        forget_on_change(bus, forgets.forget, {"channel.updated"}, channel_of)
    )
    await settle()
    await bus.publish(HubEvent("message.created", {"id": 1}))  # not a change it follows
    await bus.publish(HubEvent("channel.updated", {"id": 7}))
    await bus.publish(HubEvent("resync", {}))
    await settle()
    assert forgets.keys == [7, None]

    # Fallen behind (more events than its queue holds before it runs): cut off, it
    # drops everything, as announcements were lost, and listens again.
    for n in range(5):
        await bus.publish(HubEvent("message.created", {"id": n}))
    await settle()
    assert forgets.keys[2:] == [None]
    await bus.publish(HubEvent("channel.updated", {"id": 8}))
    await settle()
    assert forgets.keys[3:] == [8]

    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)


async def test_a_rule_change_drops_every_event_s_rules() -> None:
    bus = MemoryBus()
    forgets = Forgets()
    follower = asyncio.create_task(
        forget_on_change(bus, forgets.forget, {"rules.changed"}, everything)
    )
    await settle()
    await bus.publish(HubEvent("rules.changed", {}, user_ids=frozenset()))
    await settle()
    assert forgets.keys == [None]
    await bus.stop()
    await follower  # the bus stopping ends it


async def test_the_shared_counts_are_dropped_on_a_change_and_after_falling_behind() -> None:
    bus = MemoryBus(queue_size=3)
    cache = CountsCache(3600)
    follower = asyncio.create_task(forget_counts_on_change(bus, cache))
    await settle()
    cache.put([])
    await bus.publish(HubEvent("counts.changed", {}))
    await settle()
    assert cache.get() is None

    # Cut off for falling behind, it drops the counts (changes were lost) and listens
    # again: a later change still reaches it.
    cache.put([])
    for n in range(5):
        await bus.publish(HubEvent("message.created", {"id": n}))
    await settle()
    assert cache.get() is None
    cache.put([])
    await bus.publish(HubEvent("counts.changed", {}))
    await settle()
    assert cache.get() is None

    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
