"""``PollingChannelContract``: the conformance tests for a channel that pulls its events.

A polling channel (``ChannelType.poll``: an IMAP mailbox, a long-polling bot) has no
webhook request to post: its samples are whatever the author's ``deliver`` puts where
``poll`` finds them (for email: a mail APPENDed to the test IMAP server). The kit then
normalizes a sample by polling, and drives the hub's poller instead of its webhook::

    class TestMailContract(PollingChannelContract):
        channel_type = MailChannel

        def channel_config(self) -> dict[str, Any]:
            return {"host": "127.0.0.1", "port": self.server.port, ...}

        def inbound_samples(self, config: dict[str, Any]) -> list[bytes]:
            return [mail_one, mail_two]

        def unsupported_sample(self, config: dict[str, Any]) -> bytes:
            return a_mail_the_plugin_cannot_read

        async def deliver(self, config: dict[str, Any], sample: bytes) -> None:
            await self.server.append(config["username"], sample)

Every check of ``ChannelContract`` runs, with these differences:

- a sample is normalized by delivering it and polling (from the cursor the previous
  polls reached) until a poll brings nothing and keeps its cursor;
- redelivery is polling again from the cursor before the delivery (what happens after
  a crash before the hub stored a poll): the same external ids, and one stored message;
- the hub under test runs without its background poll loops; the pipe checks poll
  through its poller (``HubApi.poll_until_quiet``), events and cursor in one commit;
- two checks of its own: a poll with nothing new keeps the cursor it was given (so the
  hub writes nothing), and the type says it ``polls()``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from hub.contract import ChannelType, InboundEvent, InboundMessage
from hub.testing.contract import ChannelContract
from hub.testing.harness import HubApi

if TYPE_CHECKING:
    from hub.settings import Settings


class PollingChannelContract(ChannelContract):
    """Conformance tests of a channel type that polls; subclass it as ``Test<Something>``.

    Provide ``channel_type``, ``channel_config``, ``inbound_samples``,
    ``unsupported_sample`` (samples of any kind ``deliver`` takes) and ``deliver``.
    """

    max_polls: ClassVar[int] = 50
    """Polls one normalization may take before the kit calls the plugin stuck."""

    async def deliver(self, config: dict[str, Any], sample: Any) -> None:
        """Put ``sample`` where the channel with ``config`` finds it on its next poll."""
        raise NotImplementedError("put the sample where poll() finds it")

    # --- fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def hub_settings(self, hub_settings: Settings) -> Settings:
        """The hub without its background poll loops: the checks poll it themselves."""
        return hub_settings.model_copy(update={"polling_enabled": False})

    # --- helpers --------------------------------------------------------------------------

    def _cursors(self) -> dict[str, str | None]:
        # Per test (pytest makes an instance per test) and per config: where polls stand.
        cursors: dict[str, str | None] = self.__dict__.setdefault("_hub_cursors", {})
        return cursors

    async def poll_all(
        self, plugin: ChannelType[Any], cursor: str | None
    ) -> tuple[list[InboundEvent], str | None]:
        """Poll from ``cursor`` until a poll brings nothing and keeps its cursor."""
        events: list[InboundEvent] = []
        for _ in range(self.max_polls):
            result = await plugin.poll(cursor)
            events.extend(result.events)
            if not result.events and result.cursor == cursor:
                return events, cursor
            cursor = result.cursor
        raise AssertionError(f"poll still brought events after {self.max_polls} polls")

    async def _caught_up(self, plugin: ChannelType[Any], config: dict[str, Any]) -> str | None:
        """The cursor after everything delivered so far (polled once per test)."""
        key = json.dumps(config, sort_keys=True, default=str)
        cursors = self._cursors()
        if key not in cursors:
            _, cursors[key] = await self.poll_all(plugin, None)
        return cursors[key]

    async def normalized_events(
        self, sample: Any, config: dict[str, Any] | None = None
    ) -> list[InboundEvent]:
        """Deliver ``sample`` and poll: the events that brought."""
        revealed = config if config is not None else self.revealed_config()
        async with self.plugin(config) as plugin:
            before = await self._caught_up(plugin, revealed)
            await self.deliver(revealed, sample)
            events, after = await self.poll_all(plugin, before)
        self._cursors()[json.dumps(revealed, sort_keys=True, default=str)] = after
        return events

    async def deliver_through_pipe(
        self, hub_api: HubApi, channel_id: int, config: dict[str, Any], sample: Any
    ) -> None:
        """Deliver ``sample`` and let the hub poll until it has everything."""
        await self.deliver(config, sample)
        await hub_api.poll_until_quiet(channel_id)

    # --- unit checks ----------------------------------------------------------------------

    def test_contract_the_type_polls(self) -> None:
        """A polling type implements ``poll`` and says it ``polls()``."""
        assert self.channel_type.supports("poll"), "implement poll()"

    @pytest.mark.asyncio
    async def test_contract_external_ids_are_stable_across_redelivery(self) -> None:
        """Polling again from a cursor before the sample (a crash before the hub stored
        the poll) gives the same external ids."""
        config = self.revealed_config()
        async with self.plugin() as plugin:
            assert plugin.polls(), "a polling channel must answer polls() with True"
            for sample in self._samples():
                before = await self._caught_up(plugin, config)
                await self.deliver(config, sample)
                first, after = await self.poll_all(plugin, before)
                again, _ = await self.poll_all(plugin, before)
                ids = [e.external_id for e in first if isinstance(e, InboundMessage)]
                assert ids, "each inbound sample must carry at least one message"
                assert ids == [e.external_id for e in again if isinstance(e, InboundMessage)]
                self._cursors()[json.dumps(config, sort_keys=True, default=str)] = after

    @pytest.mark.asyncio
    async def test_contract_a_poll_with_nothing_new_keeps_the_cursor(self) -> None:
        """Once caught up, a poll returns no events and the very cursor it was given."""
        config = self.revealed_config()
        async with self.plugin() as plugin:
            await self.deliver(config, self._samples()[0])
            _, cursor = await self.poll_all(plugin, None)
            result = await plugin.poll(cursor)
        assert result.events == []
        assert result.cursor == cursor

    # --- pipe checks ----------------------------------------------------------------------

    @pytest.mark.asyncio
    async def test_contract_redelivery_through_the_pipe_stores_one_message(
        self, hub_api: HubApi
    ) -> None:
        """The hub polls a sample in; polled again from the cursor before it (a crash
        before the commit), it still holds each message once."""
        channel_id, config = await self._channel(hub_api)
        expected: list[str] = []
        for sample in self.inbound_samples(config)[:2]:
            before = await hub_api.poll_cursor(channel_id)
            await self.deliver(config, sample)
            assert await hub_api.poll_until_quiet(channel_id) >= 1, "the sample was not stored"
            await hub_api.set_poll_cursor(channel_id, before)
            assert await hub_api.poll_until_quiet(channel_id) == 0, "a repeat was stored"
        async with self.plugin(config) as plugin:
            events, _ = await self.poll_all(plugin, None)
        expected = [e.external_id for e in events if isinstance(e, InboundMessage)]
        stored = [m["external_id"] for m in await hub_api.channel_messages(channel_id)]
        assert sorted(stored) == sorted(set(expected))
