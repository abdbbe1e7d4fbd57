"""The media store: attachment bytes kept by their sha256, and the workspace's file limits.

The store is pluggable: anything with ``put`` / ``read`` / ``exists`` (the ``MediaStore``
protocol) will do, e.g. an object store. The default keeps files in the data folder,
named by their sha256 and fanned out over two directory levels, so one folder never
holds millions of entries. Equal bytes are stored once.
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
from typing import Protocol

from hub.errors import HubError, Invalid

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
