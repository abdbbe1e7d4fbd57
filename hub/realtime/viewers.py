"""Whose websocket may still listen, and what they may see: the viewers of every open
connection of this process, reloaded together.

A connection judges each event against its viewer (role, visibility, teams). Changes
announced on the bus (``user.updated``, ``access.changed``, ``team.updated``) make the
connection reload its own viewer before the next event (``hub.realtime.ws``). What is not
announced — a session that expires, a row changed straight in the database, an event
lost while Redis was away — is caught by ``ViewerRefresh``: every ``REFRESH_SECONDS`` it
reloads the viewers of all open connections in four queries, whatever their number.

Before, each connection reloaded its own viewer (three queries) on the first event after
its age limit, inside its event pump: with 200 sockets that was about 27 queries a second
on the database pool, each holding one socket's events back while it ran.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.store.models import ApiToken, LoginSession, TeamMembership, User
from hub.store.types import utcnow

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15.0  # the longest an unannounced change goes unseen by a socket
IN_CHUNK = 500  # ids per IN list: well under SQLite's parameter limit

DEACTIVATED = "account deactivated"
SESSION_ENDED = "session ended; log in again"
TOKEN_REVOKED = "API token revoked"  # noqa: S105 (a close reason, not a secret)

T = TypeVar("T", int, str)


@dataclass(frozen=True)
class Credential:
    """What a connection was opened with, re-checked whenever its viewer is reloaded."""

    user_id: int
    session_id: int | None
    token_hash: str | None


@dataclass(frozen=True)
class AccessFacts:
    """What the database says of some credentials: active users (role, visibility,
    teams), sessions' expiries, tokens' revocations."""

    users: dict[int, Viewer]
    session_expiry: dict[int, datetime]
    token_revoked: dict[str, datetime | None]

    def judge(self, credential: Credential, now: datetime) -> Viewer | str:
        """The credential's viewer while its access holds; else the reason it ended."""
        viewer = self.users.get(credential.user_id)
        if viewer is None:
            return DEACTIVATED
        if credential.session_id is not None:
            expires = self.session_expiry.get(credential.session_id)
            if expires is None or expires <= now:
                return SESSION_ENDED
        if credential.token_hash is not None:
            if credential.token_hash not in self.token_revoked:
                return TOKEN_REVOKED
            if self.token_revoked[credential.token_hash] is not None:
                return TOKEN_REVOKED
        return viewer


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    items = sorted(set(values))
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


async def load_access(db: AsyncSession, credentials: Sequence[Credential]) -> AccessFacts:
    """The facts behind ``credentials``, in four queries (per ``IN_CHUNK`` of each), with
    no ORM objects: Core rows straight into viewers."""
    users: dict[int, tuple[str, str]] = {}
    teams: dict[int, set[int]] = {}
    for ids in _chunks(c.user_id for c in credentials):
        rows = await db.execute(
            select(User.id, User.role, User.visibility).where(
                User.id.in_(ids), User.is_active.is_(True)
            )
        )
        users.update({user_id: (role, visibility) for user_id, role, visibility in rows})
        memberships = await db.execute(
            select(TeamMembership.user_id, TeamMembership.team_id).where(
                TeamMembership.user_id.in_(ids)
            )
        )
        for user_id, team_id in memberships:
            teams.setdefault(user_id, set()).add(team_id)
    session_expiry: dict[int, datetime] = {}
    for ids in _chunks(c.session_id for c in credentials if c.session_id is not None):
        sessions = await db.execute(
            select(LoginSession.id, LoginSession.expires_at).where(LoginSession.id.in_(ids))
        )
        session_expiry.update({session_id: expires for session_id, expires in sessions})
    token_revoked: dict[str, datetime | None] = {}
    for hashes in _chunks(c.token_hash for c in credentials if c.token_hash is not None):
        tokens = await db.execute(
            select(ApiToken.token_hash, ApiToken.revoked_at).where(ApiToken.token_hash.in_(hashes))
        )
        token_revoked.update({token_hash: revoked for token_hash, revoked in tokens})
    viewers = {
        user_id: Viewer(user_id, role, visibility, frozenset(teams.get(user_id, ())))
        for user_id, (role, visibility) in users.items()
    }
    return AccessFacts(viewers, session_expiry, token_revoked)


class Listener(Protocol):
    """An open connection, as the refresher sees it."""

    credential: Credential

    @property
    def viewer_version(self) -> int:
        """Bumped whenever the connection reloads its own viewer: a bulk reload read
        before that must not overwrite it."""

    def refreshed(self, verdict: Viewer | str, version: int) -> None:
        """Take the reloaded viewer, or end the connection with the reason (4401)."""


class ViewerRefresh:
    """Reloads the viewers of every open connection together, every ``interval``.

    Runs only while connections are open: the first one to join starts it, the last
    one to leave stops it, so an idle hub holds no task and no reference to a closed
    connection.
    """

    def __init__(
        self,
        sessions: Callable[[], async_sessionmaker[AsyncSession]],
        interval: float = REFRESH_SECONDS,
    ) -> None:
        self._sessions = sessions
        self.interval = interval
        self._listeners: set[Listener] = set()
        self._task: asyncio.Task[None] | None = None
        self.refreshes = 0  # bulk reloads done, for tests and metrics

    def __len__(self) -> int:
        return len(self._listeners)

    @property
    def running(self) -> bool:
        """Whether the periodic reload is scheduled."""
        return self._task is not None and not self._task.done()

    def join(self, listener: Listener) -> None:
        """Include ``listener`` in the reloads from now on."""
        self._listeners.add(listener)
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="ws-viewer-refresh"
            )

    def leave(self, listener: Listener) -> None:
        """Forget ``listener``; stop reloading once nobody listens."""
        self._listeners.discard(listener)
        if not self._listeners:
            self.stop()

    def stop(self) -> None:
        """Stop the periodic reload (a joining connection starts it again)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while self._listeners:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh()
            except (SQLAlchemyError, OSError):
                # The viewers stay as they were; the next round tries again.
                log.warning("websocket viewers not reloaded", exc_info=True)
            except Exception:
                # A bug here must not end the backstop for good: log it, go on.
                log.exception("websocket viewers' reload failed")

    async def refresh(self) -> None:
        """Reload every listener's viewer now; end those whose access ended."""
        listeners = [(listener, listener.viewer_version) for listener in self._listeners]
        if not listeners:
            return
        async with self._sessions()() as db:
            facts = await load_access(db, [listener.credential for listener, _ in listeners])
        now = utcnow()
        self.refreshes += 1
        for listener, version in listeners:
            if listener in self._listeners:  # closed meanwhile: nothing to tell
                listener.refreshed(facts.judge(listener.credential, now), version)
