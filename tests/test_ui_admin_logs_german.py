"""The channels, CRM, plugins, logs, dead letters, audit log and reports pages in German
(the browser asks for it): headings, table heads, options, plural counts and the flash
a handler words all speak German; the same pages in English stay English."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import Channel, OutboxItem, User
from tests.factories import Factory
from tests.outbound_doubles import Script, queue_message, scripted_channel, scripted_manager
from tests.test_ui_inbound_log import flash, form_csrf
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
GERMAN = {**HTML, "Accept-Language": "de-DE,de;q=0.9"}


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    quiet = settings.model_copy(update={"outbox_poll_seconds": 3600})
    return await aiohttp_client(create_app(quiet, plugins=scripted_manager(Script())[0]))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await scripted_channel(factory, name="Laden")


async def page(hub: Client, path: str, headers: dict[str, str] = GERMAN) -> str:
    response = await hub.get(path, headers=headers)
    assert response.status == 200, path
    return await response.text()


async def test_the_admin_pages_speak_german_when_the_browser_asks(
    hub: Client,
    make_user: MakeUser,
    channel: Channel,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(hub, "owner@example.com")
    queued = await queue_message(factory, channel, "Hallo")
    async with db() as session:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == queued.item.id)
            .values(status="dead", attempts=3, last_error="down")
        )
        await session.commit()

    channels = await page(hub, "/admin/channels")
    assert '<html lang="de">' in channels
    assert "Kanal verbinden" in channels and "Fehlgeschlagene Zustellungen" in channels
    assert "Nur aktivierte" in channels and "Connect a channel" not in channels
    show = await page(hub, f"/admin/channels/{channel.id}")
    assert "Über diesen Kanal" in show and "Zugangsdaten bearbeiten" in show
    routing = await page(hub, f"/admin/channels/{channel.id}/routing")
    assert "Wer eine neue Unterhaltung erhält" in routing and "Niemand automatisch" in routing
    assert "Kanal verbinden" in await page(hub, "/admin/channels/new")

    dead = await page(hub, "/admin/dead-letters")
    assert "Unzustellbare Nachrichten" in dead and "Letzter Versuch" in dead
    assert "Unzustellbar: nach allen Versuchen aufgegeben" in dead
    retried = await hub.post(
        f"/admin/dead-letters/{queued.item.id}/retry",
        data={"csrf_token": form_csrf(dead), "back": "/admin/dead-letters"},
        headers=GERMAN,
    )
    assert "ist erneut eingereiht; sie wird sofort versucht" in flash(await retried.text())

    inbound = await page(hub, "/admin/inbound-log")
    assert "Eingangsprotokoll" in inbound and "Noch keine Webhook-Anfragen" in inbound
    audit = await page(hub, "/admin/audit-log")
    assert "Audit-Protokoll" in audit and "CSV exportieren" in audit
    plugins = await page(hub, "/admin/plugins")
    assert "Installierte Plugins" in plugins and "Plugins hinzufügen" in plugins
    crm = await page(hub, "/admin/crm")
    assert "Noch kein CRM verbunden" in crm and "CRM verbinden" in crm

    reports = await page(hub, "/reports")
    assert (
        "Berichte" in reports
        and "Nur Geschäftszeiten" in reports
        and '<label for="to">Bis ' in reports
    )
    assert "Nach Agent" in reports and "Tag für Tag" in reports
    heatmap = await page(hub, "/reports?tab=heatmap")
    assert "Eingehende Nachrichten nach Wochentag und Stunde" in heatmap and ">Mo." in heatmap
    bad = await hub.get("/reports?from=2026-03-05&to=2026-03-01", headers=GERMAN)
    assert bad.status == 422
    assert "Der letzte Tag kann nicht vor dem ersten liegen." in await bad.text()

    english = await page(hub, "/admin/channels", {**HTML, "Accept-Language": "en"})
    assert "Connect a channel" in english and "Kanal verbinden" not in english
