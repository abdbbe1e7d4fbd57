"""The ingest bench's ceiling: a bare aiohttp handler that parses the JSON and answers 200.

python bench/ceiling_server.py PORT
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def webhook(request: web.Request) -> web.Response:
    """Read and parse the body, as any webhook receiver must, and acknowledge it."""
    json.loads(await request.read())
    return web.json_response({"ok": True})


async def ready(request: web.Request) -> web.Response:
    """Answer once listening."""
    return web.json_response({"ok": True})


def main() -> None:
    """Serve on 127.0.0.1:PORT until terminated."""
    app = web.Application()
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/ready", ready)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
