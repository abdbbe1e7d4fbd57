"""Wiring: the start/stop generators (aiohttp ``cleanup_ctx``) that build the app's
shared state and run its pipes' workers (inbound, polling, outbox, outgoing webhooks,
media, CRM); ``hub.app`` lists them in start order. The periodic jobs are wired in
``hub.wiring_jobs``.

This is the one place that reaches into every package to set up what the packages below
receive through ``hub.appkeys`` or as arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
from aiohttp import web

from hub import __version__, appkeys
from hub.auth.throttle import LoginThrottle, MemoryThrottle
from hub.automation.bulk_macros import bulk_actions
from hub.channels.agent_signals import ProviderSignals
from hub.channels.definitions import load_declared_at_start
from hub.channels.group_commit import GroupCommitter
from hub.channels.inbound import InboundPipe
from hub.channels.media_jobs import FetcherState, fetch_options, run_fetcher, wake_on_inbound
from hub.channels.outbound import Outbox
from hub.channels.polling import Poller
from hub.channels.registry import ChannelInstances, ChannelTypes, follow_channel_changes
from hub.channels.type_sync import follow_type_changes
from hub.channels.webhook_events import DeliveryRecorder
from hub.channels.webhook_worker import WebhookWorker, prune_deliveries
from hub.crm.calls import CrmCalls
from hub.crm.engine import CrmEngine
from hub.crm.env import CrmEnv
from hub.crm.registry import CrmInstances
from hub.events.factory import create_bus
from hub.events.journal import EventJournal
from hub.events.redis_target import CHANNEL, RedisTarget
from hub.events.work import PRE_COMMIT
from hub.inbox.intake_batch import prefetch
from hub.inbox.intake_fast import take_fast
from hub.inbox.jobs import (
    run_periodically,
)
from hub.inbox.routing import BUILTIN_NAME, DEFAULT_ROUTING
from hub.media.store import media_store_of
from hub.observers import Observers
from hub.plugin_manager import HubPluginManager, load_plugins
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.job_lock import run_exclusively
from hub.store.pruning import PRUNE_EVERY_SECONDS

log = logging.getLogger(__name__)


async def database_context(app: web.Application) -> AsyncIterator[None]:
    """The database engine and its session factory."""
    settings = app[appkeys.SETTINGS]
    engine = create_engine(
        settings.effective_database_url, busy_timeout=settings.database_busy_timeout
    )
    app[appkeys.ENGINE] = engine
    sessions = create_sessionmaker(engine)
    # Outgoing webhooks' deliveries are written in the transaction of the change itself.
    recorder = DeliveryRecorder(timedelta(hours=settings.webhook_retry_hours))
    sessions.configure(info={PRE_COMMIT: recorder})
    app[appkeys.SESSIONS] = sessions
    app[appkeys.DELIVERY_RECORDER] = recorder
    yield
    await engine.dispose()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once a process: loading the CA bundle takes
    ~0.1 s, paid on every app start otherwise (each test starts one)."""
    return httpx.create_ssl_context()


async def http_client_context(app: web.Application) -> AsyncIterator[None]:
    """The one outgoing HTTP client the plugins share."""
    client = httpx.AsyncClient(
        verify=_tls_context(),
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": f"inbox-hub/{__version__}"},
        follow_redirects=False,
    )
    app[appkeys.HTTP] = client
    yield
    await client.aclose()


async def bus_context(app: web.Application) -> AsyncIterator[None]:
    """The event bus named by ``HUB_BUS_URL``, connected while the app runs, with the
    realtime event log its publishers append to (in the database)."""
    settings = app[appkeys.SETTINGS]
    bus = create_bus(settings.bus_url)
    bus.journal = EventJournal(app[appkeys.SESSIONS], keep_seconds=settings.realtime_replay_seconds)
    await bus.start()
    app[appkeys.BUS] = bus
    yield
    await bus.stop()


