"""Installed plugins with kind, version, distribution and status; broken ones with their error."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from admin_ui.rendering import render
from hub import appkeys
from hub.plugin_manager import HubPluginManager, PluginInfo

routes = web.RouteTableDef()

# Problems first: a broken plugin is what an admin opens this page to find.
STATUS_ORDER = {"broken": 0, "blocked": 1, "ok": 2}


@dataclass(frozen=True)
class ProvidedType:
    """A channel or CRM type a plugin provides, as the page shows it."""

    name: str
    title: str
    available: bool = True
    """False while its plugin is not built yet (``ChannelType.available``)."""


@dataclass(frozen=True)
class PluginRow:
    """One plugin on the page: the loader's facts plus the titles of what it provides."""

    info: PluginInfo
    channel_types: list[ProvidedType]
    crm_types: list[ProvidedType]


def plugin_rows(manager: HubPluginManager) -> list[PluginRow]:
    """Every installed plugin, broken ones first, then blocked, then working, each by name."""
    rows = []
    for info in manager.plugins.values():
        missing = set(manager.not_available(info))
        channels = [
            ProvidedType(
                name,
                _title(manager.channel_types.get(name), name),
                name not in missing,
            )
            for name in info.channel_types
        ]
        crms = [
            ProvidedType(name, _title(manager.crm_types.get(name), name), name not in missing)
            for name in info.crm_types
        ]
        rows.append(PluginRow(info, channels, crms))
    rows.sort(key=lambda row: (STATUS_ORDER.get(row.info.status, 3), row.info.name))
    return rows


def _title(kind: object, fallback: str) -> str:
    title = getattr(kind, "title", None)
    return title if isinstance(title, str) and title else fallback


@routes.get("/admin/plugins", name="admin.plugins")
async def plugins_page(request: web.Request) -> web.Response:
    """The plugins page: what is installed, whether it works, and how to add more."""
    rows = plugin_rows(request.config_dict[appkeys.PLUGINS])
    counts = {status: sum(row.info.status == status for row in rows) for status in STATUS_ORDER}
    return await render(
        request,
        "admin/plugins/list.html",
        {"rows": rows, "counts": counts, "section": "plugins"},
    )
