"""Events pushed to agents, with the facts that decide who may receive each one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from hub.auth.visibility import ConversationScope, Viewer, can_see


@dataclass(frozen=True)
class HubEvent:
    """One realtime event.

    ``type`` is e.g. ``conversation.updated``, ``message.created``, ``comment.created``,
    ``notification``, ``typing`` or ``counts.changed``. Who receives it:
    - ``user_ids`` set: exactly those users (notifications);
    - else ``scope`` set: whoever may see that conversation now, or could before the
      change (``previous``), so a conversation moved away can leave their lists;
    - else everyone.

    ``id`` is the event's place in the realtime event log (``hub.events.journal``), set
    once it is logged: increasing, so a client that reconnects can ask for the events
    after the last one it applied. ``None`` for events that are not logged (typing).
    """

    type: str
    data: dict[str, Any]
    scope: ConversationScope | None = None
    previous: ConversationScope | None = None
    user_ids: frozenset[int] | None = None
    id: int | None = None

    def visible_to(self, viewer: Viewer) -> bool:
        """Whether this event may be sent to ``viewer``."""
        if self.user_ids is not None:
            return viewer.id in self.user_ids
        if self.scope is None:
            return True
        return can_see(viewer, self.scope) or (
            self.previous is not None and can_see(viewer, self.previous)
        )

    def to_json(self) -> str:
        """Serialize for a bus between processes."""
        return json.dumps(
            {
                "type": self.type,
                "data": self.data,
                "scope": asdict(self.scope) if self.scope else None,
                "previous": asdict(self.previous) if self.previous else None,
                "user_ids": sorted(self.user_ids) if self.user_ids is not None else None,
                "id": self.id,
            },
            default=str,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> HubEvent:
        """The inverse of ``to_json``."""
        raw = json.loads(text)
        return cls(
            type=raw["type"],
            data=raw["data"],
            scope=ConversationScope(**raw["scope"]) if raw["scope"] else None,
            previous=ConversationScope(**raw["previous"]) if raw["previous"] else None,
            user_ids=frozenset(raw["user_ids"]) if raw["user_ids"] is not None else None,
            # .get: an older process on the same bus sends no id.
            id=raw.get("id"),
        )

    def wire(self) -> str:
        """What a websocket client receives: ``{"type", "data"}``, and ``"id"`` when the
        event was logged."""
        return self._wire

    @cached_property
    def _wire(self) -> str:
        # Encoded once per event, not once per connected socket: every socket's pump
        # sends the same text (200 sockets, 200 dumps per event before). An event is
        # not changed once published; ``replace(…, id=…)`` makes a new one.
        frame: dict[str, Any] = {"type": self.type, "data": self.data}
        if self.id is not None:
            frame["id"] = self.id
        return json.dumps(frame, default=str)
