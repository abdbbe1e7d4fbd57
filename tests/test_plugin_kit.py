"""The plugin developers' kit (``hub.testing``): its fixtures, helpers and ChannelContract.

A small channel defined here passes the contract through the real pipes (on every engine
under test); broken variants of it prove each contract check can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx
from pydantic import BaseModel

from hub import appkeys
from hub.contract import (
    ChannelType,
    InboundMessage,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
    TextPart,
    UnsupportedPart,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
    hookimpl,
)
from hub.testing import ChannelContract, HubApi, SendErrorCase, WebhookSample, signed_json
from hub.testing.plugin import PluginUnderTestBroken, build_plugin_manager
from hub.testing.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, hub_signature

SERVICE = "https://kit.example.test"


class KitConfig(BaseModel):
    """The kit channel's one secret."""

    secret: str = "kit-secret"


class KitChannel(ChannelType[KitConfig]):
    """A well-behaved channel: signed JSON in, POST out, errors typed."""

    name = "kit_channel"
    title = "Kit channel"
    description = "A channel the kit's own tests run the contract against."
    logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    Config = KitConfig

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        headers = {k.lower(): v for k, v in request.headers.items()}
        stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        if headers.get(SIGNATURE_HEADER.lower()) != hub_signature(
            self.config.secret, stamp, request.body
        ):
            raise WebhookRejected(403, "bad signature")
        body = json.loads(request.body)
        part: Any = (
            TextPart(text=body["text"]) if "text" in body else UnsupportedPart(raw_type="poll")
        )
        return WebhookResult(events=(self._message(body, part),))

    def _message(self, body: dict[str, Any], part: Any) -> InboundMessage:
        return InboundMessage(
            external_id=body["id"],
            sender_id="contact-1",
            timestamp=datetime(2024, 5, 1, 12, tzinfo=UTC),
            parts=(part,),
            raw=body,
        )

    async def send(self, message: OutboundMessage) -> str:
        response = await self.context.http.post(f"{SERVICE}/send", json={"text": message.text})
        if response.status_code >= 500:
            raise RetryLater(f"service answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentFailure(f"http_{response.status_code}", "refused")
        return str(response.json()["id"])


def _answer(status: int) -> Any:
    return lambda router, config: router.post(f"{SERVICE}/send").respond(status)


class KitContract(ChannelContract):
    """The contract's inputs for ``KitChannel`` (not collected: no ``Test`` prefix)."""

    channel_type: Any = KitChannel

    def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
        return [
            signed_json(config["secret"], {"id": "k-1", "text": "one"}),
            signed_json(config["secret"], {"id": "k-2", "text": "two"}),
        ]

    def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
        return signed_json(config["secret"], {"id": "k-poll"})

    def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
        router.post(f"{SERVICE}/send").respond(200, json={"id": "kit-7"})

    def send_error_cases(self) -> list[SendErrorCase]:
        return [
            SendErrorCase("outage", _answer(503), RetryLater),
            SendErrorCase("refused", _answer(422), PermanentFailure),
        ]


@pytest.fixture
def hub_database_url(db_url: str) -> str:
    """Run the kit's hub on the suite's database, so both engines are covered."""
    return db_url


class TestKitChannelPassesTheContract(KitContract):
    """Every check of the contract, unit and pipe, passes for a conforming channel."""


# --- each check can fail -----------------------------------------------------------------


class UnstableIds(KitChannel):
    """Gives a new external id on every delivery."""

    name = "unstable_ids"

    def _message(self, body: dict[str, Any], part: Any) -> InboundMessage:
        return super()._message({**body, "id": uuid.uuid4().hex}, part)


class SameIds(KitChannel):
    """Gives every message the same external id."""

    name = "same_ids"

    def _message(self, body: dict[str, Any], part: Any) -> InboundMessage:
        return super()._message({**body, "id": "always"}, part)


class DropsUnsupported(KitChannel):
    """Turns unsupported content into empty text instead of keeping it."""

    name = "drops_unsupported"

    def _message(self, body: dict[str, Any], part: Any) -> InboundMessage:
        return super()._message(body, TextPart(text=""))


class SwallowsErrors(KitChannel):
    """Answers an empty id instead of raising on provider errors."""

    name = "swallows_errors"

    async def send(self, message: OutboundMessage) -> str:
        try:
            return await super().send(message)
        except (RetryLater, PermanentFailure):
            return ""


def _contract(channel: type[KitChannel]) -> KitContract:
    contract = KitContract()
    contract.channel_type = channel
    return contract


async def test_the_contract_catches_unstable_external_ids() -> None:
    with pytest.raises(AssertionError):
        await _contract(UnstableIds).test_contract_external_ids_are_stable_across_redelivery()


async def test_the_contract_catches_repeated_external_ids() -> None:
    with pytest.raises(AssertionError, match="external ids repeat"):
        await _contract(SameIds).test_contract_external_ids_are_unique_across_samples()


async def test_the_contract_catches_dropped_unsupported_content() -> None:
    with pytest.raises(AssertionError, match="UnsupportedPart"):
        await _contract(DropsUnsupported).test_contract_unsupported_content_is_kept_as_unsupported()


async def test_the_contract_catches_swallowed_provider_errors() -> None:
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        await _contract(SwallowsErrors).test_contract_provider_errors_map_to_typed_errors()


async def test_the_contract_catches_redelivery_stored_twice_through_the_pipe(
    hub_api: HubApi,
) -> None:
    # UnstableIds is registered through the hub_plugins override below, in its own test.
    contract = _contract(UnstableIds)
    with pytest.raises(AssertionError):
        await contract.test_contract_redelivery_through_the_pipe_stores_one_message(hub_api)


@pytest.fixture
def hub_plugins() -> list[object]:
    """Module-level: the broken variants the pipe test above runs against."""
    return [UnstableIds]


# --- fixtures and helpers -------------------------------------------------------------------


async def test_hub_api_drives_a_real_hub_with_the_given_plugins(hub_api: HubApi) -> None:
    assert hub_api.app[appkeys.PLUGINS].channel_types["unstable_ids"] is UnstableIds
    assert "custom_channel" in hub_api.app[appkeys.PLUGINS].channel_types  # installed ones too
    me = await hub_api.call("GET", "/api/v1/me")
    assert (me["id"], me["role"]) == (hub_api.admin.user_id, "owner")


def test_a_plugin_module_given_to_hub_plugins_is_registered() -> None:
    seen: list[str] = []

    @hookimpl
    def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
        seen.append("called")
        return [SameIds]

    manager = build_plugin_manager(
        [SimpleNamespace(hub_register_channel_types=hub_register_channel_types)]
    )
    assert manager.channel_types["same_ids"] is SameIds and seen == ["called"]


def test_a_broken_plugin_given_to_hub_plugins_fails_loudly() -> None:
    @hookimpl
    def hub_register_channel_types() -> list[object]:
        return [object]

    with pytest.raises(PluginUnderTestBroken, match="not a ChannelType subclass"):
        build_plugin_manager(
            [SimpleNamespace(hub_register_channel_types=hub_register_channel_types)]
        )


def test_signed_samples_verify_with_the_custom_channels_own_check() -> None:
    from hub_custom_channel.signing import verify

    sample = signed_json("s3cret", {"type": "message", "id": "x"})
    verify("s3cret", dict(sample.headers), sample.body)  # raises when it does not verify
    with pytest.raises(WebhookRejected):
        verify("another", dict(sample.headers), sample.body)


@pytest.mark.slow
def test_loading_the_pytest_plugin_builds_and_imports_nothing_of_the_hub() -> None:
    probe = (
        "import sys, hub.testing.plugin; "
        "print(sorted(m for m in sys.modules if m.startswith(('hub.', 'aiohttp', 'sqlalchemy', 'respx'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(loaded.replace("'", '"')) == ["hub.testing", "hub.testing.plugin"]


def test_the_pytest_plugin_is_registered_through_pytest11() -> None:
    from importlib.metadata import entry_points

    [entry] = [ep for ep in entry_points(group="pytest11") if ep.name == "hub"]
    assert entry.value == "hub.testing.plugin"


async def test_send_errors_reach_the_plugin_through_the_shared_http_client() -> None:
    # The unit checks build the plugin with a real httpx client that respx intercepts.
    contract = _contract(KitChannel)
    with respx.mock() as router:
        router.post(f"{SERVICE}/send").respond(200, json={"id": "kit-9"})
        async with contract.plugin() as plugin:
            assert isinstance(plugin.context.http, httpx.AsyncClient)
            sent = await plugin.send(contract.outbound_message("contact-1"))
    assert sent == "kit-9"
