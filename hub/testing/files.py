"""An in-memory file store for a plugin's unit tests of ``send`` with attachments.

Pass it as ``ChannelContext(..., files=store)``; ``store.attachment(...)`` keeps the
bytes and returns the ``OutboundAttachment`` the core would hand the plugin, so the
plugin's ``context.read_attachment`` reads them as it would from the hub's store.
"""

from __future__ import annotations

import hashlib

from hub.contract import OutboundAttachment


class MemoryFiles:
    """The core's file store, in a dict: bytes by their sha256."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def attachment(
        self,
        content: bytes,
        *,
        filename: str,
        content_type: str,
        url: str | None = None,
    ) -> OutboundAttachment:
        """Keep ``content`` and return the attachment naming it (``url`` when given)."""
        sha256 = hashlib.sha256(content).hexdigest()
        self._files[sha256] = content
        return OutboundAttachment(
            filename=filename,
            content_type=content_type,
            size=len(content),
            sha256=sha256,
            url=url,
        )

    async def read(self, sha256: str) -> bytes:
        """The bytes kept under ``sha256``; ``FileNotFoundError`` when there are none."""
        try:
            return self._files[sha256]
        except KeyError:
            raise FileNotFoundError(f"no file {sha256}") from None
