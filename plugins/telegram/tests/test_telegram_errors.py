"""Bot API errors → the hub's typed errors, in one place (``hub_telegram.errors``)."""

from __future__ import annotations

import pytest
from hub.contract import BadCredentials, PermanentFailure, PluginError, RetryLater

from hub_telegram.client import BotApiError, BotApiRefused, BotApiUnavailable, FileTooLarge
from hub_telegram.errors import call_error, connect_error, translated


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (BotApiUnavailable("sendMessage: Too Many Requests", retry_after=7), RetryLater, None),
        (BotApiRefused(401, "Unauthorized"), BadCredentials, None),
        (BotApiRefused(409, "Conflict: terminated by other getUpdates"), RetryLater, None),
        (BotApiRefused(403, "Forbidden: bot was blocked by the user"), PermanentFailure, "blocked"),
        (
            BotApiRefused(403, "Forbidden: bot can't initiate conversation"),
            PermanentFailure,
            "forbidden",
        ),
        (BotApiRefused(400, "Bad Request: file is too big"), PermanentFailure, "media_too_large"),
        (FileTooLarge("the file is larger than the limit"), PermanentFailure, "media_too_large"),
        (BotApiRefused(400, "Bad Request: chat not found"), PermanentFailure, "telegram_400"),
    ],
)
def test_a_failed_call_maps_to_one_typed_error(
    error: BotApiError, kind: type[PluginError], code: str | None
) -> None:
    mapped = call_error(error)
    assert type(mapped) is kind
    if code is not None:
        assert isinstance(mapped, PermanentFailure) and mapped.code == code
    assert error.description in str(mapped)


def test_flood_control_keeps_telegrams_wait() -> None:
    mapped = call_error(BotApiUnavailable("Too Many Requests", retry_after=7))
    assert isinstance(mapped, RetryLater) and mapped.after == 7


@pytest.mark.parametrize("code", [401, 404])
def test_connect_names_the_token_for_an_unknown_one(code: int) -> None:
    mapped = connect_error(BotApiRefused(code, "Not Found"))
    assert isinstance(mapped, BadCredentials) and "@BotFather" in str(mapped)


def test_connect_keeps_transient_trouble_retryable() -> None:
    assert isinstance(connect_error(BotApiUnavailable("timeout")), RetryLater)
    assert isinstance(connect_error(BotApiRefused(400, "bad webhook")), BadCredentials)


async def test_translated_raises_the_typed_error_chained_to_telegrams() -> None:
    refused = BotApiRefused(403, "Forbidden: bot was blocked by the user")

    async def call() -> None:
        raise refused

    with pytest.raises(PermanentFailure) as caught:
        await translated(call())
    assert caught.value.code == "blocked" and caught.value.__cause__ is refused
