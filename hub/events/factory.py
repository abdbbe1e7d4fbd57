"""The bus named by ``HUB_BUS_URL``: in-process, or Redis for several hub processes."""

from __future__ import annotations

from hub.events.bus import EventBus, MemoryBus


def create_bus(url: str) -> EventBus:
    """The bus for ``HUB_BUS_URL``: ``memory://`` or ``redis://…``."""
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://")):
        # Only a Redis bus loads the Redis client (about 0.08 s of a start otherwise).
        from hub.events.redis_bus import RedisBus

        return RedisBus(url)
    raise ValueError(f"unsupported bus URL {url!r}: use memory:// or redis://")
