"""The kit's ``PollingChannelContract``: a small polling channel passes it through the real
hub's poller, and broken variants prove its polling checks can fail."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from hub.contract import (
    ChannelType,
    InboundEvent,
    InboundMessage,
    PollResult,
    TextPart,
    UnsupportedPart,
)
from hub.testing import HubApi, PollingChannelContract

# The provider: a queue of items per mailbox name, polled by position.
QUEUES: dict[str, list[dict[str, str]]] = {}
_BOXES = itertools.count(1)
LOGO = "<svg xmlns='http://www.w3.org/2000/svg'/>"


class BoxConfig(BaseModel):
    """Which queue the channel reads."""

    box: str


class QueueChannel(ChannelType[BoxConfig]):
    """A well-behaved polling channel: two items per poll, the position as the cursor."""

    name = "queue_channel"
    title = "Queue channel"
    description = "A polling channel the kit's own tests run the contract against."
    logo = LOGO
    Config = BoxConfig

    async def poll(self, cursor: str | None) -> PollResult:
        items = QUEUES.setdefault(self.config.box, [])
        start = int(cursor or 0)
        batch = items[start : start + 2]
        if not batch:
            return PollResult(events=[], cursor=cursor)
        return PollResult(
            events=[self._event(item) for item in batch], cursor=self._cursor(start + len(batch))
        )

    def _cursor(self, position: int) -> str:
        return str(position)

    def _event(self, item: dict[str, str]) -> InboundEvent:
        part = (
            UnsupportedPart(raw_type="sticker")
            if item["kind"] == "sticker"
            else TextPart(text=item["text"])
        )
        return InboundMessage(
            external_id=item["id"],
            sender_id="ana",
            timestamp=datetime(2026, 1, 1, tzinfo=UTC),
            parts=(part,),
        )


class KitPollContract(PollingChannelContract):
    """The contract, with samples appended to the channel's queue."""

    channel_type: Any = QueueChannel

    @pytest.fixture(autouse=True)
    def _box(self) -> Iterator[None]:
        self.box = f"box{next(_BOXES)}"
        yield
        QUEUES.pop(self.box, None)

    def channel_config(self) -> dict[str, Any]:
        return {"box": self.box}

    def inbound_samples(self, config: dict[str, Any]) -> list[dict[str, str]]:
        return [
            {"id": "m1", "kind": "text", "text": "hello"},
            {"id": "m2", "kind": "text", "text": "again"},
            {"id": "m3", "kind": "text", "text": "and more"},
        ]

    def unsupported_sample(self, config: dict[str, Any]) -> dict[str, str]:
        return {"id": "s1", "kind": "sticker", "text": ""}

    async def deliver(self, config: dict[str, Any], sample: dict[str, str]) -> None:
        QUEUES.setdefault(config["box"], []).append(sample)

    def test_contract_send_returns_a_provider_id(self) -> None:  # type: ignore[override]
        """This channel does not send."""

    def test_contract_a_reply_is_delivered_with_the_provider_id(self) -> None:  # type: ignore[override]
        """This channel does not send."""


class TestQueueChannelContract(KitPollContract):
    """The well-behaved polling channel passes every check."""


# --- broken variants: each polling check can fail ----------------------------------------


class UnstableIds(QueueChannel):
    """Gives a message a new external id each time it is polled."""

    name = "unstable_poll_ids"
    _serial = itertools.count()

    def _event(self, item: dict[str, str]) -> InboundEvent:
        return super()._event({**item, "id": f"{item['id']}-{next(self._serial)}"})


class RestlessCursor(QueueChannel):
    """Answers a new cursor on every poll, even with nothing new."""

    name = "restless_cursor"
    _serial = itertools.count()

    async def poll(self, cursor: str | None) -> PollResult:
        position = (cursor or "0").split("/")[0]
        result = await super().poll(position)
        moved = (result.cursor or "0").split("/")[0]
        return PollResult(events=result.events, cursor=f"{moved}/{next(self._serial)}")


def _contract(channel: type[QueueChannel]) -> KitPollContract:
    contract = KitPollContract()
    contract.channel_type = channel
    contract.box = f"box{next(_BOXES)}"
    return contract


async def test_the_polling_contract_catches_ids_that_change_on_a_repoll() -> None:
    with pytest.raises(AssertionError):
        await _contract(UnstableIds).test_contract_external_ids_are_stable_across_redelivery()


async def test_the_polling_contract_catches_a_cursor_that_moves_without_news() -> None:
    with pytest.raises(AssertionError):
        await _contract(RestlessCursor).test_contract_a_poll_with_nothing_new_keeps_the_cursor()


async def test_the_polling_contract_catches_a_repoll_stored_twice_through_the_pipe(
    hub_api: HubApi,
) -> None:
    with pytest.raises(AssertionError):
        await _contract(UnstableIds).test_contract_redelivery_through_the_pipe_stores_one_message(
            hub_api
        )


@pytest.fixture
def hub_plugins() -> list[object]:
    """Module-level: the broken variant the pipe test above runs against."""
    return [UnstableIds]


@pytest.fixture
def hub_settings(hub_settings: Any) -> Any:
    """Module-level: no background poll loops (the tests poll)."""
    return hub_settings.model_copy(update={"polling_enabled": False})
