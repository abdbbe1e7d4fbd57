"""The few IMAP steps the sending side needs: log in, check a folder, find a sent mail by
its Message-ID, file a copy (``APPEND``). On aioimaplib.

Reading mail (SELECT, FETCH, IDLE) lives in ``imap.py``; this module is the sending and
connect side's own short session, so ``connect`` and the Sent folder do not wait on the
reader's long-lived connection. Each failure names the server and the step, in the
contract's words: unreachable → ``RetryLater``; TLS refused, login refused, folder
missing → ``BadCredentials`` (an admin must fix the settings).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aioimaplib
from hub.contract import BadCredentials, RetryLater

from hub_email.config import EmailConfig, Security

TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ImapServer:
    """Where and as whom to log in: from the channel's settings."""

    host: str
    port: int
    security: Security
    username: str
    password: str
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def of(cls, config: EmailConfig) -> ImapServer:
        """The IMAP server of a channel's config."""
        return cls(
            host=config.imap_host,
            port=config.imap_port,
            security=config.imap_security,
            username=config.imap_username,
            password=config.imap_password.get_secret_value(),
        )

    def __str__(self) -> str:
        return f"the IMAP server {self.host}:{self.port}"


def _text(response: aioimaplib.Response) -> str:
    """The server's words in a tagged reply (``[AUTHENTICATIONFAILED] Authentication
    failed.``), without the tag and status."""
    lines = [line.decode("utf-8", "replace") for line in response.lines if line]
    return str(lines[-1] if lines else response.result).strip()


