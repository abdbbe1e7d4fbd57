"""Loads plugins from the ``hub`` entry-point group, validates them, reports broken ones.

A broken plugin (raises on import, implements an unknown hook, returns an invalid type,
reuses a type name) is recorded with its error and left out; the hub keeps running.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import Any, Literal

import pluggy
from pydantic import BaseModel

from hub.contract import hookspecs
from hub.contract.channel import ChannelType
from hub.contract.crm import CrmType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hub"
PluginKind = Literal["channel", "crm", "channel+crm", "other"]


@dataclass
class PluginInfo:
    """What ``hub plugins list`` shows about one plugin."""

    name: str
    distribution: str
    version: str
    status: Literal["ok", "broken", "blocked"] = "ok"
    error: str | None = None
    channel_types: list[str] = field(default_factory=list)
    crm_types: list[str] = field(default_factory=list)

    @property
    def kind(self) -> PluginKind:
        """Whether the plugin provides channel types, CRM types, both or neither."""
        if self.channel_types and self.crm_types:
            return "channel+crm"
        if self.channel_types:
            return "channel"
        if self.crm_types:
            return "crm"
        return "other"


class HubPluginManager:
    """The hub's pluggy manager plus the registry of channel and CRM types."""

    def __init__(
        self,
        *,
        autoload: bool = True,
        allow: Iterable[str] = (),
        blocked: Iterable[str] = (),
        trace: bool = False,
    ) -> None:
        self.pm = pluggy.PluginManager("hub")
        self.pm.add_hookspecs(hookspecs)
        self.autoload = autoload
        self.allow = set(allow)
        self.blocked = set(blocked)
        self.plugins: dict[str, PluginInfo] = {}
        self.channel_types: dict[str, type[ChannelType[Any]]] = {}
        self.crm_types: dict[str, type[CrmType[Any]]] = {}
        if trace:
            self.pm.trace.root.setwriter(lambda message: log.info("hook: %s", message.rstrip()))
            self.pm.enable_tracing()

    def not_available(self, info: PluginInfo) -> list[str]:
        """The channel and CRM types of ``info`` whose plugin is not built yet
        (``available = False``): listed, but never connected."""
        kinds: list[tuple[str, object]] = [
            (name, self.channel_types.get(name)) for name in info.channel_types
        ]
        kinds += [(name, self.crm_types.get(name)) for name in info.crm_types]
        return [name for name, kind in kinds if getattr(kind, "available", True) is False]

    # --- loading -----------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Load every plugin of the ``hub`` entry-point group, honouring allow/block lists."""
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            self._load_entry_point(ep)

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = ep.dist
        info = PluginInfo(
            name=ep.name,
            distribution=dist.name if dist else "?",
            version=dist.version if dist else "?",
        )
        if ep.name in self.plugins:
            self._mark_broken(info, f"entry point name {ep.name!r} is already taken")
            self.plugins[f"{ep.name} ({info.distribution})"] = info
            return
        self.plugins[ep.name] = info
        if ep.name in self.blocked or (not self.autoload and ep.name not in self.allow):
            info.status = "blocked"
            self.pm.set_blocked(ep.name)
            return
        try:
            module = ep.load()
        except Exception as err:  # a plugin's import error must not take the hub down
            self._mark_broken(info, f"import failed: {type(err).__name__}: {err}")
            return
        self.register(module, info)

    def register(self, plugin: ModuleType | object, info: PluginInfo) -> None:
        """Register one plugin object and validate what it provides."""
        self.plugins.setdefault(info.name, info)
        try:
            self.pm.register(plugin, name=info.name)
        except Exception as err:  # pluggy refuses e.g. a hookimpl with wrong arguments
            self._mark_broken(info, f"registration failed: {err}")
            return
        unknown = self._unknown_hooks(plugin)
        if unknown:
            self.pm.unregister(plugin)
            self._mark_broken(info, f"implements unknown hooks: {', '.join(unknown)}")
            return
        coroutines = self._async_firstresult(plugin)
        if coroutines:
            self.pm.unregister(plugin)
            self._mark_broken(
                info,
                f"{', '.join(coroutines)} must not be async def: a coroutine is never None, "
                "so it would always win; return None to decline, or an awaitable",
            )
            return
        try:
            channel_types = self._call_register(plugin, "hub_register_channel_types")
            crm_types = self._call_register(plugin, "hub_register_crm_types")
            new_channels = self._validate_types(channel_types, ChannelType, self.channel_types)
            new_crms = self._validate_types(crm_types, CrmType, self.crm_types)
        except PluginInvalid as err:
            self.pm.unregister(plugin)
            self._mark_broken(info, str(err))
            return
        self.channel_types.update(new_channels)
        self.crm_types.update(new_crms)
        info.channel_types = sorted(new_channels)
        info.crm_types = sorted(new_crms)

    def register_builtin(self, plugin: object, name: str) -> None:
        """Register one of the core's own hook implementations (once; idempotent).

        Built-ins go through the same hooks as plugins, marked ``trylast`` where they are
        a default a plugin may override; they are not listed among the plugins.
        """
        if self.pm.get_plugin(name) is None:
            self.pm.register(plugin, name=name)

    # --- validation --------------------------------------------------------------------

    def _unknown_hooks(self, plugin: object) -> list[str]:
        # pluggy accepts an impl without a spec (it may be a later hub's hook); we don't.
        callers = self.pm.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers if caller.spec is None)

    def _async_firstresult(self, plugin: object) -> list[str]:
        # A firstresult hook stops at the first non-None answer, and a coroutine object is
        # one even when it would resolve to None: such an impl would shadow all others.
        found = []
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None or not caller.spec.opts.get("firstresult"):
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and inspect.iscoroutinefunction(impl.function):
                    found.append(caller.name)
        return sorted(found)

    def _call_register(self, plugin: object, hook_name: str) -> list[Any]:
        impl = getattr(plugin, hook_name, None)
        if impl is None or self.pm.parse_hookimpl_opts(plugin, hook_name) is None:
            return []
        if inspect.iscoroutinefunction(impl):
            raise PluginInvalid(f"{hook_name}() must not be async")
        try:
            result = impl()
        except Exception as err:
            raise PluginInvalid(f"{hook_name}() raised {type(err).__name__}: {err}") from err
        if not isinstance(result, list | tuple):
            raise PluginInvalid(f"{hook_name}() must return a list, got {type(result).__name__}")
        return list(result)

    @staticmethod
    def _validate_types(
        items: list[Any], base: type[Any], registry: dict[str, Any]
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for item in items:
            if not (isinstance(item, type) and issubclass(item, base)):
                raise PluginInvalid(f"{item!r} is not a {base.__name__} subclass")
            for attr in ("name", "title", "description", "logo"):
                if not isinstance(getattr(item, attr, None), str) or not getattr(item, attr):
                    raise PluginInvalid(f"{item.__name__}.{attr} must be a non-empty string")
            config = getattr(item, "Config", None)
            if not (isinstance(config, type) and issubclass(config, BaseModel)):
                raise PluginInvalid(f"{item.__name__}.Config must be a pydantic model")
            name: str = getattr(item, "name")  # noqa: B009 - checked a str above
            if name in registry or name in found:
                raise PluginInvalid(f"type name {name!r} is already registered")
            found[name] = item
        return found

    @staticmethod
    def _mark_broken(info: PluginInfo, error: str) -> None:
        info.status = "broken"
        info.error = error
        log.error("plugin %s (%s) is broken: %s", info.name, info.distribution, error)


class PluginInvalid(Exception):
    """A plugin provides something that breaks the contract."""


def load_plugins(
    *,
    autoload: bool = True,
    allow: Iterable[str] = (),
    blocked: Iterable[str] = (),
    trace: bool = False,
) -> HubPluginManager:
    """Build a plugin manager and load every installed plugin."""
    manager = HubPluginManager(autoload=autoload, allow=allow, blocked=blocked, trace=trace)
    manager.load_entry_points()
    return manager
