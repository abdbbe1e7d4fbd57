"""``ChannelContract``: the conformance tests every channel plugin runs.

Subclass it in a module pytest collects, under a name starting with ``Test``, and give
it the type, a valid config, sample requests and the provider mocks::

    class TestAcmeContract(ChannelContract):
        channel_type = AcmeChannel

        def channel_config(self) -> dict[str, Any]:
            return {"api_key": "k"}

        def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
            return [signed_json(config["webhook_secret"], {...}), ...]

        def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
            return signed_json(config["webhook_secret"], {..."type": "poll"...})

        def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
            router.post("https://api.acme.example/messages").respond(200, json={"id": "p-1"})

        def send_error_cases(self) -> list[SendErrorCase]:
            return [SendErrorCase("server error", server_error, RetryLater), ...]

The unit checks call the plugin object directly; the pipe checks run it inside a real
hub (the ``hub_api`` fixture of ``hub.testing.plugin``) through HTTP: the webhook pipe,
the REST API and the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
import respx
from pydantic import BaseModel

from hub.contract import (
    ChannelContext,
    ChannelType,
    Choice,
    InboundEvent,
    InboundMessage,
    OutboundMessage,
    PluginError,
    StatusUpdate,
    UnsupportedPart,
    WebhookRequest,
)
from hub.testing.harness import HubApi
from hub.testing.webhooks import WebhookSample

MockProvider = Callable[[respx.MockRouter, dict[str, Any]], object]
"""Adds respx routes to the router for a channel with this (revealed) config."""


@dataclass(frozen=True)
class SendErrorCase:
    """A provider error ``send`` must translate: ``mock`` sets it up, ``raises`` is the
    typed error expected (an instance of it, so a subclass such as ``WindowClosed`` of
    ``PermanentFailure`` passes where ``PermanentFailure`` is expected)."""

    name: str
    mock: MockProvider
    raises: type[PluginError]


def _messages(events: tuple[Any, ...]) -> list[InboundMessage]:
    return [event for event in events if isinstance(event, InboundMessage)]


class ChannelContract:
    """Conformance tests of one channel type; subclass it as ``Test<Something>``.

    Provide ``channel_type`` and ``inbound_samples``/``unsupported_sample``; override the
    other methods where the defaults do not fit. Sample builders receive the channel's
    config with its secrets revealed (generated ones included), so they can sign.
    """

    channel_type: ClassVar[type[ChannelType[Any]]]
    """The channel type under test."""

    # --- what the author provides -------------------------------------------------------

    def channel_config(self) -> dict[str, Any]:
        """A valid config, as an admin would post it (secrets may be left to generate)."""
        return {}

    def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
        """At least two requests carrying different inbound messages."""
        raise NotImplementedError("return at least two sample webhook requests")

    def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
        """A request carrying content the plugin cannot translate (e.g. a poll)."""
        raise NotImplementedError("return a sample request with unsupported content")

    def mock_connect(self, router: respx.MockRouter) -> None:
        """Mock what ``connect()`` calls when the channel is created (default: nothing)."""

    def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
        """Mock the provider accepting a message (default: ``send`` calls no HTTP)."""

    def send_error_cases(self) -> list[SendErrorCase]:
        """The provider errors ``send`` maps, each to its typed error."""
        return []

    def outbound_message(self, recipient_id: str) -> OutboundMessage:
        """The reply the unit checks send to ``recipient_id``."""
        return OutboundMessage(
            message_id=1,
            conversation_id=1,
            recipient_id=recipient_id,
            idempotency_key="hub-msg-1",
            text="a reply from the channel contract",
        )

    # --- fixtures -------------------------------------------------------------------------

    @pytest.fixture
    def hub_plugins(self) -> list[object]:
        """Load the type under test into the hub even when its package is not installed."""
        return [self.channel_type]

    # --- helpers --------------------------------------------------------------------------

    def revealed_config(self) -> dict[str, Any]:
        """``channel_config`` validated by the type's Config, secrets revealed."""
        from hub.channels.registry import stored_config

        return stored_config(self._config_model())

    def _config_model(self) -> BaseModel:
        # Validated once per test (pytest makes an instance per test), so a secret the
        # Config generates is the same one the samples are signed with.
        cached: BaseModel | None = self.__dict__.get("_hub_config")
        if cached is None:
            cached = self.channel_type.Config.model_validate(self.channel_config())
            self.__dict__["_hub_config"] = cached
        return cached

    @asynccontextmanager
    async def plugin(self, config: dict[str, Any] | None = None) -> AsyncIterator[ChannelType[Any]]:
        """The plugin object, built as the hub builds it, with a real HTTP client;
        with ``config`` (e.g. a created channel's revealed config) instead of the sample."""
        model = (
            self._config_model()
            if config is None
            else self.channel_type.Config.model_validate(config)
        )
        async with httpx.AsyncClient() as http:
            context = ChannelContext(
                channel_id=1, webhook_url="https://hub.example.test/webhooks/1", http=http
            )
            yield self.channel_type(model, context)

    @staticmethod
    def webhook_request(sample: WebhookSample) -> WebhookRequest:
        """The request the plugin sees for ``sample``, as the inbound pipe builds it."""
        return WebhookRequest(
            method=sample.method,
            url="https://hub.example.test/webhooks/1",
            headers=dict(sample.headers),
            query=dict(sample.query),
            body=sample.body,
        )

    async def normalized_events(
        self, sample: Any, config: dict[str, Any] | None = None
    ) -> list[InboundEvent]:
        """The events the plugin makes of ``sample`` (with ``config``, e.g. a created
        channel's, instead of the sample config): here, ``handle_webhook`` of the
        request; a polling contract delivers the sample and polls."""
        async with self.plugin(config) as plugin:
            result = await plugin.handle_webhook(self.webhook_request(sample))
        return list(result.events)

    async def _normalize(self, sample: Any) -> list[InboundMessage]:
        return _messages(tuple(await self.normalized_events(sample)))

    def _samples(self) -> list[WebhookSample]:
        samples = self.inbound_samples(self.revealed_config())
        assert len(samples) >= 2, "inbound_samples must return at least two requests"
        return samples

    # --- unit checks: the plugin object ---------------------------------------------------

    def test_contract_type_declares_its_identity_and_a_valid_config(self) -> None:
        """Name, title, description, SVG logo and a Config that takes the sample config."""
        for attr in ("name", "title", "description", "logo"):
            value = getattr(self.channel_type, attr, None)
            assert isinstance(value, str) and value.strip(), f"{attr} must be non-empty text"
        assert "<svg" in self.channel_type.logo, "logo must be an SVG document"
        assert isinstance(self._config_model(), BaseModel)

    @pytest.mark.asyncio
    async def test_contract_external_ids_are_stable_across_redelivery(self) -> None:
        """The same request normalized twice gives the same external ids."""
        for sample in self._samples():
            first = [m.external_id for m in await self._normalize(sample)]
            again = [m.external_id for m in await self._normalize(sample)]
            assert first, "each inbound sample must carry at least one message"
            assert first == again

    @pytest.mark.asyncio
    async def test_contract_external_ids_are_unique_across_samples(self) -> None:
        """Different messages get different external ids."""
        ids = [m.external_id for s in self._samples() for m in await self._normalize(s)]
        assert len(ids) == len(set(ids)), f"external ids repeat: {ids}"

    @pytest.mark.asyncio
    async def test_contract_timestamps_carry_a_zone(self) -> None:
        """Every normalized timestamp is zone-aware."""
        samples = [*self._samples(), self.unsupported_sample(self.revealed_config())]
        for sample in samples:
            for event in await self.normalized_events(sample):
                stamp = event.timestamp
                if isinstance(event, StatusUpdate) and stamp is None:
                    continue
                assert stamp is not None and stamp.utcoffset() is not None, event

    @pytest.mark.asyncio
    async def test_contract_an_address_written_to_first_is_the_sender_id(self) -> None:
        """A type that writes first (``address_of``) reads each inbound sender's id as that
        same id, so a reply to a first message lands on the identity the agent made; one
        that cannot refuses with a ``ValueError`` the agent is shown."""
        senders = {m.sender_id for s in self._samples() for m in await self._normalize(s)}
        for sender_id in senders:
            if self.channel_type.supports("address_of"):
                assert self.channel_type.address_of(sender_id) == sender_id, sender_id
            else:
                with pytest.raises(ValueError, match=r"\w"):
                    self.channel_type.address_of(sender_id)

    @pytest.mark.asyncio
    async def test_contract_unsupported_content_is_kept_as_unsupported(self) -> None:
        """Content the plugin cannot translate becomes an ``UnsupportedPart``, not nothing."""
        messages = await self._normalize(self.unsupported_sample(self.revealed_config()))
        parts = [p for m in messages for p in m.parts if isinstance(p, UnsupportedPart)]
        assert parts, "the unsupported sample must yield a message with an UnsupportedPart"
        assert all(p.raw_type for p in parts), "UnsupportedPart.raw_type must name the type"

    @pytest.mark.asyncio
    async def test_contract_send_returns_a_provider_id(self) -> None:
        """``send`` answers the provider's id for the message, as non-empty text."""
        config = self.revealed_config()
        recipient = (await self._normalize(self._samples()[0]))[0].sender_id
        with respx.mock(assert_all_called=False) as router:
            self.mock_send_success(router, config)
            async with self.plugin() as plugin:
                provider_id = await plugin.send(self.outbound_message(recipient))
        assert isinstance(provider_id, str) and provider_id

    @pytest.mark.asyncio
    async def test_contract_a_message_with_choices_is_sent(self) -> None:
        """A message offering ``choices`` (a CSAT survey's buttons) is sent like any
        other: as buttons by a type whose ``capabilities.choices`` covers them, else as
        its text alone (the core only adds choices a channel says it can show)."""
        if not self.channel_type.supports("send"):
            pytest.skip(f"{self.channel_type.__name__} does not send")
        config = self.revealed_config()
        recipient = (await self._normalize(self._samples()[0]))[0].sender_id
        assert self.channel_type.capabilities.choices >= 0
        message = self.outbound_message(recipient).model_copy(
            update={
                "choices": (
                    Choice(id="csat:1", title="1 · Poor"),
                    Choice(id="csat:2", title="2 · OK"),
                    Choice(id="csat:3", title="3 · Great"),
                )
            }
        )
        with respx.mock(assert_all_called=False) as router:
            self.mock_send_success(router, config)
            async with self.plugin() as plugin:
                provider_id = await plugin.send(message)
        assert isinstance(provider_id, str) and provider_id

    @pytest.mark.asyncio
    async def test_contract_provider_errors_map_to_typed_errors(self) -> None:
        """Each provider error the author lists raises its typed error from ``send``."""
        cases = self.send_error_cases()
        if not cases:
            pytest.skip(f"{self.channel_type.__name__} declares no provider errors")
        config = self.revealed_config()
        recipient = (await self._normalize(self._samples()[0]))[0].sender_id
        for case in cases:
            with respx.mock(assert_all_called=False) as router:
                case.mock(router, config)
                async with self.plugin() as plugin:
                    with pytest.raises(case.raises) as caught:
                        await plugin.send(self.outbound_message(recipient))
            assert str(caught.value), f"{case.name}: the error must say what went wrong"

    # --- pipe checks: the plugin inside a real hub ----------------------------------------

    async def _channel(self, hub_api: HubApi) -> tuple[int, dict[str, Any]]:
        with respx.mock(assert_all_called=False) as router:
            self.mock_connect(router)
            channel = await hub_api.create_channel(self.channel_type.name, self.channel_config())
        return channel.id, channel.config

    async def _post_ok(self, hub_api: HubApi, channel_id: int, sample: WebhookSample) -> None:
        response = await hub_api.post_webhook(channel_id, sample)
        assert 200 <= response.status < 300, f"{response.status}: {await response.text()}"

    async def deliver_through_pipe(
        self, hub_api: HubApi, channel_id: int, config: dict[str, Any], sample: Any
    ) -> None:
        """Bring ``sample`` into the hub as the provider would: post it to the webhook
        (a polling contract delivers it and lets the hub poll)."""
        await self._post_ok(hub_api, channel_id, sample)

    @pytest.mark.asyncio
    async def test_contract_redelivery_through_the_pipe_stores_one_message(
        self, hub_api: HubApi
    ) -> None:
        """A request posted twice (a provider's retry) leaves each message once in the inbox."""
        channel_id, config = await self._channel(hub_api)
        samples = self.inbound_samples(config)
        expected: list[str] = []
        for sample in samples[:2]:
            expected += [m.external_id for m in await self._normalize_with(config, sample)]
            await self._post_ok(hub_api, channel_id, sample)
            await self._post_ok(hub_api, channel_id, sample)
        stored = [m["external_id"] for m in await hub_api.channel_messages(channel_id)]
        assert sorted(stored) == sorted(expected)

    @pytest.mark.asyncio
    async def test_contract_unsupported_content_reaches_the_inbox_as_unsupported(
        self, hub_api: HubApi
    ) -> None:
        """The unsupported sample is stored and shown with an ``unsupported`` part."""
        channel_id, config = await self._channel(hub_api)
        await self.deliver_through_pipe(
            hub_api, channel_id, config, self.unsupported_sample(config)
        )
        stored = await hub_api.channel_messages(channel_id)
        assert stored, "the unsupported content was dropped"
        kinds = [part.get("kind") for m in stored for part in m.get("parts") or []]
        assert "unsupported" in kinds, f"no unsupported part among {stored}"

    @pytest.mark.asyncio
    async def test_contract_a_reply_is_delivered_with_the_provider_id(
        self, hub_api: HubApi
    ) -> None:
        """A reply queued through the API is sent by the outbox and keeps the provider id."""
        channel_id, config = await self._channel(hub_api)
        await self.deliver_through_pipe(
            hub_api, channel_id, config, self.inbound_samples(config)[0]
        )
        [conversation] = [c for c in await hub_api.conversations() if c["channel_id"] == channel_id]
        # Mocked before the reply is queued: the app's own outbox worker may send it first.
        with respx.mock(assert_all_called=False) as router:
            self.mock_send_success(router, config)
            reply = await hub_api.reply(int(conversation["id"]), "a reply through the pipe")
            delivered = await hub_api.delivered(int(reply["id"]))
        assert delivered["status"] == "sent", delivered
        assert delivered["external_id"], delivered

    async def _normalize_with(self, config: dict[str, Any], sample: Any) -> list[InboundMessage]:
        """Normalize with the channel's own (revealed) config, as the pipe does."""
        return _messages(tuple(await self.normalized_events(sample, config)))
