"""The media store: attachment bytes kept by their sha256, and the workspace's file limits.

The store is pluggable: anything with ``put`` / ``read`` / ``exists`` (the ``MediaStore``
protocol) will do, e.g. an object store; put it under ``MEDIA_STORE`` in the app before
it starts. The default keeps files in the data folder, named by their sha256 and fanned
out over two directory levels, so one folder never holds millions of entries. Equal
bytes are stored once.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

from aiohttp import ChainMapProxy, web

from hub import appkeys
from hub.contract.models import media_kind_of
from hub.errors import HubError, Invalid
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.contract.channel import Capabilities

_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# The workspace defaults of issue 4 (respond.io's limits).
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FILES_PER_MESSAGE = 50
# The type served back is decided by the extension, never by what the uploader claimed,
# so a file cannot make itself e.g. text/html.
CONTENT_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "png": "image/png",
    "txt": "text/plain",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "mp3": "audio/mpeg",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "wav": "audio/wav",
    "mpg": "video/mpeg",
    "mpeg": "video/mpeg",
    "zip": "application/zip",
    "tar": "application/x-tar",
    "tgz": "application/gzip",
    "gz": "application/gzip",
    "pdf": "application/pdf",
    "log": "text/plain",
    "xml": "application/xml",
}
# What contacts send beyond the workspace's upload list: WhatsApp voice notes are
# OGG/Opus, stickers WebP, phones record M4A/AMR/3GP. Accepted inbound, never served
# as anything that could run (see ``content_disposition``).
INBOUND_EXTRA_TYPES: dict[str, str] = {
    "webp": "image/webp",
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/opus",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "amr": "audio/amr",
    "3gp": "video/3gpp",
    "webm": "video/webm",
}
# Types a browser may show in place: passive media only. SVG is an image that can run
# script, so it is never among them.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/bmp",
        "image/webp",
        "audio/mpeg",
        "audio/wav",
        "audio/ogg",
        "audio/opus",
        "audio/mp4",
        "audio/aac",
        "video/mp4",
        "video/quicktime",
        "video/mpeg",
        "video/webm",
        "video/3gpp",
    }
)
# Magic numbers of the common media types, for parts whose provider named no type.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (4, b"ftyp", "video/mp4"),
)


class MediaStore(Protocol):
    """Where attachment bytes live, addressed by their sha256 (hex, lower case)."""

    async def put(self, data: bytes) -> str:
        """Store ``data`` (once, however often it is put) and return its sha256."""
        ...

    async def read(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; ``FileNotFoundError`` when there are none."""
        ...

    async def exists(self, sha256: str) -> bool:
        """Whether bytes are stored under ``sha256``."""
        ...


class FileMediaStore:
    """The default store: files under ``root``, at ``ab/cd/abcd…`` for sha256 ``abcd…``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FileMediaStore:
        """The store of a hub's data folder: ``<data_dir>/media``."""
        return cls(data_dir / "media")

    def path_of(self, sha256: str) -> Path:
        """Where the file for ``sha256`` lives; ``FileNotFoundError`` for a malformed hash,
        which could otherwise name a path outside the store."""
        if not _SHA256.match(sha256):
            raise FileNotFoundError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def put(self, data: bytes) -> str:
        """Store ``data`` atomically and return its sha256; equal bytes are kept once."""
        sha256 = hashlib.sha256(data).hexdigest()
        # File I/O runs in a thread so a 20 MB write never stalls the event loop.
        await asyncio.to_thread(self._write, self.path_of(sha256), data)
        return sha256

    async def read(self, sha256: str) -> bytes:
        """The stored bytes; ``FileNotFoundError`` when there are none."""
        return await asyncio.to_thread(self.path_of(sha256).read_bytes)

    async def exists(self, sha256: str) -> bool:
        """Whether the file is there."""
        try:
            path = self.path_of(sha256)
        except FileNotFoundError:
            return False
        return await asyncio.to_thread(path.is_file)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.is_file():
            return  # content-addressed: the same name always holds the same bytes
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A temporary file in the same folder, then a rename: readers see the whole
        # file or none, and a crash mid-write leaves only a stray temporary file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class MediaLimits:
    """What a workspace accepts: size a file, files a message, types by extension."""

    max_file_bytes: int = MAX_FILE_BYTES
    max_files: int = MAX_FILES_PER_MESSAGE
    content_types: tuple[tuple[str, str], ...] = tuple(CONTENT_TYPES.items())

    def content_type_of(self, filename: str) -> str:
        """The content type served for ``filename``; 415 naming ``file`` when its
        extension is not allowed."""
        _, dot, extension = filename.rpartition(".")
        allowed = dict(self.content_types)
        if dot and extension.lower() in allowed:
            return allowed[extension.lower()]
        kinds = ", ".join(sorted(e.upper() for e in allowed))
        raise HubError(
            415,
            "unsupported_media_type",
            f"file: the type of {filename!r} is not allowed; allowed: {kinds}",
            [{"field": "file", "message": f"type not allowed; allowed: {kinds}"}],
        )

    def too_large(self) -> HubError:
        """The 413 for a file over ``max_file_bytes``, naming ``file``."""
        limit = f"{self.max_file_bytes // (1024 * 1024)} MB"
        return HubError(
            413,
            "too_large",
            f"file: larger than {limit}",
            [{"field": "file", "message": f"larger than the limit of {limit}"}],
        )

    def check_count(self, count: int, field: str = "attachments") -> None:
        """422 naming ``field`` when more than ``max_files`` files are given."""
        if count > self.max_files:
            raise Invalid(field, f"at most {self.max_files} files a message")


