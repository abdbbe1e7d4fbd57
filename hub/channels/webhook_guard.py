"""The outgoing webhooks' guard against server-side request forgery: a subscription's
URL may only reach public addresses, unless an admin allowed private ones.

The host is resolved and every address checked when the subscription is saved and again
at each delivery (DNS can change); the delivery's connection also goes through
``GuardedResolver``, so the address connected to is one that was checked (no DNS
rebinding between the check and the connect).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver


class UnsafeAddress(Exception):
    """The URL's host is, or resolves to, an address webhooks may not reach."""


IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: IpAddress) -> bool:
    """Whether ``address`` is a public unicast address (not private, loopback,
    link-local, multicast, reserved, unspecified or shared; IPv4 in IPv6 unwrapped)."""
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return is_public(mapped)
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_address(text: str) -> None:
    """``UnsafeAddress`` unless ``text`` (an IP address) is public."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if not is_public(address):
        raise UnsafeAddress(f"{address} is a private, loopback or reserved address")


def host_of(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host, parts.port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str) -> None:
    """Resolve ``url``'s host and raise ``UnsafeAddress`` if any address it has is not
    public (or if it does not resolve)."""
    host, port = host_of(url)
    try:
        check_address(host)
        return
    except ValueError:
        pass  # a name, not an address literal
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:  # UnicodeError: a name IDNA refuses ("a..b")
        raise UnsafeAddress(f"{host} does not resolve: {err}") from None
    if not infos:
        raise UnsafeAddress(f"{host} does not resolve")
    for info in infos:
        check_address(str(info[4][0]))


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing any name that resolves to a non-public address."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for result in found:
            try:
                check_address(result["host"])
            except UnsafeAddress as err:
                raise OSError(str(err)) from None
        return found

    async def close(self) -> None:
        await self._inner.close()


def describe(err: Any) -> str:
    """A short text of a delivery error, for the log (at most 500 characters)."""
    text = str(err) or type(err).__name__
    return text[:500]
