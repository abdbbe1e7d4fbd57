"""A small world for the inbox's browser tests: a custom channel whose replies reach a
fake service on localhost, and customers writing in through its signed webhook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from typing import Any

import httpx

from tests.browser.fake_service import FakeService
from tests.browser.harness import BackgroundLoop, LiveHub, LiveServer, serve

_ids = count(1)


@dataclass
class InboxWorld:
    """The hub, its custom channel and the service behind it."""

    hub: LiveHub
    service: FakeService
    channel_id: int
    secret: str

    def customer_writes(
        self, sender: str, text: str, name: str | None = None, **extra: Any
    ) -> httpx.Response:
        """A message from ``sender`` (an id; named ``name``, else the id in title case)
        through the channel's webhook, signed as the service signs it; asserts it was
        accepted. ``extra`` adds fields to the event."""
        event = {
            "type": "message",
            "id": f"in-{next(_ids)}",
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            "sender": {"id": sender, "name": name or sender.replace("-", " ").title()},
            "text": text,
            **extra,
        }
        response = self.hub.post_event(self.channel_id, self.secret, event)
        assert response.status_code == 200, response.text
        return response

    def replies(self) -> list[Any]:
        """The bodies of the replies the service received."""
        return [r.body for r in self.service.requests]


def make_world(hub: LiveHub, background_loop: BackgroundLoop) -> tuple[InboxWorld, LiveServer]:
    """An owner (owner@example.com, not logged in) and a custom channel "Acme chat" whose
    replies reach a fake service; stop the returned server when done."""
    service = FakeService()
    server = serve(background_loop, service.app())
    hub.add_user("owner@example.com", role="owner", name="Olive Owner")
    saved = hub.add_channel(
        "custom_channel", "Acme chat", {"outbound_url": f"{server.url}/replies"}
    )
    assert saved.config is not None
    return InboxWorld(hub, service, saved.channel.id, str(saved.config["signing_secret"])), server
