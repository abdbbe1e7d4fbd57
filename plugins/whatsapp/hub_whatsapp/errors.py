"""Graph API errors → the hub's typed errors, keyed on Meta's error ``code`` (not titles).

Codes from Meta's "Error codes" reference: 190 token, 4/80007/130429 throughput,
131056 pair rate, 131047 re-engagement (window closed), 131026 undeliverable, 131049
marketing per-user limit, 131000/131016 generic/unavailable.
"""

from __future__ import annotations

from hub.contract import BadCredentials, PermanentFailure, PluginError, RetryLater, WindowClosed

from hub_whatsapp.client import GraphError, GraphUnavailable

AUTH_CODES = frozenset({190, 102, 10, 200})
"""Token invalid or expired (190, 102), permission missing (10, 200)."""
RATE_CODES = frozenset({4, 80007, 130429, 131056, 131048})
"""App, account, throughput, pair and spam rate limits: wait and retry."""
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016})
"""Unknown or temporary server-side trouble."""
WINDOW_CLOSED = 131047
# Meta asks for about six seconds between two messages to one person (131056).
_PAIR_RATE_WAIT = 6.0


def window_message(details: str | None) -> str:
    """What the agent reads when the 24-hour window is closed."""
    base = (
        "the 24-hour customer-service window is closed (the customer last wrote more than "
        "24 hours ago): send an approved template"
    )
    return f"{base} ({details})" if details else base


def send_error(err: GraphError | GraphUnavailable) -> PluginError:
    """The typed error a failed send (or read receipt) raises."""
    if isinstance(err, GraphUnavailable):
        return RetryLater(err.reason)
    code = err.code
    if code == WINDOW_CLOSED:
        return WindowClosed(window_message(err.details))
    if code in AUTH_CODES or err.status == 401:
        return BadCredentials(f"WhatsApp refused the access token: {err}")
    if code in RATE_CODES or err.status == 429:
        after = err.retry_after or (_PAIR_RATE_WAIT if code == 131056 else None)
        return RetryLater(f"WhatsApp rate limit: {err}", after=after)
    if code in TRANSIENT_CODES or err.transient or err.status >= 500:
        return RetryLater(f"WhatsApp is unavailable: {err}", after=err.retry_after)
    label = f"whatsapp_{code}" if code is not None else f"http_{err.status}"
    return PermanentFailure(label, str(err))


def connect_error(err: GraphError | GraphUnavailable, phone_number_id: str) -> PluginError:
    """The typed error a failed credentials check raises: the admin reads Meta's words."""
    if isinstance(err, GraphUnavailable):
        return RetryLater(err.reason)
    if err.code in RATE_CODES or err.code in TRANSIENT_CODES or err.status >= 500:
        return RetryLater(f"WhatsApp is unavailable, try again: {err}", after=err.retry_after)
    if err.code in AUTH_CODES or err.status in (401, 403):
        return BadCredentials(f"WhatsApp refused the access token: {err}")
    if err.code == 100:
        return BadCredentials(
            "WhatsApp does not know this business account or phone number ID, or the token "
            f"cannot see it: {err}"
        )
    return BadCredentials(f"WhatsApp refused the credentials for {phone_number_id}: {err}")
