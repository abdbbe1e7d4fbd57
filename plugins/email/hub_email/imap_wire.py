"""The IMAP wire details the session needs: reading aioimaplib's responses (FETCH
data, the server's words), and writing UID sets, quoted strings and folder names."""

from __future__ import annotations

import base64
import os
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from aioimaplib import aioimaplib

_FETCH_LINE = re.compile(rb"^\d+ FETCH \(")
_LITERAL_END = re.compile(rb"\{(\d+)\}$")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')


@dataclass(frozen=True)
class FetchedMail:
    """One mail as UID FETCH returned it: the whole message, or its header alone."""

    uid: int
    size: int
    flags: frozenset[str]
    internaldate: str | None
    raw: bytes


def parse_fetch(response: aioimaplib.Response) -> list[FetchedMail]:
    """The mails of a UID FETCH answer. aioimaplib gives each ``n FETCH (…`` line, the
    literal (a bytearray) when the line ends with ``{size}``, then the rest of the
    response's text; attributes may come before or after the literal."""
    found: list[FetchedMail] = []
    meta: list[bytes] = []
    literal: bytes | None = None

    def finish() -> None:
        text = b" ".join(meta)
        uid = _UID.search(text)
        if uid is None:  # an unsolicited FETCH (a flag change) carries no UID we asked for
            return
        size = _SIZE.search(text)
        flags = _FLAGS.search(text)
        date = _INTERNALDATE.search(text)
        found.append(
            FetchedMail(
                uid=int(uid.group(1)),
                size=int(size.group(1)) if size else len(literal or b""),
                flags=frozenset(flags.group(1).decode().split()) if flags else frozenset(),
                internaldate=date.group(1).decode() if date else None,
                raw=bytes(literal or b""),
            )
        )

    for line in response.lines:
        if isinstance(line, bytearray):
            literal = bytes(line)
            continue
        if _FETCH_LINE.match(line):
            if meta:
                finish()
            meta, literal = [_LITERAL_END.sub(b"", line)], None
        elif meta:
            meta.append(line)
    if meta:
        finish()
    return found


def lines_of(response: aioimaplib.Response) -> list[bytes]:
    """The text lines of a response (literals left out)."""
    return [line for line in response.lines if isinstance(line, bytes)]


def text_of(response: aioimaplib.Response) -> str:
    """The server's own words from a response (its last text line)."""
    lines = lines_of(response)
    return lines[-1].decode(errors="replace").strip() if lines else response.result


def uid_set(uids: Sequence[int]) -> str:
    """An IMAP sequence set of UIDs, ranges collapsed (``1:3,7``)."""
    ordered = sorted(set(uids))
    ranges: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:]:
        if uid == prev + 1:
            prev = uid
            continue
        ranges.append(f"{start}:{prev}" if prev > start else str(start))
        start = prev = uid
    ranges.append(f"{start}:{prev}" if prev > start else str(start))
    return ",".join(ranges)


def mailbox_name(folder: str) -> str:
    """A folder name as IMAP carries it: modified UTF-7 (RFC 3501 5.1.3), so "Entwürfe"
    is ``Entw&APw-rfe``; printable ASCII stays itself and ``&`` becomes ``&-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            packed = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + packed.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return quote("".join(out))


def quote(value: str) -> str:
    """An IMAP quoted string; CR/LF are refused by aioimaplib itself."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def reason(err: BaseException) -> str:
    """The operating system's words for a failed connection ("Connection refused")."""
    if isinstance(err, socket.gaierror):
        return err.strerror or "unknown host"
    if isinstance(err, OSError) and err.errno:
        return os.strerror(err.errno)
    return str(err) or type(err).__name__
