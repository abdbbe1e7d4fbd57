"""Signed HTTP calls to a bridged service, with the answers sorted into a few outcomes.

The client knows nothing of the hub's pipes: it raises its own errors, and the channel
decides what each means for the operation at hand (a 4xx fails a reply for good but
means bad credentials on connect).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from hub.contract.http import DownloadRefused, TooLarge, download, retry_after, truncate

from hub_custom_channel.payloads import body_bytes
from hub_custom_channel.signing import signed_headers


class ServiceError(Exception):
    """A call to the service did not succeed; ``reason`` is fit to show an admin or agent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ServiceRefused(ServiceError):
    """The service answered 3xx or 4xx (other than 429): repeating the call will not help."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class ServiceUnavailable(ServiceError):
    """A 429, a 5xx, a timeout or a network error: the call may succeed later."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class MediaTooLarge(ServiceError):
    """A downloaded file passed the size limit."""


@dataclass(frozen=True)
class ServiceReply:
    """A 2xx answer: its status and its JSON body (None when it was not JSON)."""

    status: int
    json: Any


class ServiceClient:
    """Posts signed JSON to one service URL and downloads the files it links to."""

    def __init__(self, http: httpx.AsyncClient, url: str, secret: str) -> None:
        self._http = http
        self._url = url
        self._secret = secret

    async def post(
        self, payload: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> ServiceReply:
        """POST ``payload`` signed; return the 2xx answer or raise a ``ServiceError``."""
        body = body_bytes(payload)
        request_headers = {
            "Content-Type": "application/json",
            **(headers or {}),
            **signed_headers(self._secret, body),
        }
        try:
            response = await self._http.post(self._url, content=body, headers=request_headers)
        # ``from None``: the service URL an admin gives may carry a token in its query.
        except httpx.TimeoutException:
            raise ServiceUnavailable(f"no answer from {_host(self._url)} in time") from None
        except httpx.HTTPError as err:
            raise ServiceUnavailable(f"cannot reach {_host(self._url)}: {_describe(err)}") from None
        _raise_for_status(response)
        return ServiceReply(response.status_code, _json_or_none(response))

    async def download(self, url: str, *, limit: int) -> bytes:
        """GET a file, streaming it and stopping as soon as it passes ``limit`` bytes."""
        try:
            return await download(self._http, url, limit=limit)
        except DownloadRefused as err:
            _raise_for_status(err.response)
            raise  # _raise_for_status raised for a non-2xx; this is never reached
        except TooLarge as err:
            raise MediaTooLarge(str(err)) from err
        # ``from None``: a signed download URL may carry a token in its query.
        except httpx.TimeoutException:
            raise ServiceUnavailable(f"no answer from {_host(url)} in time") from None
        except httpx.HTTPError as err:
            raise ServiceUnavailable(f"cannot reach {_host(url)}: {_describe(err)}") from None


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = answer_reason(response)
    if status == 429:
        raise ServiceUnavailable(f"rate limited (429): {reason}", retry_after=retry_after(response))
    if status >= 500:
        raise ServiceUnavailable(
            f"server error ({status}): {reason}", retry_after=retry_after(response)
        )
    if 300 <= status < 400:
        location = response.headers.get("Location", "elsewhere")
        reason = f"redirected to {location[:200]}: set the URL to the final address"
    raise ServiceRefused(status, reason)


def answer_reason(response: httpx.Response) -> str:
    """The reason a service gives: its JSON ``error``/``message``/``reason``, else the text."""
    data = _json_or_none(response)
    if isinstance(data, dict):
        for key in ("error", "message", "reason"):
            value = data.get(key)
            if isinstance(value, dict):  # {"error": {"message": ...}} is common too
                value = value.get("message") or value.get("reason")
            if isinstance(value, str) and value.strip():
                return truncate(value.strip())
    text = response.text.strip() if response.content else ""
    return truncate(text or response.reason_phrase or f"HTTP {response.status_code}")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):
        return None


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url


def _describe(err: httpx.HTTPError) -> str:
    return str(err) or type(err).__name__