def mailbox_name(folder: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501
    §5.1.3), e.g. ``Éléments envoyés`` → ``"&AMk-l&AOk-ments envoy&AOk-s"``."""
    encoded: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            encoded.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            encoded.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return str(aioimaplib.quoted("".join(encoded)))


async def _resolve(server: ImapServer) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(server.timeout):
            await loop.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise RetryLater(f"could not find {server} (DNS): no answer in time") from None
    except socket.gaierror as err:
        raise RetryLater(f"could not find {server} (DNS): {err.strerror or err}") from None


def _tls_refused(server: ImapServer, err: ssl.SSLError) -> BadCredentials:
    return BadCredentials(
        f"{server} failed the TLS handshake ({err.reason or err}): check the port and "
        "the security setting (TLS for 993, STARTTLS for 143)"
    )


async def _connect(server: ImapServer) -> aioimaplib.IMAP4:
    """TCP (and TLS from the start where set), then the greeting."""
    client: aioimaplib.IMAP4
    if server.security == "tls":
        context = ssl.create_default_context()
        client = aioimaplib.IMAP4_SSL(
            server.host, server.port, timeout=server.timeout, ssl_context=context
        )
    else:
        client = aioimaplib.IMAP4(server.host, server.port, timeout=server.timeout)
    try:
        await client.wait_hello_from_server()
    except ssl.SSLError as err:
        raise _tls_refused(server, err) from None
    except TimeoutError:
        hint = (
            ""
            if server.security == "tls"
            else " (a TLS port such as 993 waits silently: check the security setting)"
        )
        raise RetryLater(
            f"could not reach {server}: no answer within {server.timeout:g} s{hint}"
        ) from None
    except OSError as err:
        raise RetryLater(f"could not reach {server}: {err.strerror or err}") from None
    except aioimaplib.AioImapException as err:
        raise BadCredentials(f"{server} did not greet like an IMAP server: {err}") from None
    return client


async def _start_tls(server: ImapServer, client: aioimaplib.IMAP4) -> None:
    """STARTTLS (RFC 3501 §6.2.1): aioimaplib sends the command, the stream is upgraded
    in place and the capabilities read again, as they may change under TLS."""
    protocol = client.protocol
    if "STARTTLS" not in protocol.capabilities:
        raise BadCredentials(
            f"{server} does not offer STARTTLS: use TLS (usually port 993), or security "
            "None only on a trusted network"
        )
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    response = await protocol.execute(command)
    if response.result != "OK":
        raise BadCredentials(f"{server} refused STARTTLS: {_text(response)}")
    loop = asyncio.get_running_loop()
    try:
        protocol.transport = await loop.start_tls(
            protocol.transport,
            protocol,
            ssl.create_default_context(),
            server_hostname=server.host,
            ssl_handshake_timeout=server.timeout,
        )
    except ssl.SSLError as err:
        raise _tls_refused(server, err) from None
    await protocol.capability()


async def _login(server: ImapServer, client: aioimaplib.IMAP4) -> None:
    response = await client.login(aioimaplib.quoted(server.username), server.password)
    if response.result != "OK":
        text = _text(response)
        if "[UNAVAILABLE]" in text.upper():  # RFC 5530: the server's fault, for now
            raise RetryLater(f"{server} cannot log in now: {text}")
        raise BadCredentials(f"{server} refused the login of {server.username}: {text}")


@contextlib.asynccontextmanager
async def session(server: ImapServer) -> AsyncIterator[aioimaplib.IMAP4]:
    """A logged-in IMAP session, logged out after use."""
    await _resolve(server)
    client = await _connect(server)
    try:
        try:
            if server.security == "starttls":
                await _start_tls(server, client)
            await _login(server, client)
            yield client
        except (TimeoutError, aioimaplib.CommandTimeout) as err:
            raise RetryLater(f"{server} stopped answering: {type(err).__name__}") from None
        except (aioimaplib.Abort, ConnectionError) as err:
            raise RetryLater(f"{server} closed the connection: {err}") from None
    finally:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await client.logout()


async def require_folder(server: ImapServer, client: aioimaplib.IMAP4, folder: str) -> None:
    """Raise ``BadCredentials`` naming the folder (and those there are) when it is missing."""
    response = await client.examine(mailbox_name(folder))
    if response.result == "OK":
        return
    listed = await client.list('""', "*")
    names = [_listed_name(line) for line in listed.lines]
    there = ", ".join(sorted(name for name in names if name)[:20]) or "none listed"
    raise BadCredentials(
        f"{server} has no folder {folder!r} ({_text(response)}); its folders: {there}"
    )


_LIST_LINE = re.compile(rb'^\([^)]*\) (?:"[^"]*"|NIL) (?P<name>.+)$')


def _listed_name(line: bytes) -> str | None:
    """The name in one ``LIST`` reply line, as the server wrote it (quotes removed)."""
    found = _LIST_LINE.match(line.strip())
    if not found:
        return None
    name = found.group("name").decode("utf-8", "replace")
    return name[1:-1] if name.startswith('"') and name.endswith('"') else name


async def has_message_id(
    server: ImapServer, client: aioimaplib.IMAP4, folder: str, message_id: str
) -> bool:
    """Whether a mail with this Message-ID (without <>) is in ``folder``."""
    await require_folder(server, client, folder)
    # SELECT too: aioimaplib allows SEARCH only in the state its select() sets.
    selected = await client.select(mailbox_name(folder))
    if selected.result != "OK":
        raise RetryLater(f"{server} could not open {folder!r}: {_text(selected)}")
    response = await client.uid_search(
        "HEADER", "Message-ID", aioimaplib.quoted(f"<{message_id}>"), charset=None
    )
    if response.result != "OK":
        raise RetryLater(f"{server} could not search {folder!r}: {_text(response)}")
    # aioimaplib gives the untagged "* SEARCH 7 9" as b"7 9", then the tagged text.
    data: list[bytes] = response.lines[:-1]
    return any(word.isdigit() for line in data for word in line.split())


async def append(server: ImapServer, client: aioimaplib.IMAP4, folder: str, content: bytes) -> None:
    """File ``content`` in ``folder``, marked read (it is our own mail)."""
    response = await client.append(content, mailbox=mailbox_name(folder), flags=r"(\Seen)")
    if response.result != "OK":
        raise RetryLater(f"{server} did not store the mail in {folder!r}: {_text(response)}")