def safe_filename(raw: str | None) -> str:
    """A filename fit to store and show: its last path segment, without control
    characters, at most 200 characters (keeping the extension); 422 naming ``file``
    when nothing is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not name:
        raise Invalid("file", "the file has no usable filename")
    if len(name) > 200:
        stem, dot, extension = name.rpartition(".")
        keep_extension = dot and len(extension) <= 10
        name = stem[: 199 - len(extension)] + dot + extension if keep_extension else name[:200]
    return name


def default_media_store(settings: Settings) -> FileMediaStore:
    """The store a hub uses unless another is put under ``MEDIA_STORE``."""
    return FileMediaStore.in_data_dir(settings.data_dir)


def media_store_of(app: web.Application | ChainMapProxy, settings: Settings) -> MediaStore:
    """The app's media store: the one under ``MEDIA_STORE``, else the data folder's."""
    store = app.get(appkeys.MEDIA_STORE)
    return store if store is not None else default_media_store(settings)


def human_size(size: int) -> str:
    """``size`` bytes for people: ``20 MB``, ``100 KB``, ``512 bytes`` (1 MB = 1024 KB)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """A ``Content-Disposition`` value: an ASCII fallback name for old clients and the
    exact name per RFC 6266 / 5987."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def shown_inline(content_type: str) -> bool:
    """Whether a browser may show this type in place (passive image, audio, video)."""
    return content_type in INLINE_TYPES


def sniff_content_type(data: bytes) -> str | None:
    """The type the first bytes reveal, for the common media types; None otherwise."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    for offset, magic, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    return None


def inbound_types(limits: MediaLimits) -> dict[str, str]:
    """Every type accepted from a contact, by extension: the workspace's and the extras."""
    return {**dict(limits.content_types), **INBOUND_EXTRA_TYPES}


def inbound_content_type(
    limits: MediaLimits, declared: str | None, filename: str | None, data: bytes
) -> str | None:
    """The type to store an inbound file as, or None when it is not accepted.

    The provider's declared type wins when accepted; then what the bytes reveal; then
    the filename's extension. A declared type outside the list (e.g. ``text/html``) is
    refused even if the name looks harmless, since the provider knows better.
    """
    accepted = inbound_types(limits)
    if declared:
        declared = declared.split(";", 1)[0].strip().lower()
        return declared if declared in set(accepted.values()) else None
    sniffed = sniff_content_type(data)
    if sniffed is not None and sniffed in set(accepted.values()):
        return sniffed
    _, dot, extension = (filename or "").rpartition(".")
    return accepted.get(extension.lower()) if dot else None


def extension_for(limits: MediaLimits, content_type: str) -> str:
    """A usual extension for ``content_type`` (``bin`` when none is known)."""
    for extension, known in inbound_types(limits).items():
        if known == content_type:
            return extension
    return "bin"


@dataclass(frozen=True)
class OutgoingFile:
    """A file about to be sent: what the channel's limits are checked against."""

    filename: str
    content_type: str
    size: int


def check_channel_accepts(
    capabilities: Capabilities, channel_label: str, files: list[OutgoingFile]
) -> None:
    """Refuse files the channel cannot send, naming the limit and the channel.

    422 ``attachments`` when the channel sends no files at all; 415 when it cannot send
    a file's kind; 413 when a file is larger than the channel's limit for its kind. A
    kind the channel lacks goes as a document where it sends documents, as Telegram and
    WhatsApp send any file as one.
    """
    if not files:
        return
    media = capabilities.media
    if not media:
        raise Invalid("attachments", f"this channel cannot send files ({channel_label})")
    for file in files:
        kind = media_kind_of(file.content_type)
        if kind not in media and "document" in media:
            kind = "document"
        if kind not in media:
            sends = ", ".join(sorted(media))
            message = f"{channel_label} cannot send {kind} files like {file.filename!r}; it sends: {sends}"
            raise HubError(
                415,
                "unsupported_media_type",
                f"attachments: {message}",
                [{"field": "attachments", "message": message}],
            )
        if file.size > media[kind]:
            limit = human_size(media[kind])
            message = (
                f"{file.filename!r} is {human_size(file.size)}; {channel_label} accepts "
                f"{kind} files up to {limit}"
            )
            raise HubError(
                413,
                "too_large",
                f"attachments: {message}",
                [{"field": "attachments", "message": message}],
            )
