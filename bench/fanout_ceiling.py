"""The fan-out bench's ceiling: a bare aiohttp server that sends each webhook's body to
every connected websocket, with no database, no visibility and no event log.

python bench/fanout_ceiling.py PORT

``GET /ws`` opens a socket (first frame ``{"type": "hello"}``); ``POST /webhook`` parses
the JSON body, wraps it as ``{"type": "message.created", "data": …}``, encodes that
once and sends the same text to every socket before answering 200: the simplest fan-out
aiohttp allows, and the most this machine and load generator manage.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web

SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Hold a socket open until the client closes it."""
    socket = web.WebSocketResponse(compress=False)
    await socket.prepare(request)
    await socket.send_str('{"type": "hello"}')
    request.app[SOCKETS].add(socket)
    try:
        async for _ in socket:
            pass
    finally:
        request.app[SOCKETS].discard(socket)
    return socket


async def webhook(request: web.Request) -> web.Response:
    """Parse the body, send it to every socket, acknowledge."""
    body = json.loads(await request.read())
    frame = json.dumps({"type": "message.created", "data": body})
    for socket in list(request.app[SOCKETS]):
        if not socket.closed:
            await socket.send_str(frame)
    return web.json_response({"ok": True})


async def ready(request: web.Request) -> web.Response:
    """Answer once listening."""
    return web.json_response({"ok": True})


def main() -> None:
    """Serve on 127.0.0.1:PORT until terminated."""
    app = web.Application()
    app[SOCKETS] = set()
    app.router.add_get("/ws", websocket)
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/ready", ready)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