async def throttle_context(app: web.Application) -> AsyncIterator[None]:
    """The login throttle: in Redis when the bus is (so every process shares the counts,
    in the bus's namespace), else in this process's memory."""
    settings = app[appkeys.SETTINGS]
    limits = (settings.login_max_failures, settings.login_window_seconds)
    throttle: LoginThrottle
    if settings.bus_url.startswith(("redis://", "rediss://")):
        # Only with the Redis bus is the Redis client loaded (hub.events.factory too).
        from hub.auth.throttle_redis import RedisThrottle

        target = RedisTarget.parse(settings.bus_url)
        prefix = target.channel.removesuffix(CHANNEL) + "inbox-hub:login:"
        throttle = RedisThrottle(target.url, prefix, *limits)
    else:
        throttle = MemoryThrottle(*limits)
    app[appkeys.THROTTLE] = throttle
    yield
    await throttle.close()


async def channels_context(app: web.Application) -> AsyncIterator[None]:
    """The channel types and instances, the agents' provider signals, and the
    declared types kept in step with other processes."""
    manager = app[appkeys.PLUGINS]
    app[appkeys.CHANNELS] = ChannelInstances(
        ChannelTypes(manager.channel_types),
        app[appkeys.CIPHER],
        app[appkeys.HTTP],
        app[appkeys.SETTINGS],
        files=media_store_of(app, app[appkeys.SETTINGS]),
    )
    app[appkeys.SIGNALS] = ProviderSignals(app[appkeys.SESSIONS], app[appkeys.CHANNELS])
    app[appkeys.BULK_ACTIONS] = bulk_actions(app[appkeys.CHANNELS])
    types = app[appkeys.CHANNELS].types
    await load_declared_at_start(app[appkeys.SESSIONS], types)
    follower = asyncio.create_task(
        follow_type_changes(app[appkeys.BUS], app[appkeys.SESSIONS], types)
    )
    yield
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    await app[appkeys.SIGNALS].drain()


