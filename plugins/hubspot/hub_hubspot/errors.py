"""HubSpot's error answers translated once into the contract's typed errors.

HubSpot answers ``{status:"error", message, correlationId, category, …}``; a 429 carries
``policyName`` and sometimes the ``X-HubSpot-RateLimit-*`` headers. Waits follow the
official SDK: 10 s x attempt for the ten-secondly limit, 1 s x attempt for search's
secondly limit, 2 s for 423 Locked, 200 ms x attempt for 5xx; ``DAILY`` stops until the
next midnight (UTC here: the account's time zone is not known to the hub).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hub.contract import BadCredentials, PermanentFailure, RetryLater
from hub.contract.http import retry_after, truncate

_EXISTING_ID = re.compile(r"Existing ID:\s*([0-9]+)")


def body_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of an answer, or ``{}`` when it is not one."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def message_of(response: httpx.Response) -> str:
    """HubSpot's own message, cut to a length fit for the admin pages."""
    body = body_of(response)
    text = body.get("message") or response.reason_phrase or f"HTTP {response.status_code}"
    return truncate(f"HubSpot: {text}")


def existing_id(error: PermanentFailure) -> str | None:
    """The id in a 409 "Contact already exists. Existing ID: n", if this is one."""
    if error.code != "CONFLICT":
        return None
    match = _EXISTING_ID.search(error.message)
    return match.group(1) if match else None


def seconds_to_midnight(now: datetime | None = None) -> float:
    """Seconds until the next UTC midnight, when a daily limit resets."""
    moment = now or datetime.now(UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - moment).total_seconds()


def transient_wait(response: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before retrying a transient answer (429, 423, 5xx); ``None`` when
    the answer is not transient. A daily limit raises ``RetryLater`` at once."""
    status = response.status_code
    if status == 429:
        body = body_of(response)
        policy = str(body.get("policyName", ""))
        if policy == "DAILY":
            raise RetryLater(message_of(response), after=seconds_to_midnight())
        given = retry_after(response)
        if given is not None:
            return given
        if policy == "SECONDLY" or "secondly limit" in str(body.get("message", "")):
            return 1.0 * attempt
        interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
        if interval.isdigit() and response.headers.get("X-HubSpot-RateLimit-Remaining") == "0":
            return int(interval) / 1000
        return 10.0 * attempt
    if status == 423:
        return 2.0
    if status >= 500:
        return 0.2 * attempt
    return None


def raise_for(response: httpx.Response) -> None:
    """Raise the typed error of a non-transient failure (nothing for a success)."""
    if response.is_success:
        return
    status = response.status_code
    body = body_of(response)
    category = str(body.get("category") or "")
    message = message_of(response)
    if status == 401 or category in {"INVALID_AUTHENTICATION", "EXPIRED_AUTHENTICATION"}:
        raise BadCredentials(message)
    if status == 403:
        # MISSING_SCOPES and friends: the token works but may not do this.
        raise BadCredentials(message)
    if status == 404:
        raise PermanentFailure("OBJECT_NOT_FOUND", message)
    raise PermanentFailure(category or f"HTTP_{status}", message)
