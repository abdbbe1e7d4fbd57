"""Bot API errors → the hub's typed errors, keyed on Telegram's ``error_code``.

Telegram answers every failure as ``{"ok": false, "error_code", "description"}`` with
the HTTP status equal to the code: 401 a revoked or unknown token (the cloud API says
404 for a token it never issued), 403 the user blocked the bot or never started it,
409 a webhook is set while polling (or a second poller runs), 429 flood control with
``retry_after``, 5xx Telegram's own trouble. The description is kept for the agent.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from hub.contract import BadCredentials, PermanentFailure, PluginError, RetryLater

from hub_telegram.client import BotApiError, BotApiRefused, BotApiUnavailable, FileTooLarge

T = TypeVar("T")


def call_error(err: BotApiError) -> PluginError:
    """The typed error a failed call raises (send, typing, poll, media)."""
    if isinstance(err, FileTooLarge):
        return PermanentFailure("media_too_large", err.description)
    if isinstance(err, BotApiUnavailable):
        return RetryLater(err.description, after=err.retry_after)
    code = err.code if isinstance(err, BotApiRefused) else 400
    if code == 401:
        return BadCredentials(f"Telegram refused the bot token: {err.description}")
    if code == 409:
        # A webhook is set or another poller runs: it may clear once connect reruns.
        return RetryLater(f"Telegram: {err.description}")
    if code == 403:
        return PermanentFailure(
            "blocked" if "blocked" in err.description else "forbidden", err.description
        )
    if "too big" in err.description:
        # getFile's "file is too big": the cloud API serves no file over 20 MB.
        return PermanentFailure("media_too_large", err.description)
    return PermanentFailure(f"telegram_{code}", err.description)


def connect_error(err: BotApiError) -> PluginError:
    """The typed error a failed credentials check raises: the admin reads what to do."""
    if not isinstance(err, BotApiRefused):
        return call_error(err)
    if err.code in (401, 404):
        # The cloud API answers 404 for a token it does not know.
        return BadCredentials(
            f"Telegram refused the bot token ({err.code} {err.description}): "
            "copy it again from @BotFather"
        )
    return BadCredentials(f"Telegram refused the setup: {err.description}")


async def translated(call: Awaitable[T]) -> T:
    """Await a Bot API call, raising the typed error of its failure.

    Chained ``from err``: a ``BotApiError`` carries only Telegram's description, never
    the token (the client drops the ``httpx`` error, whose URL holds it).
    """
    try:
        return await call
    except BotApiError as err:
        raise call_error(err) from err
