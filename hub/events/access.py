"""The event that tells every hub process a user's access has ended or changed.

Published after a token is revoked, a session ends (logout, "log out everywhere else")
or a password is set. No client receives it: the websockets of that user re-check their
credential against the database at once and close when it no longer holds. Changes to
role, visibility, teams or deactivation travel as ``user.updated`` / ``team.updated``,
which the websockets treat the same way.
"""

from __future__ import annotations

from hub.events.event import HubEvent

ACCESS_CHANGED = "access.changed"


def access_changed(user_id: int) -> HubEvent:
    """The event announcing that ``user_id``'s sessions or tokens changed; addressed to
    nobody (``user_ids`` empty), so it never reaches a client."""
    return HubEvent(ACCESS_CHANGED, {"user_id": user_id}, user_ids=frozenset())
