"""Observer hooks of conversation changes, run through the plugin kit's real hub.

The hub's own tests use ``hub.testing`` here exactly as a plugin author would: the
observer plugins are given through the ``hub_plugins`` fixture.
"""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from hub.contract import ConversationUpdated, hookimpl
from hub.testing import HubApi
from tests.factories import Factory

heard_sync: list[ConversationUpdated] = []
heard_async: list[ConversationUpdated] = []


@hookimpl
def _sync_observer(notice: ConversationUpdated) -> None:
    heard_sync.append(notice)


@hookimpl
async def _async_observer(notice: ConversationUpdated) -> None:
    await asyncio.sleep(0)  # really suspends, as an observer calling a service would
    heard_async.append(notice)


@hookimpl
def _failing_observer(notice: ConversationUpdated) -> None:
    raise RuntimeError(f"observer bug on conversation {notice.conversation_id}")


def _plugin(observer: object) -> SimpleNamespace:
    return SimpleNamespace(hub_conversation_updated=observer)


@pytest.fixture
def hub_database_url(db_url: str) -> str:
    """Run the kit's hub on the suite's database, so both engines are covered."""
    return db_url


@pytest.fixture
def hub_plugins() -> list[object]:
    """A failing observer first, then a sync and an async one."""
    heard_sync.clear()
    heard_async.clear()
    return [_plugin(_failing_observer), _plugin(_sync_observer), _plugin(_async_observer)]


async def test_hook_hub_conversation_updated(
    hub_api: HubApi, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    with caplog.at_level(logging.ERROR, logger="hub.observers"):
        closed = await hub_api.call(
            "POST", f"/api/v1/conversations/{conversation.id}/close", json={"note": "done"}
        )
        await hub_api.drain_observers()
    assert closed["status"] == "closed"
    for heard in (heard_sync, heard_async):
        [notice] = [n for n in heard if n.change == "closed"]
        assert notice.conversation_id == conversation.id
        assert notice.actor_id == hub_api.admin.user_id
    failures = [r for r in caplog.records if "hub_conversation_updated" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info and "observer bug" in str(failures[0].exc_info[1])


async def test_observers_hear_nothing_of_a_change_that_was_refused(
    hub_api: HubApi, factory: Factory
) -> None:
    channel = await factory.channel()
    conversation = await factory.conversation(channel, status="closed")
    response = await hub_api.client.post(
        f"/api/v1/conversations/{conversation.id}/close",
        json={},
        headers=dict(hub_api.admin.headers),
    )
    await hub_api.drain_observers()
    assert response.status == 409
    assert heard_sync == [] and heard_async == []
