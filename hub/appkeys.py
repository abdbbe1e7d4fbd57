"""Typed keys for the application's shared state (aiohttp's ``web.AppKey``); no globals."""

from __future__ import annotations

import httpx
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.auth.throttle import LoginThrottle
from hub.channels.registry import ChannelInstances
from hub.events.bus import EventBus
from hub.inbox.views import CountsCache
from hub.metrics import Metrics
from hub.observers import Observers
from hub.plugin_manager import HubPluginManager
from hub.settings import Settings
from hub.store.crypto import ConfigCipher

SETTINGS = web.AppKey("settings", Settings)
SECRET_KEY = web.AppKey("secret_key", str)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
PLUGINS = web.AppKey("plugins", HubPluginManager)
HTTP = web.AppKey("http", httpx.AsyncClient)
CIPHER = web.AppKey("cipher", ConfigCipher)
METRICS = web.AppKey("metrics", Metrics)
THROTTLE = web.AppKey("throttle", LoginThrottle)
BUS = web.AppKey("bus", EventBus)
COUNTS_CACHE = web.AppKey("counts_cache", CountsCache)
OBSERVERS = web.AppKey("observers", Observers)
CHANNELS = web.AppKey("channels", ChannelInstances)
