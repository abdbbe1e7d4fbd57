"""Checking that the IMAP and SMTP servers of a mailbox are there, before mail is built.

A connect reaches each server with a short timeout (over TLS from the start where the
security setting is ``ssl``) and reads its greeting: ``* OK`` from IMAP, ``220`` from
SMTP. It does not log in yet: that comes with reading and sending mail. What it finds is
told in the contract's words: a server that cannot be reached is ``RetryLater`` (it may
be down for a moment), one that answers wrongly is ``BadCredentials`` (the settings
point at the wrong place, and an admin must fix them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Literal

from hub.contract import BadCredentials, RetryLater

TIMEOUT_SECONDS = 5.0
GREETING_MAX = 1024


@dataclass(frozen=True)
class Server:
    """One mail server as the settings give it, and the greeting it must open with."""

    protocol: Literal["IMAP", "SMTP"]
    host: str
    port: int
    security: Literal["ssl", "starttls", "none"]

    @property
    def greeting(self) -> bytes:
        """How this protocol's server opens a session (RFC 9051, RFC 5321)."""
        return b"* OK" if self.protocol == "IMAP" else b"220"

    def __str__(self) -> str:
        return f"the {self.protocol} server {self.host}:{self.port}"


async def check(server: Server) -> None:
    """Connect to ``server`` and read its greeting; raise what an admin can act on."""
    tls = ssl.create_default_context() if server.security == "ssl" else None
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(
                server.host,
                server.port,
                ssl=tls,
                server_hostname=server.host if tls else None,
            )
            try:
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except ssl.SSLError as err:
        # Before OSError: an SSLError is one, but it means the server is there.
        raise BadCredentials(
            f"{server} did not complete a TLS handshake ({err.reason or err}): "
            "check the port and the security setting"
        ) from None
    except TimeoutError:
        raise RetryLater(f"cannot reach {server}: no answer within {TIMEOUT_SECONDS:g} s") from None
    except OSError as err:
        raise RetryLater(f"cannot reach {server}: {_reason(err)}") from None
    if not line[:GREETING_MAX].startswith(server.greeting):
        raise BadCredentials(
            f"{server} did not answer like an {server.protocol} server "
            "(check the host, port and security)"
        )


def _reason(err: OSError) -> str:
    """The operating system's words for a failed connection ("Connection refused")."""
    if isinstance(err, socket.gaierror):
        return err.strerror or "unknown host"
    # asyncio's own text ("Connect call failed (...)") hides the errno's meaning.
    if err.errno:
        return os.strerror(err.errno)
    return str(err) or type(err).__name__
