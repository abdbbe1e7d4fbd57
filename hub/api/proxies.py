"""The client's address behind trusted reverse proxies (``HUB_TRUSTED_PROXIES``).

Only a request whose TCP peer is a trusted proxy has its ``X-Forwarded-For`` read; the
client is the right-most address in it that is not itself a trusted proxy (each proxy
appends the address it saw, so everything left of the last untrusted hop could have
been written by the client). ``request.remote`` is rewritten, so the audit log, the
login throttle and the webhook log read the client's address without knowing of
proxies. The scheme and host are left alone: the hub builds its URLs and cookie flags
from ``HUB_PUBLIC_URL``, not from the request (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from hub.errors import HubError

Address = IPv4Address | IPv6Address
Networks = Sequence[IPv4Network | IPv6Network]


def _address(text: str) -> Address | None:
    """The address, with an IPv4-mapped IPv6 one (a dual-stack socket's) as IPv4."""
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Networks) -> bool:
    return any(address in network for network in networks)


def forwarded_client(forwarded_for: Sequence[str], networks: Networks) -> str:
    """The client's address from a trusted peer's ``X-Forwarded-For`` header(s).

    Several headers count as one comma-separated list, in order. Raises ``HubError``
    400 naming the first entry that is not an IP address.
    """
    hops: list[Address] = []
    for entry in ",".join(forwarded_for).split(","):
        address = _address(entry)
        if address is None:
            raise HubError(
                400,
                "bad_forwarded_for",
                f"X-Forwarded-For from a trusted proxy holds {entry.strip()!r}, "
                "which is not an IP address",
            )
        hops.append(address)
    for address in reversed(hops):
        if not _trusted(address, networks):
            return str(address)
    # Every hop is a proxy of ours: the left-most is the closest to the client.
    return str(hops[0])


def trusted_proxies(networks: Networks) -> Middleware:
    """A middleware that puts the client's address in ``request.remote`` when the peer
    is one of ``networks``; with no networks, it passes every request on untouched."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded_for = request.headers.getall(hdrs.X_FORWARDED_FOR, [])
        peer = _address(request.remote or "")
        if not forwarded_for or peer is None or not _trusted(peer, networks):
            # An untrusted peer's header is the client's own claim: ignored.
            return await handler(request)
        return await handler(request.clone(remote=forwarded_client(forwarded_for, networks)))

    return middleware
