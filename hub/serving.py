"""Serving one hub process: the app until ``SIGTERM`` or ``SIGINT``, with what starting
it allocated kept out of the garbage collector's full collections. ``hub serve`` runs
this in its own process, or in each worker of ``hub serve --workers N``
(``hub.supervisor``)."""

from __future__ import annotations

import gc
import logging

from aiohttp import web

from hub.settings import Settings

log = logging.getLogger("hub")


def serve_one(settings: Settings, *, reuse_port: bool) -> None:
    """Serve in this process until SIGTERM or SIGINT; ``reuse_port`` shares the port
    with the supervisor's other workers."""
    from hub.app import create_app  # the whole hub: loaded once the command serves

    log.info("Inbox Hub listening on http://%s:%s", settings.host, settings.port)
    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)  # after every startup context
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.shutdown_timeout,
        access_log=None,
        print=None,
        handle_signals=True,
        reuse_port=reuse_port or None,
    )
    log.info("Inbox Hub stopped")


async def freeze_startup_heap(_app: web.Application) -> None:
    """Keep what starting the hub allocated (modules, plugins, the app's state: about
    175,000 objects) out of the garbage collector's full collections.

    Those objects live as long as the process, yet every full collection walked them
    all, stopping the event loop for 60-130 ms each time, every few seconds under load:
    the tail of page times and of a new message reaching the agents' screens (the inbox
    bench). After ``gc.freeze()`` a full collection walks only what came later. Only
    ``hub serve`` does this: tests build many apps in one process, and a frozen object
    is never collected. The command turned the collector off (``main``); the one
    collection here frees what the start left, and the collector runs again from now on.
    """
    gc.collect()
    gc.freeze()
    gc.enable()
    log.debug("garbage collector: %d startup objects frozen", gc.get_freeze_count())
