"""Typed keys for the application's shared state (aiohttp's ``web.AppKey``); no globals.

A leaf: the value types are imported for type checking only, so every package may read
the app's state through these keys without importing the packages that define it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Mapping

    import httpx
    import jinja2
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from admin_ui.urls import PageUrls
    from hub.auth.throttle import LoginThrottle
    from hub.auth.token_uses import TokenUses
    from hub.channels.agent_signals import ProviderSignals
    from hub.channels.inbound import InboundPipe
    from hub.channels.media_jobs import FetcherState, MediaFetchOptions
    from hub.channels.outbound import Outbox
    from hub.channels.polling import Poller
    from hub.channels.registry import ChannelInstances
    from hub.channels.webhook_worker import WebhookWorker
    from hub.crm.engine import CrmEngine, CrmOptions
    from hub.events.bus import EventBus
    from hub.inbox.bulk_actions import BulkAction
    from hub.inbox.view_counts import CountsCache
    from hub.media.store import MediaStore
    from hub.metrics import Metrics
    from hub.observers import Observers
    from hub.plugin_manager import HubPluginManager
    from hub.realtime.viewers import ViewerRefresh
    from hub.settings import Settings
    from hub.store.crypto import ConfigCipher

# The core's state, set up by hub.app and hub.wiring.
SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
SECRET_KEY: web.AppKey[str] = web.AppKey("secret_key")
ENGINE: web.AppKey[AsyncEngine] = web.AppKey("engine")
SESSIONS: web.AppKey[async_sessionmaker[AsyncSession]] = web.AppKey("sessions")
PLUGINS: web.AppKey[HubPluginManager] = web.AppKey("plugins")
HTTP: web.AppKey[httpx.AsyncClient] = web.AppKey("http")
CIPHER: web.AppKey[ConfigCipher] = web.AppKey("cipher")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
THROTTLE: web.AppKey[LoginThrottle] = web.AppKey("throttle")
TOKEN_USES: web.AppKey[TokenUses] = web.AppKey("token_uses")
BUS: web.AppKey[EventBus] = web.AppKey("bus")
COUNTS_CACHE: web.AppKey[CountsCache] = web.AppKey("counts_cache")
OBSERVERS: web.AppKey[Observers] = web.AppKey("observers")
CHANNELS: web.AppKey[ChannelInstances] = web.AppKey("channels")
# The bulk actions: the inbox's and the macro run, checked against the channels.
BULK_ACTIONS: web.AppKey[Mapping[str, BulkAction]] = web.AppKey("bulk_actions")

# The channel pipes and their workers.
INBOUND: web.AppKey[InboundPipe] = web.AppKey("inbound")
OUTBOX: web.AppKey[Outbox] = web.AppKey("outbox")
WEBHOOKS: web.AppKey[WebhookWorker] = web.AppKey("webhooks")
POLLER: web.AppKey[Poller] = web.AppKey("poller")
SIGNALS: web.AppKey[ProviderSignals] = web.AppKey("provider_signals")

# The CRM engine (connections, links, sync); tests put options here to turn its
# periodic jobs off and drive them themselves.
CRM: web.AppKey[CrmEngine] = web.AppKey("crm")
CRM_OPTIONS: web.AppKey[CrmOptions] = web.AppKey("crm_options")

# Media: the store (put another one here before the app starts, e.g. an object store),
# and the fetcher of inbound media (tests put options here to turn its loop off).
MEDIA_STORE: web.AppKey[MediaStore] = web.AppKey("media_store")
MEDIA_FETCH_OPTIONS: web.AppKey[MediaFetchOptions] = web.AppKey("media_fetch_options")
MEDIA_FETCHER: web.AppKey[FetcherState] = web.AppKey("media_fetcher_state")

# The web: open websockets (closed at shutdown), the UI's template environment and the
# URLs of its named page routes.
OPEN_SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("open_websockets")
VIEWER_REFRESH: web.AppKey[ViewerRefresh] = web.AppKey("websocket_viewer_refresh")
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates")
URLS: web.AppKey[PageUrls] = web.AppKey("page_urls")

# The demo's echo: its customers' answers on their way (cancelled at shutdown).
DEMO_ANSWERS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("demo_answers")
