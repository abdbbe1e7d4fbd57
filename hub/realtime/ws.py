"""The agents' websocket: ``GET /ws`` pushes the realtime events each user may see.

Every connection subscribes to the event bus and forwards the events whose
``visible_to(viewer)`` holds. Its first frame is a ``hello`` with the newest event id;
a client that reconnects with ``?after=<id>`` gets instead the events it missed, from
the realtime event log (``hub.events.journal``), or a ``resync`` when they are gone.

The viewer (role, visibility, teams) is reloaded from the database before judging the
next event on a ``user.updated`` or ``access.changed`` event about the user, a
``team.updated`` event (for team-restricted users) or a bus ``resync``. A user who was
deactivated, or whose session or token ended, is then disconnected with ``4401`` and a
reason saying which, before any later event reaches them: the bus delivers events in
order, and whatever revokes access publishes its event before it answers. Changes
nobody announces (a session expiring) are caught by the process's ``ViewerRefresh``
(``hub.realtime.viewers``), which reloads every connection's viewer together, off the
event path, every ``REFRESH_SECONDS``.

The event path itself does no I/O but the socket's own write: each connection's pump
judges an event with the viewer it holds (Python, no query) and sends the text encoded
once for every socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, hdrs, web
from sqlalchemy.exc import SQLAlchemyError

from hub import appkeys
from hub.auth.identity import Identity, identify
from hub.auth.tokens import hash_secret
from hub.auth.visibility import Viewer
from hub.channels.agent_signals import signals_of
from hub.errors import HubError
from hub.events.access import ACCESS_CHANGED
from hub.events.bus import Subscription
from hub.events.event import HubEvent
from hub.events.redis_target import RESYNC
from hub.realtime.presence import BadMessage, TypingIndicators, TypingMessage, parse_client_message
from hub.realtime.viewers import Credential, ViewerRefresh, load_access
from hub.store.types import MAX_ID, utcnow

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

HEARTBEAT_SECONDS = 30.0
MAX_CLIENT_MESSAGE_BYTES = 16 * 1024  # client messages are tiny; anything bigger is abuse
USER_UPDATED = "user.updated"
TEAM_UPDATED = "team.updated"
CLOSE_TOO_SLOW = WSCloseCode.TRY_AGAIN_LATER  # 1013: reconnect with after=, catch up
CLOSE_ACCESS_ENDED = 4401  # deactivated, logged out, token revoked: log in again
HELLO = "hello"  # the first frame of a connection without ``after``


def track_websockets(app: web.Application) -> None:
    """Close every open websocket (1001) when the app shuts down.

    Call before the app starts. Without it, an open websocket holds shutdown until the
    server's shutdown timeout, after which it is cut (the client sees 1006).
    """
    if appkeys.OPEN_SOCKETS in app:
        return
    app[appkeys.OPEN_SOCKETS] = set()
    refresh = ViewerRefresh(lambda: app[appkeys.SESSIONS])
    app[appkeys.VIEWER_REFRESH] = refresh
    app.on_shutdown.append(_close_open_sockets)
    app.on_cleanup.append(lambda _: _stop(refresh))


async def _stop(refresh: ViewerRefresh) -> None:
    refresh.stop()


async def _close_open_sockets(app: web.Application) -> None:
    open_sockets = app[appkeys.OPEN_SOCKETS]
    sockets = list(open_sockets)  # closing ones leave the set meanwhile
    await asyncio.gather(
        *(s.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for s in sockets),
        return_exceptions=True,
    )


@routes.get("/ws")
async def websocket(request: web.Request) -> web.StreamResponse:
    """Realtime events for a logged-in user (session cookie or bearer token)."""
    identity = await identify(request)
    if identity is None:
        raise HubError(
            401, "unauthenticated", "log in, or send an API token as 'Authorization: Bearer …'"
        )
    if identity.via == "session" and not _origin_allowed(request):
        # A cookie rides along on a websocket opened by any site: without this check a
        # page elsewhere could read the user's inbox (cross-site websocket hijacking).
        raise HubError(
            403, "bad_origin", "websocket connections must come from the hub's own pages"
        )
    after = _after(request)
    socket = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SECONDS,
        max_msg_size=MAX_CLIENT_MESSAGE_BYTES,
        # No permessage-deflate, which browsers ask for: it compressed every frame once
        # per socket (the frames are small JSON) and kept a zlib context per socket; 200
        # sockets cost 1.8 ms more CPU per event and tens of MiB (docs/performance.md).
        compress=False,
    )
    if not socket.can_prepare(request).ok:
        raise HubError(
            426,
            "websocket_required",
            "GET /ws needs a websocket upgrade",
            headers={hdrs.UPGRADE: "websocket", hdrs.CONNECTION: "Upgrade"},
        )
    # Subscribe before the handshake completes: once the client is connected, no event
    # can slip by unseen.
    subscription = request.config_dict[appkeys.BUS].subscribe()
    open_sockets = request.config_dict.get(appkeys.OPEN_SOCKETS, set())
    try:
        await socket.prepare(request)
        open_sockets.add(socket)
        await Connection(request, socket, subscription, identity, after=after).run()
    except Exception:
        if not socket.prepared:
            raise
        # After the upgrade no error response can be sent: close, and let it reconnect.
        log.exception("websocket of user %s failed", identity.user.id)
        await socket.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error; reconnect")
    finally:
        open_sockets.discard(socket)
        subscription.close()
    return socket


def _after(request: web.Request) -> int | None:
    """The ``after`` query parameter: the id of the last event the client applied."""
    raw = request.query.get("after")
    if raw is None:
        return None
    # Digits only: int() would also take " 12", "+12" or "1_2".
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        raise HubError(
            400,
            "invalid_after",
            "after must be the id of the last event applied: a whole number from 0",
            [{"field": "after", "message": "must be a whole number from 0"}],
        )
    return int(raw)


def credential_of(request: web.Request, identity: Identity) -> Credential:
    """The session or token behind ``identity``."""
    if identity.session is not None:
        return Credential(identity.user.id, identity.session.id, None)
    token = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")[2].strip()
    return Credential(identity.user.id, None, hash_secret(token))


def _origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        # Browsers always send Origin on a websocket handshake; a client without one is
        # not a browser, and cannot be made to carry someone's cookie.
        return True
    sent = urlsplit(origin.lower())
    if not sent.scheme or not sent.netloc:
        return False  # "null" (sandboxed frames, file: pages) or garbage
    hub = urlsplit(request.config_dict[appkeys.SETTINGS].base_url.lower())
    if (sent.scheme, sent.netloc) == (hub.scheme, hub.netloc):
        return True
    # The page came from the host this request was sent to: the hub itself, reached
    # under another name or behind a proxy that changes the scheme.
    return sent.netloc == request.host.lower()


class Connection:
    """One open websocket: events out (filtered), client messages in."""

    def __init__(
        self,
        request: web.Request,
        socket: web.WebSocketResponse,
        subscription: Subscription,
        identity: Identity,
        *,
        after: int | None = None,
    ) -> None:
        self.app = request.config_dict
        self.socket = socket
        self.subscription = subscription
        self.after = after
        # Live events up to this id were sent by the replay: skip them (see _catch_up).
        self._replayed_through = 0
        self.credential = credential_of(request, identity)
        self._loop = asyncio.get_running_loop()
        self._closing = False
        # Judged from the user as authenticated for this request (teams included), so
        # the connection sees exactly what the handshake allowed.
        self.viewer = Viewer.of(identity.user)
        # Bumped by each reload of our own, so an older bulk reload cannot undo it.
        self._viewer_version = 0
        # Why access ended, once the bulk reload found it so: nothing more is sent.
        self._ended: str | None = None
        self._closer: asyncio.Task[bool] | None = None
        self._refresh = self.app.get(appkeys.VIEWER_REFRESH)
        self.typing = TypingIndicators(
            self.app[appkeys.SESSIONS],
            self.app[appkeys.BUS],
            identity.user.id,
            identity.user.name,
            relay=signals_of(self.app).typing,
        )

    async def run(self) -> None:
        """Serve the connection until either side closes it."""
        pump = asyncio.create_task(self._pump(), name="ws-pump")
        if self._refresh is not None:
            self._refresh.join(self)
        try:
            await self._read()
        finally:
            if self._refresh is not None:
                self._refresh.leave(self)
            if not self._closing:
                pump.cancel()
            try:
                # Shielded: the server may cancel this handler once the client is gone,
                # and the others must still see the typing indicator go away.
                await asyncio.shield(self.typing.stop_all())
            finally:
                await asyncio.gather(pump, return_exceptions=True)

    async def _read(self) -> None:
        async for message in self.socket:
            if message.type is WSMsgType.TEXT:
                reply = await self._handle(message.data)
            elif message.type is WSMsgType.BINARY:
                reply = {"type": "error", "message": "send JSON text frames, not binary"}
            else:
                continue  # pings and pongs are aiohttp's; errors end the loop
            if reply is not None:
                await self._send(reply)

    async def _handle(self, text: str) -> dict[str, object] | None:
        try:
            message = parse_client_message(text)
        except BadMessage as err:
            return {"type": "error", "message": str(err)}
        if not isinstance(message, TypingMessage):
            return {"type": "pong"}
        try:
            shown = await self.typing.update(self.viewer, message, self._loop.time())
        except (SQLAlchemyError, OSError):
            log.warning("typing of user %s not announced", self.viewer.id, exc_info=True)
            return {"type": "error", "message": "typing not announced; try again"}
        if not shown:
            return {
                "type": "error",
                "message": f"conversation {message.conversation_id} not found",
            }
        return None

    async def _pump(self) -> None:
        """Catch the client up, then forward the events the user may see; close when
        the subscription ends."""
        try:
            await self._catch_up()
            async for event in self.subscription:
                if self.subscription.overflowed:
                    continue  # about to end: the client reconnects and catches up
                if self._ended is not None:
                    return  # closing with 4401: nothing more for this user
                if self._needs_reload(event):
                    ended = await self._reload_viewer()
                    if ended is not None:
                        await self._close(CLOSE_ACCESS_ENDED, ended.encode())
                        return
                if event.id is not None and event.id <= self._replayed_through:
                    continue  # published after we subscribed, but already replayed
                if self._should_send(event):
                    await self.socket.send_str(event.wire())
        except ConnectionError:
            return  # the client went away; the reader sees it too
        except Exception:
            log.exception("websocket of user %s failed", self.credential.user_id)
            await self._close(WSCloseCode.INTERNAL_ERROR, b"internal error; reconnect")
            return
        if self.subscription.overflowed:
            # The client fell too far behind: what it shows can no longer be patched up.
            await self._close(CLOSE_TOO_SLOW, b"too slow; reconnect and refetch")
        else:
            await self._close(WSCloseCode.GOING_AWAY, b"server shutting down")

    async def _catch_up(self) -> None:
        """The first frames: without ``after``, a ``hello`` naming the newest event id
        (where a later reconnect asks to start); with it, the logged events the user
        missed since, or ``resync`` when the log no longer holds them all.

        The subscription was opened before the log is read, so an event is either in
        the replay, or arrives live, or both (published after subscribing but logged
        before the read): the live copy of a replayed id is skipped.
        """
        journal = self.app[appkeys.BUS].journal
        if self.after is None:
            newest = 0
            if journal is not None:
                try:
                    newest = await journal.last_id()
                except SQLAlchemyError:
                    # 0: a reconnect from there is answered resync, never a silent gap.
                    log.warning("realtime log unreadable; hello without an id", exc_info=True)
            await self.socket.send_json({"type": HELLO, "data": {}, "last_event_id": newest})
            return
        if journal is None:  # a bus without a log (outside the app): nothing to replay
            await self.socket.send_json({"type": RESYNC, "data": {}})
            return
        try:
            replay = await journal.replay(self.after)
        except SQLAlchemyError:
            # No id to continue from: the client keeps its own, which is safe.
            log.warning("realtime log unreadable; telling the client to resync", exc_info=True)
            await self.socket.send_json({"type": RESYNC, "data": {}})
            return
        if replay.resync:
            await self.socket.send_json(
                {"type": RESYNC, "data": {}, "last_event_id": replay.last_id}
            )
            return
        for event in replay.events:
            if self._should_send(event):
                await self.socket.send_str(event.wire())
        self._replayed_through = replay.through

    def _needs_reload(self, event: HubEvent) -> bool:
        if event.type == RESYNC:
            return True  # a user.updated may have been missed
        if (
            event.type in (USER_UPDATED, ACCESS_CHANGED)
            and event.data.get("user_id") == self.credential.user_id
        ):
            return True
        # Memberships decide only what team-restricted agents see.
        return event.type == TEAM_UPDATED and self._team_restricted

    @property
    def _team_restricted(self) -> bool:
        return not self.viewer.sees_everything and self.viewer.visibility == "team"

    def _should_send(self, event: HubEvent) -> bool:
        if event.type == "typing" and event.data.get("user_id") == self.viewer.id:
            return False  # one's own typing is no news
        return event.visible_to(self.viewer)

    async def _reload_viewer(self) -> str | None:
        """Reload the user's visibility facts; when their access has ended, the close
        reason that says why (``None`` while it holds)."""
        async with self.app[appkeys.SESSIONS]() as db:
            facts = await load_access(db, [self.credential])
        verdict = facts.judge(self.credential, utcnow())
        self._viewer_version += 1
        if isinstance(verdict, str):
            return verdict
        self.viewer = verdict
        return None

    @property
    def viewer_version(self) -> int:
        """How many times this connection reloaded its own viewer."""
        return self._viewer_version

    def refreshed(self, verdict: Viewer | str, version: int) -> None:
        """The bulk reload's verdict (``ViewerRefresh``), read when our own reloads
        numbered ``version``: ignored if we reloaded since (ours is newer)."""
        if version != self._viewer_version or self._closing or self._ended is not None:
            return
        if isinstance(verdict, Viewer):
            self.viewer = verdict
            return
        # The pump sends nothing from now on; the close ends the read loop, and with it
        # the connection.
        self._ended = verdict
        self._closer = asyncio.create_task(
            self.socket.close(code=CLOSE_ACCESS_ENDED, message=verdict.encode()),
            name="ws-access-ended",
        )

    async def _send(self, frame: dict[str, object]) -> None:
        with contextlib.suppress(ConnectionError):  # closing: the read loop ends by itself
            await self.socket.send_json(frame)

    async def _close(self, code: int, message: bytes) -> None:
        self._closing = True
        await self.socket.close(code=code, message=message)
