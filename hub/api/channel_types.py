"""(stub: filled in by the channel-pipes work)."""

from __future__ import annotations

from hub.api.routing import ApiRoutes

api = ApiRoutes("channel_types")
