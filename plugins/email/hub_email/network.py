"""The SMTP side's network steps: the DNS lookup on its own, and an operating-system
error in words an admin can act on."""

from __future__ import annotations

import asyncio
import os
import socket

from hub.contract import RetryLater


async def resolve(server: object, host: str, port: int, within: float) -> None:
    """Look ``host`` up on its own, so a misspelt host name is not reported as a refused
    port; ``server`` names it in the message ("SMTP server smtp.x:587")."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(within):
            await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise RetryLater(f"{server}: DNS lookup timed out after {within:g} s") from None
    except socket.gaierror as err:
        raise RetryLater(f"{server}: DNS lookup failed: {err.strerror or err}") from None


def os_reason(err: BaseException) -> str:
    """The operating system's words for a failed connection ("Connection refused"):
    asyncio's own text ("Connect call failed (...)") hides the errno's meaning."""
    if isinstance(err, OSError) and err.errno:
        return os.strerror(err.errno)
    return str(err) or type(err).__name__
