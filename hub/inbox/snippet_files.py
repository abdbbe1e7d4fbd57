"""A snippet's files: claimed from the uploads of the admin saving it (or uploaded to it
from the admin page), visible to every user like the snippet, and copied for the agent
who uses the snippet.

A copy is a fresh upload of the agent's pointing at the same stored bytes (same sha256;
the media store is addressed by content, so nothing is copied): it is attached to their
message like any upload, and removing it from the composer leaves the snippet as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer
from hub.errors import Invalid, NotFound
from hub.inbox.snippets import get_snippet, require_admin
from hub.inbox.timeline import check_uploads, claim_uploads
from hub.media.store import MediaLimits
from hub.store.models import Attachment


async def files_of(db: AsyncSession, snippet_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """The files of the given snippets, by snippet id, each list in upload order."""
    found: dict[int, list[Attachment]] = {i: [] for i in snippet_ids}
    if not snippet_ids:
        return found
    rows = await db.scalars(
        select(Attachment).where(Attachment.snippet_id.in_(snippet_ids)).order_by(Attachment.id)
    )
    for row in rows:
        found[row.snippet_id].append(row)  # type: ignore[index]
    return found


def _check_count(count: int, limits: MediaLimits) -> None:
    # A snippet's files all go into one message, so a message's limit is the snippet's.
    if count > limits.max_files:
        raise Invalid("attachments", f"at most {limits.max_files} files a snippet")


async def set_files(
    db: AsyncSession,
    actor: Viewer,
    snippet_id: int,
    ids: Sequence[int],
    limits: MediaLimits | None = None,
) -> list[Attachment]:
    """Make a snippet's files exactly ``ids`` (owners and managers): its files listed
    stay, the caller's uploads listed are claimed, its files not listed are removed.
    422 naming ``attachments`` for any other id, or too many files."""
    require_admin(actor)
    await get_snippet(db, snippet_id)
    if len(set(ids)) != len(ids):
        raise Invalid("attachments", "an attachment is given more than once")
    _check_count(len(ids), limits or MediaLimits())
    current = {a.id for a in (await files_of(db, [snippet_id]))[snippet_id]}
    new = [i for i in ids if i not in current]
    await check_uploads(db, actor, new)
    gone = current - set(ids)
    if gone:
        await db.execute(delete(Attachment).where(Attachment.id.in_(gone)))
    await claim_uploads(db, actor, new, snippet_id=snippet_id)
    return (await files_of(db, [snippet_id]))[snippet_id]


async def add_file(
    db: AsyncSession,
    actor: Viewer,
    snippet_id: int,
    *,
    sha256: str,
    filename: str,
    content_type: str,
    size: int,
    limits: MediaLimits | None = None,
) -> Attachment:
    """Add a stored file to a snippet (owners and managers); 422 naming ``file`` when the
    snippet has as many files as a message may carry."""
    require_admin(actor)
    await get_snippet(db, snippet_id)
    limits = limits or MediaLimits()
    count = len((await files_of(db, [snippet_id]))[snippet_id])
    if count + 1 > limits.max_files:
        raise Invalid("file", f"at most {limits.max_files} files a snippet")
    attachment = Attachment(
        uploaded_by=actor.id,
        snippet_id=snippet_id,
        sha256=sha256,
        filename=filename,
        content_type=content_type,
        size=size,
    )
    db.add(attachment)
    await db.flush()
    return attachment


async def remove_file(db: AsyncSession, actor: Viewer, snippet_id: int, attachment_id: int) -> str:
    """Remove one of a snippet's files (owners and managers), returning its name; 404
    when the snippet has no such file. The stored bytes stay: other rows may share them."""
    require_admin(actor)
    attachment = await db.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.snippet_id == snippet_id
        )
    )
    if attachment is None:
        raise NotFound("attachment")
    await db.delete(attachment)
    await db.flush()
    return attachment.filename


async def copies_for(db: AsyncSession, viewer: Viewer, snippet_id: int) -> list[Attachment]:
    """Fresh uploads of ``viewer`` with a snippet's files' bytes, ready to attach to a
    message or a comment of theirs."""
    copies = [
        Attachment(
            uploaded_by=viewer.id,
            sha256=f.sha256,
            filename=f.filename,
            content_type=f.content_type,
            size=f.size,
        )
        for f in (await files_of(db, [snippet_id]))[snippet_id]
    ]
    db.add_all(copies)
    await db.flush()
    return copies
