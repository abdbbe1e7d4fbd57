"""An IMAP session on aioimaplib, with the server's failures told in the contract's words.

``ImapSession.open`` connects (implicit TLS, STARTTLS or plain, each step under a
timeout) and logs in; the other methods are the few commands the channel needs, always
by UID (sequence numbers shift after an EXPUNGE) and always ``BODY.PEEK`` (a plain
``BODY[]`` would mark the mail read behind the agent's back).

Errors are translated here, once, naming the server and the step that failed
("IMAP server imap.example.com:993: TLS handshake failed: …"): a server that cannot be
reached, or stops answering, is ``RetryLater``; one that refuses the login or lacks the
folder is ``BadCredentials`` carrying the server's own words (an admin must act). DNS,
TCP, TLS, login and folder are the steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aioimaplib import aioimaplib
from hub.contract import BadCredentials, RetryLater

from hub_email.imap_wire import (
    FetchedMail,
    lines_of,
    mailbox_name,
    parse_fetch,
    quote,
    reason,
    text_of,
    uid_set,
)

Security = Literal["tls", "starttls", "none"]
CONNECT_TIMEOUT = 15.0
COMMAND_TIMEOUT = 60.0

_CODE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]")
_EXISTS = re.compile(rb"^(\d+) EXISTS")


@dataclass(frozen=True)
class ImapServer:
    """Where a mailbox is and how to log in to it."""

    host: str
    port: int
    security: Security
    username: str
    password: str

    def __str__(self) -> str:
        return f"IMAP server {self.host}:{self.port}"


@dataclass(frozen=True)
class Mailbox:
    """A selected folder: what SELECT answered."""

    name: str
    uidvalidity: int
    uidnext: int
    exists: int


class ImapSession:
    """A logged-in IMAP connection; use ``await ImapSession.open(server)``."""

    def __init__(self, server: ImapServer, client: aioimaplib.IMAP4) -> None:
        self.server = server
        self._client = client
        self.mailbox: Mailbox | None = None
        self.broken = False

    # --- connecting -------------------------------------------------------------------

    @classmethod
    async def open(
        cls, server: ImapServer, *, connect_seconds: float = CONNECT_TIMEOUT
    ) -> ImapSession:
        """Connect and log in; raise ``RetryLater``/``BadCredentials`` naming the step."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_seconds):
                await loop.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise RetryLater(
                f"{server}: DNS lookup timed out after {connect_seconds:g} s"
            ) from None
        except OSError as err:
            raise RetryLater(f"{server}: DNS lookup failed: {reason(err)}") from None
        context = ssl.create_default_context() if server.security != "none" else None
        if server.security == "tls":
            client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                server.host, server.port, timeout=COMMAND_TIMEOUT, ssl_context=context
            )
        else:
            client = aioimaplib.IMAP4(server.host, server.port, timeout=COMMAND_TIMEOUT)
        session = cls(server, client)
        try:
            await session._greet(connect_seconds)
            if server.security == "starttls":
                assert context is not None
                await session._starttls(context, connect_seconds)
            await session._login()
        except BaseException:
            session.close()
            raise
        return session

    async def _greet(self, limit: float) -> None:
        server = self.server
        step = "TLS handshake" if server.security == "tls" else "TCP connection"
        try:
            async with asyncio.timeout(limit):
                await self._client.wait_hello_from_server()
        except ssl.SSLError as err:  # before OSError: it is one, but the server is there
            raise BadCredentials(
                f"{server}: TLS handshake failed ({err.reason or err}): check the port and "
                "the security setting"
            ) from None
        except TimeoutError:
            if self._client._client_task.done() and server.security != "tls":
                raise RetryLater(
                    f"{server}: no greeting within {limit:g} s (is it an IMAP port? check "
                    "the port and the security setting)"
                ) from None
            raise RetryLater(f"{server}: {step} timed out after {limit:g} s") from None
        except OSError as err:
            raise RetryLater(f"{server}: {step} failed: {reason(err)}") from None
        except aioimaplib.AioImapException as err:
            raise BadCredentials(
                f"{server}: did not greet like an IMAP server ({err}): check the host, "
                "port and security"
            ) from None

    async def _starttls(self, context: ssl.SSLContext, limit: float) -> None:
        """Upgrade the plain connection (RFC 9051 STARTTLS); aioimaplib has no helper."""
        server, protocol = self.server, self._client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise BadCredentials(
                f"{server}: STARTTLS failed: the server does not offer it (try security "
                "'tls' on port 993, or check the port)"
            )
        try:
            async with asyncio.timeout(limit):
                command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
                response = await protocol.execute(command)
                if response.result != "OK":
                    raise BadCredentials(f"{server}: STARTTLS refused: {text_of(response)}")
                transport = await protocol.loop.start_tls(
                    protocol.transport, protocol, context, server_hostname=server.host
                )
                protocol.transport = transport
                # Capabilities before TLS are not to be trusted (RFC 9051 6.2.1).
                await protocol.capability()
        except ssl.SSLError as err:
            raise BadCredentials(
                f"{server}: TLS handshake failed ({err.reason or err}): check the "
                "certificate and the security setting"
            ) from None
        except TimeoutError:
            raise RetryLater(f"{server}: STARTTLS timed out after {limit:g} s") from None
        except OSError as err:
            raise RetryLater(f"{server}: STARTTLS failed: {reason(err)}") from None

    async def _login(self) -> None:
        server = self.server
        response = await self._run("login", self._client.login(server.username, server.password))
        if response.result != "OK":
            raise BadCredentials(f"{server}: login refused: {text_of(response)}")

    # --- the mailbox ------------------------------------------------------------------

    @property
    def has_idle(self) -> bool:
        """Whether the server announced IDLE (RFC 2177)."""
        return bool(self._client.has_capability("IDLE"))

    async def select(self, folder: str, *, readonly: bool = False) -> Mailbox:
        """SELECT (or EXAMINE) ``folder``; ``BadCredentials`` naming it when it is missing."""
        quoted = mailbox_name(folder)
        if readonly:
            command = self._client.examine(quoted)
            response = await self._run("folder", command)
            if response.result == "OK":  # aioimaplib leaves EXAMINE's state to us
                self._client.protocol.state = aioimaplib.SELECTED
        else:
            response = await self._run("folder", self._client.select(quoted))
        if response.result != "OK":
            raise BadCredentials(
                f"{self.server}: the folder {folder!r} cannot be opened: {text_of(response)}"
            )
        codes = {
            m.group(1): int(m.group(2)) for line in lines_of(response) for m in _CODE.finditer(line)
        }
        exists = next(
            (int(m.group(1)) for line in lines_of(response) if (m := _EXISTS.match(line))), 0
        )
        if b"UIDVALIDITY" not in codes:
            raise RetryLater(f"{self.server}: SELECT {folder!r} gave no UIDVALIDITY")
        self.mailbox = Mailbox(
            name=folder,
            uidvalidity=codes[b"UIDVALIDITY"],
            uidnext=codes.get(b"UIDNEXT", 0),
            exists=exists,
        )
        return self.mailbox

    async def uids_after(self, uid: int) -> list[int]:
        """The UIDs above ``uid``, ascending. ``UID SEARCH UID n:*`` always answers the
        highest UID even when it is below n (RFC 9051 6.4.4), so filter here."""
        response = await self._run(
            "search", self._client.uid_search(f"UID {uid + 1}:*", charset=None)
        )
        self._check(response, "UID SEARCH")
        found: set[int] = set()
        for line in lines_of(response):
            words = line.split()
            if words[:1] == [b"SEARCH"]:
                words = words[1:]
            found.update(int(word) for word in words if word.isdigit())
        return sorted(u for u in found if u > uid)

    async def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID (a UID expunged meanwhile is left out)."""
        if not uids:
            return {}
        response = await self._fetch(uids, "(UID RFC822.SIZE)")
        return {mail.uid: mail.size for mail in parse_fetch(response)}

    async def fetch(self, uids: Sequence[int]) -> list[FetchedMail]:
        """The whole messages (``BODY.PEEK[]``: their \\Seen flag stays as it was)."""
        if not uids:
            return []
        response = await self._fetch(uids, "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
        return parse_fetch(response)

    async def fetch_headers(self, uids: Sequence[int]) -> list[FetchedMail]:
        """Only the header of each message (for mail too big to fetch whole)."""
        if not uids:
            return []
        response = await self._fetch(uids, "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])")
        return parse_fetch(response)

    async def search_header(self, name: str, value: str) -> list[int]:
        """UIDs of the selected folder's mail whose header ``name`` contains ``value``
        (e.g. Message-ID, to find a sent copy)."""
        response = await self._run(
            "search",
            self._client.uid_search("HEADER", quote(name), quote(value), charset=None),
        )
        self._check(response, "UID SEARCH HEADER")
        return sorted(
            int(word) for line in lines_of(response) for word in line.split() if word.isdigit()
        )

    async def mark_seen(self, uids: Sequence[int]) -> None:
        """Set \\Seen on these UIDs (the channel's mark_seen option)."""
        if not uids:
            return
        response = await self._run(
            "store", self._client.uid("STORE", uid_set(uids), "+FLAGS.SILENT", r"(\Seen)")
        )
        self._check(response, "UID STORE")

    async def append(self, folder: str, raw: bytes, flags: str = r"(\Seen)") -> None:
        """APPEND one message to ``folder`` (a sent copy)."""
        response = await self._run(
            "append", self._client.append(raw, mailbox_name(folder), flags=flags)
        )
        if response.result != "OK":
            raise RetryLater(f"{self.server}: APPEND to {folder!r} failed: {text_of(response)}")

    async def idle(self, seconds: float) -> bool:
        """Wait up to ``seconds`` in IDLE; True as soon as the server reports new mail
        (EXISTS), False when the time ran out. Returns False at once without IDLE."""
        if not self.has_idle or seconds <= 0:
            return False
        client = self._client
        try:
            idle = await client.idle_start(timeout=seconds)
        except aioimaplib.AioImapException as err:
            self.broken = True
            raise RetryLater(f"{self.server}: IDLE failed: {err}") from None
        woke = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        try:
            while (remaining := deadline - loop.time()) > 0:
                try:
                    pushed = await client.wait_server_push(timeout=remaining)
                except TimeoutError:
                    break
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(isinstance(line, bytes) and line.endswith(b"EXISTS") for line in pushed):
                    woke = True
                    break
        finally:
            if client.has_pending_idle():
                client.idle_done()
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await idle
        except (TimeoutError, aioimaplib.AioImapException) as err:
            self.broken = True
            raise RetryLater(f"{self.server}: ending IDLE failed: {err}") from None
        # A push queued after DONE belongs to this IDLE: drop it so the next starts clean.
        while not client.protocol.idle_queue.empty():
            client.protocol.idle_queue.get_nowait()
        return woke

    async def logout(self) -> None:
        """Log out politely; a failure only closes the connection."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self._client.logout()
        self.close()

    def close(self) -> None:
        """Drop the connection at once (after an error, or on cancellation)."""
        self.broken = True
        transport = getattr(self._client.protocol, "transport", None)
        if transport is not None:
            transport.close()

    # --- internals --------------------------------------------------------------------

    async def _fetch(self, uids: Sequence[int], items: str) -> aioimaplib.Response:
        response = await self._run("fetch", self._client.uid("FETCH", uid_set(uids), items))
        self._check(response, "UID FETCH")
        return response

    async def _run(self, step: str, command: Any) -> aioimaplib.Response:
        """Await one aioimaplib call, turning a dead or silent server into RetryLater."""
        try:
            response: aioimaplib.Response = await command
        except (TimeoutError, aioimaplib.CommandTimeout):
            self.broken = True
            raise RetryLater(f"{self.server}: {step} timed out") from None
        except (OSError, aioimaplib.AioImapException) as err:
            self.broken = True
            raise RetryLater(f"{self.server}: {step} failed: {reason(err)}") from None
        return response

    def _check(self, response: aioimaplib.Response, command: str) -> None:
        if response.result != "OK":
            self.broken = True
            raise RetryLater(f"{self.server}: {command} failed: {text_of(response)}")
