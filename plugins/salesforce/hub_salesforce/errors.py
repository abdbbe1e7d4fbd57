"""Salesforce's error answers translated once into the contract's typed errors.

REST errors are an array ``[{message, errorCode, fields?}]``. ``INVALID_SESSION_ID``
(401) is an expired session (the client refreshes once); ``REQUEST_LIMIT_EXCEEDED``
(403) is the org's rolling 24-hour API quota — or, with "ConcurrentPerOrgLongTxn", too
many long calls at once — and is never hot-retried: an hour for the quota, half a minute
for concurrency. 5xx answers are retried by the client with a short backoff.
"""

from __future__ import annotations

from typing import Any

import httpx
from hub.contract import BadCredentials, PermanentFailure, RetryLater
from hub.contract.http import truncate

QUOTA_WAIT = 3600.0
"""Seconds to wait when the org's daily API quota is used up (it is a rolling 24 h)."""
CONCURRENCY_WAIT = 30.0
"""Seconds to wait when the org runs too many long calls at once."""
_CREDENTIALS = {"INVALID_SESSION_ID", "INVALID_AUTH_HEADER", "API_DISABLED_FOR_ORG"}


def first_error(response: httpx.Response) -> dict[str, Any]:
    """The first ``{message, errorCode}`` of an error answer (``{}`` when none)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return data[0]
    return data if isinstance(data, dict) else {}


def error_of(status: int, error: dict[str, Any]) -> Exception:
    """The typed error for one Salesforce error (a whole answer's or a subrequest's)."""
    code = str(error.get("errorCode") or f"HTTP_{status}")
    message = truncate(f"Salesforce: {error.get('message') or code}")
    if code == "REQUEST_LIMIT_EXCEEDED":
        concurrent = "Concurrent" in str(error.get("message", ""))
        return RetryLater(message, after=CONCURRENCY_WAIT if concurrent else QUOTA_WAIT)
    if status == 401 or code in _CREDENTIALS:
        return BadCredentials(message)
    if status >= 500 or code == "SERVER_UNAVAILABLE":
        return RetryLater(message, after=30.0)
    fields = error.get("fields")
    if fields:
        message = truncate(f"{message} (fields: {', '.join(map(str, fields))})")
    return PermanentFailure(code, message)


def raise_for(response: httpx.Response) -> None:
    """Raise the typed error of a failed answer (nothing for a success)."""
    if not response.is_success:
        raise error_of(response.status_code, first_error(response))