def plugins_context(
    injected: HubPluginManager | None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The plugin manager (``injected``, else every installed plugin) and its observers."""

    async def plugins(app: web.Application) -> AsyncIterator[None]:
        settings = app[appkeys.SETTINGS]
        manager = injected or load_plugins(
            autoload=not settings.disable_plugin_autoload,
            allow=settings.plugins_allow,
            blocked=settings.plugins_blocked,
            trace=settings.plugin_trace,
        )
        # Built-ins are plugins: the core's defaults are trylast hookimpls a plugin overrides.
        manager.register_builtin(DEFAULT_ROUTING, BUILTIN_NAME)
        app[appkeys.PLUGINS] = manager
        app[appkeys.OBSERVERS] = Observers(manager.pm)
        broken = [p.name for p in manager.plugins.values() if p.status == "broken"]
        log.info(
            "plugins: %d channel types, %d CRM types%s",
            len(manager.channel_types),
            len(manager.crm_types),
            f"; broken: {', '.join(broken)}" if broken else "",
        )
        yield

    return plugins


async def inbound_context(app: web.Application) -> AsyncIterator[None]:
    """Start and stop what the inbound pipe runs in the background (the group committer).

    Stopping drains the queue: every request already accepted is committed and answered.
    """
    settings = app[appkeys.SETTINGS]
    committer = GroupCommitter(
        app[appkeys.SESSIONS],
        app[appkeys.BUS],
        app[appkeys.OBSERVERS],
        batch_max=settings.inbound_batch_max,
        prepare=prefetch,
        fast=take_fast,
    )
    committer.start()
    app[appkeys.INBOUND] = InboundPipe(
        committer,
        app[appkeys.CHANNELS],
        max_events=settings.webhook_max_events,
        chunk_events=settings.inbound_chunk_events,
        max_depth=settings.webhook_max_depth,
        rejected_body_bytes=settings.rejected_body_bytes,
        rejected_per_minute=settings.webhook_rejected_per_minute,
    )
    # Other processes' channel changes reach this one's cached channel rows.
    follower = asyncio.create_task(follow_channel_changes(app[appkeys.BUS], app[appkeys.CHANNELS]))
    yield
    follower.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await follower
    await committer.stop()


async def polling_context(app: web.Application) -> AsyncIterator[None]:
    """Run the poll loops while the app runs (unless ``polling_enabled`` is off); stop
    them before the inbound pipe's committer stops, so no poll is left half stored."""
    poller = Poller(app)
    app[appkeys.POLLER] = poller
    if app[appkeys.SETTINGS].polling_enabled:
        poller.start()
    yield
    await poller.stop()


async def outbox_context(app: web.Application) -> AsyncIterator[None]:
    """Start the outbox worker with the app; stop it, letting deliveries finish, on cleanup."""
    outbox = Outbox(app)
    app[appkeys.OUTBOX] = outbox
    stop = asyncio.Event()
    worker = asyncio.create_task(outbox.run(stop))
    listener = asyncio.create_task(outbox.listen())
    yield
    stop.set()
    outbox.wake.set()
    # Sends in flight finish and record their outcome; past the grace they are cancelled
    # and their rows retried after the lease (with the same idempotency key).
    _, late = await asyncio.wait({worker}, timeout=app[appkeys.SETTINGS].shutdown_timeout)
    for task in [*late, listener]:
        task.cancel()
    await asyncio.gather(worker, listener, return_exceptions=True)


async def webhooks_context(app: web.Application) -> AsyncIterator[None]:
    """Start the outgoing-webhook worker and its retention job; stop them on cleanup,
    letting attempts in flight finish (past the grace, they are retried after the lease)."""
    settings = app[appkeys.SETTINGS]
    worker_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    worker = WebhookWorker(app[appkeys.SESSIONS], settings, app[appkeys.CIPHER], worker_id)
    app[appkeys.WEBHOOKS] = worker
    app[appkeys.DELIVERY_RECORDER].on_subscriptions = worker.note_subscriptions
    sessions = app[appkeys.SESSIONS]

    async def prune_webhook_deliveries_job() -> None:
        await prune_deliveries(sessions, settings.webhook_keep_days)

    async def prune_webhook_deliveries_once() -> None:
        # One process at a time: the others would only delete the same rows meanwhile.
        await run_exclusively(
            app[appkeys.ENGINE], "prune_webhook_deliveries", prune_webhook_deliveries_job
        )

    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(worker.run(stop)),
        asyncio.create_task(
            run_periodically(prune_webhook_deliveries_once, every=PRUNE_EVERY_SECONDS, stop=stop)
        ),
    ]
    listener = asyncio.create_task(worker.listen(app[appkeys.BUS]))
    yield
    stop.set()
    worker.wake.set()
    _, late = await asyncio.wait(tasks, timeout=settings.shutdown_timeout)
    for task in [*late, listener]:
        task.cancel()
    await asyncio.gather(*tasks, listener, return_exceptions=True)
    await worker.close()


async def media_context(app: web.Application) -> AsyncIterator[None]:
    """Start the inbound-media fetcher with the app; stop it on cleanup, letting a pass
    in progress finish its transaction."""
    app[appkeys.MEDIA_FETCHER] = FetcherState()
    options = fetch_options(app)
    if not options.background:
        yield
        return
    stop, wake = asyncio.Event(), asyncio.Event()
    runner = asyncio.create_task(run_fetcher(app, stop, wake))
    listener = asyncio.create_task(wake_on_inbound(app, wake))
    yield
    stop.set()
    wake.set()
    listener.cancel()
    _, late = await asyncio.wait([runner], timeout=app[appkeys.SETTINGS].shutdown_timeout)
    for task in late:
        task.cancel()
    await asyncio.gather(runner, listener, return_exceptions=True)


async def crm_context(app: web.Application) -> AsyncIterator[None]:
    """The CRM engine: its plugin objects, and its periodic jobs while the app runs
    (pulls, transcripts, bulk links resumed after a restart, pushes on contact changes)."""
    sessions = app[appkeys.SESSIONS]
    env = CrmEnv(
        sessions=sessions,
        bus=app[appkeys.BUS],
        instances=CrmInstances(
            app[appkeys.PLUGINS].crm_types, app[appkeys.CIPHER], app[appkeys.HTTP], sessions
        ),
        calls=CrmCalls(sessions),
    )
    engine = CrmEngine(env, app.get(appkeys.CRM_OPTIONS))
    app[appkeys.CRM] = engine
    engine.start()
    yield
    await engine.stop(grace=app[appkeys.SETTINGS].shutdown_timeout)
