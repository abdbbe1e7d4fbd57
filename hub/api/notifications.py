"""notifications endpoints (being written)."""

from __future__ import annotations

from hub.api.routing import ApiRoutes

api = ApiRoutes("notifications")
