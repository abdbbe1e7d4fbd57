"""Where the Redis bus connects and publishes, and the names its messages use: apart
from ``hub.events.redis_bus`` so that reading them does not import the Redis client
(about 0.08 s of every start; docs/performance.md, issue 18)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

CHANNEL = "inbox-hub:events"
RESYNC = "resync"


@dataclass(frozen=True)
class RedisTarget:
    """Where to connect and which channel to use, parsed from ``HUB_BUS_URL``."""

    url: str
    channel: str
    where: str  # host:port for logs, never the password

    @classmethod
    def parse(cls, bus_url: str, namespace: str | None = None) -> RedisTarget:
        """``redis://[user:pass@]host:port[/db][/namespace]``.

        Pub/sub ignores the database number, so processes that must not hear each other
        (two hubs on one Redis, or parallel test runs) need a namespace: the path after
        the optional database number, or ``namespace``. The channel is then
        ``<namespace>:inbox-hub:events``.
        """
        parts = urlsplit(bus_url)
        segments = [s for s in parts.path.split("/") if s]
        db = segments.pop(0) if segments and segments[0].isdigit() else None
        namespace = namespace or "/".join(segments) or None
        url = urlunsplit((parts.scheme, parts.netloc, f"/{db}" if db else "", parts.query, ""))
        channel = f"{namespace}:{CHANNEL}" if namespace else CHANNEL
        where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
        return cls(url, channel, where)
