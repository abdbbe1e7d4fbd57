"""Fetching inbound media into attachments: the job behind ``Message.media_pending``.

The inbound pipe stores a message at once, its media parts as JSON and the message
marked ``media_pending``, so a provider is acknowledged without waiting for a download.
This job then asks the channel's plugin for each part's bytes, checks them against the
limits, stores them and writes ``attachment_id`` (or, when it failed for good,
``fetch_error``) into the part. Transient failures are retried with backoff, the count
kept in the part as ``fetch_attempts``; after the last attempt the part gets a
``fetch_error``. The message is always kept: an unavailable part shows its reason.

It runs in every hub process: it polls, and wakes early on inbound ``message.created``
events of messages with media pending. On PostgreSQL each message is taken under ``FOR UPDATE SKIP LOCKED``, so two
processes never fetch the same one; within a process, an in-flight set does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiohttp import web
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select, update

from hub import appkeys
from hub.contract.channel import ChannelType
from hub.contract.errors import PermanentFailure, RetryLater
from hub.contract.models import FileKind, MediaPart, StickerPart
from hub.errors import HubError
from hub.events.event import HubEvent
from hub.events.work import Work, unit_of_work
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.inbox.messages import announce_update
from hub.media.parts import BOOKKEEPING, part_is_pending
from hub.media.store import (
    MediaLimits,
    MediaStore,
    extension_for,
    human_size,
    inbound_content_type,
    media_store_of,
    safe_filename,
)
from hub.store.models import Attachment, Channel, Conversation, Message
from hub.store.types import utcnow

log = logging.getLogger(__name__)

CANNOT_FETCH = "this channel cannot download media"
_PART: TypeAdapter[MediaPart | StickerPart] = TypeAdapter(MediaPart | StickerPart)


@dataclass(frozen=True)
class MediaFetchOptions:
    """How the fetcher runs. Put one under ``appkeys.MEDIA_FETCH_OPTIONS`` before the app starts
    to change it (tests turn the background loop off and run passes themselves)."""

    background: bool = True
    poll_seconds: float = 5.0
    batch: int = 50
    concurrency: int = 4
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0


@dataclass
class FetcherState:
    """The fetcher's per-process state: messages being fetched now, so two passes never overlap."""

    in_flight: set[int] = field(default_factory=set)


def _part_is_due(part: dict[str, Any], now: datetime) -> bool:
    retry_at = part.get("fetch_retry_at")
    if not isinstance(retry_at, str):
        return True
    try:
        return datetime.fromisoformat(retry_at) <= now
    except ValueError:
        return True


def _message_is_due(parts: list[dict[str, Any]], now: datetime) -> bool:
    pending = [p for p in parts if part_is_pending(p)]
    # A message with nothing left pending is due too: its flag is cleared on the pass.
    return not pending or any(_part_is_due(p, now) for p in pending)


def fetch_options(app: web.Application) -> MediaFetchOptions:
    """The app's fetcher options: those under ``appkeys.MEDIA_FETCH_OPTIONS``, else the defaults."""
    return app.get(appkeys.MEDIA_FETCH_OPTIONS) or MediaFetchOptions()


# --- one pass ----------------------------------------------------------------------------


async def fetch_pending_media(
    app: web.Application, *, limit: int | None = None, now: datetime | None = None
) -> int:
    """Fetch the media of up to ``limit`` due pending messages (default: one batch);
    return how many messages were worked on. ``now`` moves the clock for tests."""
    options = fetch_options(app)
    now = now or utcnow()
    state = app.get(appkeys.MEDIA_FETCHER) or FetcherState()
    candidates = await _due_message_ids(app, limit or options.batch, now, state)
    gate = asyncio.Semaphore(options.concurrency)

    async def one(message_id: int) -> int:
        async with gate:
            if message_id in state.in_flight:
                return 0  # another pass of this process took it meanwhile
            state.in_flight.add(message_id)
            try:
                return await _settle_message(app, message_id, now, options)
            except Exception:
                # One broken message must not stop the others; it is tried next pass.
                log.exception("media of message %s: fetch pass failed", message_id)
                return 0
            finally:
                state.in_flight.discard(message_id)

    return sum(await asyncio.gather(*(one(i) for i in candidates)))


async def _due_message_ids(
    app: web.Application, limit: int, now: datetime, state: FetcherState
) -> list[int]:
    """Pending messages whose parts are due, oldest first. Messages waiting out a
    backoff are skipped in pages, so they never starve the ones behind them."""
    found: list[int] = []
    last_id = 0
    async with app[appkeys.SESSIONS]() as db:
        while len(found) < limit:
            rows = (
                await db.execute(
                    select(Message.id, Message.parts)
                    .where(Message.media_pending.is_(True), Message.id > last_id)
                    .order_by(Message.id)
                    .limit(200)
                )
            ).all()
            if not rows:
                break
            last_id = rows[-1][0]
            found.extend(
                message_id
                for message_id, parts in rows
                if message_id not in state.in_flight and _message_is_due(parts or [], now)
            )
    return found[:limit]


@dataclass
class _Fetch:
    """What one message's parts are fetched with."""

    work: Work
    message: Message
    channel_type: type[ChannelType[Any]] | None
    plugin: ChannelType[Any] | None
    # A reason that fails every part for good, or delays every part (transient).
    permanent: str | None
    transient: str | None
    store: MediaStore
    limits: MediaLimits
    options: MediaFetchOptions
    now: datetime


async def _settle_message(
    app: web.Application, message_id: int, now: datetime, options: MediaFetchOptions
) -> int:
    async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
        query = select(Message).where(Message.id == message_id, Message.media_pending.is_(True))
        if not app[appkeys.SETTINGS].is_sqlite:
            # Held through the download: another process skips this message meanwhile.
            query = query.with_for_update(skip_locked=True)
        message = await work.db.scalar(query)
        if message is None or not _message_is_due(list(message.parts or []), now):
            return 0  # done meanwhile, or another process holds it
        fetch = await _fetch_context(app, work, message, now, options)
        parts = [dict(p) for p in message.parts or []]
        settled_any = False
        for index, part in enumerate(parts):
            if part_is_pending(part) and _part_is_due(part, now):
                parts[index] = await _settle_part(fetch, part, index)
                settled_any = settled_any or not part_is_pending(parts[index])
        if app[appkeys.SETTINGS].is_sqlite:
            parts = await _with_added_parts(work, message.id, list(message.parts or []), parts)
        message.parts = parts  # a new list: JSON columns track assignment, not mutation
        if not any(part_is_pending(p) for p in parts):
            message.media_pending = False
        await work.db.flush()
        if settled_any or not message.media_pending:
            await _announce(work, message)
    return 1


async def _with_added_parts(
    work: Work, message_id: int, before: list[dict[str, Any]], settled: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The settled parts onto the row's parts as they are now: without a row lock
    (SQLite), an album item may have added parts during the download
    (``hub.inbox.intake_groups``). A no-op write takes the database's write lock first,
    so nothing changes the row between this read and the write."""
    await work.db.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(media_pending=Message.media_pending)
        .execution_options(synchronize_session=False)
    )
    current = await work.db.scalar(select(Message.parts).where(Message.id == message_id))
    done = {_identity(old): new for old, new in zip(before, settled, strict=True)}
    return [done.get(_identity(part), part) for part in current or []]


def _identity(part: dict[str, Any]) -> str:
    return json.dumps(_clean(part), sort_keys=True, default=str)


async def _fetch_context(
    app: web.Application, work: Work, message: Message, now: datetime, options: MediaFetchOptions
) -> _Fetch:
    settings = app[appkeys.SETTINGS]
    fetch = _Fetch(
        work=work,
        message=message,
        channel_type=None,
        plugin=None,
        permanent=None,
        transient=None,
        store=media_store_of(app, settings),
        limits=MediaLimits(),
        options=options,
        now=now,
    )
    channel = await work.db.get(Channel, message.channel_id)
    if channel is None or channel.deleted_at is not None:
        fetch.permanent = "the channel was deleted"
        return fetch
    instances = app[appkeys.CHANNELS]
    fetch.channel_type = instances.types.get(channel.type)
    if fetch.channel_type is not None and not fetch.channel_type.supports("fetch_media"):
        fetch.permanent = CANNOT_FETCH
        return fetch
    try:
        fetch.plugin = instances.for_channel(channel)
    except ChannelUnavailable as err:
        # An admin may install the plugin or fix the settings: worth retrying.
        fetch.transient = f"the channel is unavailable: {err.reason}"
    return fetch


# --- one part ------------------------------------------------------------------------------


def _clean(part: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in part.items() if k not in BOOKKEEPING}


def _failed(part: dict[str, Any], reason: str) -> dict[str, Any]:
    log.info("inbound media part given up: %s", reason)
    return {
        **_clean(part),
        "fetch_attempts": part.get("fetch_attempts", 0) + 1,
        "fetch_error": reason,
    }


def _retry(fetch: _Fetch, part: dict[str, Any], reason: str, after: float | None) -> dict[str, Any]:
    attempts = int(part.get("fetch_attempts", 0)) + 1
    options = fetch.options
    if attempts >= options.max_attempts:
        return {
            **_clean(part),
            "fetch_attempts": attempts,
            "fetch_error": f"gave up after {attempts} attempts: {reason}",
        }
    backoff = min(options.backoff_max_seconds, options.backoff_seconds * 2 ** (attempts - 1))
    # Jitter spreads the retries of many parts that failed together (a provider outage).
    delay = max(after or 0.0, backoff * (1 + random.random() / 4))  # noqa: S311 - not crypto
    return {
        **_clean(part),
        "fetch_attempts": attempts,
        "fetch_retry_at": (fetch.now + timedelta(seconds=delay)).isoformat(),
        "fetch_last_error": reason,
    }


async def _download(fetch: _Fetch, parsed: MediaPart | StickerPart) -> bytes:
    assert fetch.plugin is not None
    data: bytes = await fetch.plugin.fetch_media(parsed)
    return data


def _size_limit(fetch: _Fetch, kind: FileKind) -> int:
    workspace = fetch.limits.max_file_bytes
    channel = fetch.channel_type.capabilities.media.get(kind) if fetch.channel_type else None
    return min(workspace, channel) if channel else workspace


async def _settle_part(fetch: _Fetch, part: dict[str, Any], index: int) -> dict[str, Any]:
    try:
        # source_external_id: the album item the part came from (hub.inbox.intake_groups).
        parsed = _PART.validate_python(
            {k: v for k, v in _clean(part).items() if k != "source_external_id"}
        )
    except ValidationError:
        return _failed(part, "the media part is malformed")
    if fetch.permanent is not None:
        return _failed(part, fetch.permanent)
    if fetch.transient is not None or fetch.plugin is None:
        return _retry(fetch, part, fetch.transient or "the channel is unavailable", None)
    kind: FileKind = parsed.media_kind if isinstance(parsed, MediaPart) else "sticker"
    limit = _size_limit(fetch, kind)
    too_large = f"larger than the limit of {human_size(limit)} for {kind} files"
    if isinstance(parsed, MediaPart) and parsed.size is not None and parsed.size > limit:
        return _failed(part, too_large)  # known before downloading it
    try:
        data = await _download(fetch, parsed)
    except PermanentFailure as err:
        return _failed(part, err.message)
    except RetryLater as err:
        return _retry(fetch, part, str(err), err.after)
    except (httpx.HTTPError, OSError, TimeoutError) as err:
        return _retry(fetch, part, f"network error: {type(err).__name__}: {err}", None)
    except NotImplementedError:
        return _failed(part, CANNOT_FETCH)
    except Exception as err:  # a plugin bug: logged, retried, then given up
        log.exception("channel plugin failed to fetch media of message %s", fetch.message.id)
        return _retry(fetch, part, f"the channel plugin failed: {type(err).__name__}", None)
    if not isinstance(data, bytes | bytearray) or not data:
        return _failed(part, "the channel returned no bytes")
    if len(data) > limit:
        return _failed(part, too_large)
    filename = parsed.filename if isinstance(parsed, MediaPart) else None
    content_type = inbound_content_type(fetch.limits, parsed.mime_type, filename, bytes(data))
    if content_type is None:
        return _failed(part, f"the type {parsed.mime_type or 'unknown'} is not allowed")
    attachment = await _store(fetch, bytes(data), filename, content_type, kind, index)
    return {**_clean(part), "attachment_id": attachment.id}


async def _store(
    fetch: _Fetch, data: bytes, filename: str | None, content_type: str, kind: str, index: int
) -> Attachment:
    try:
        name = safe_filename(filename)
    except HubError:
        # Providers often give no name (photos, voice notes): make a telling one.
        extension = extension_for(fetch.limits, content_type)
        name = f"{kind}-{fetch.message.id}-{index + 1}.{extension}"
    sha256 = await fetch.store.put(data)
    attachment = Attachment(
        message_id=fetch.message.id,
        sha256=sha256,
        filename=name,
        content_type=content_type,
        size=len(data),
    )
    fetch.work.db.add(attachment)
    await fetch.work.db.flush()
    return attachment


async def _announce(work: Work, message: Message) -> None:
    conversation = await work.db.get(Conversation, message.conversation_id)
    if conversation is not None:
        await announce_update(work, message, conversation)


# --- the background job --------------------------------------------------------------------


async def run_fetcher(app: web.Application, stop: asyncio.Event, wake: asyncio.Event) -> None:
    """Fetch passes until ``stop`` is set: again at once while a pass fills its batch,
    else after ``poll_seconds`` or when ``wake`` is set."""
    options = fetch_options(app)
    while not stop.is_set():
        wake.clear()
        worked = 0
        try:
            worked = await fetch_pending_media(app)
        except Exception:
            log.exception("inbound media pass failed; retrying in %ss", options.poll_seconds)
        if worked >= options.batch:
            continue  # more may be waiting
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=options.poll_seconds)


async def wake_on_inbound(app: web.Application, wake: asyncio.Event) -> None:
    """Set ``wake`` whenever an inbound message with media to fetch is stored."""
    subscription = app[appkeys.BUS].subscribe()
    try:
        async for event in subscription:
            if wakes_fetcher(event):
                wake.set()
    finally:
        subscription.close()


def wakes_fetcher(event: HubEvent) -> bool:
    """Whether ``event`` announces an inbound message whose media is pending.

    Only those: waking on every inbound message cost a query per message (the pass
    looking for pending media) when almost none has any. A message without the flag
    (sent by an older process) wakes it, to be safe; media added to a message later
    (a grouped part) waits for the next poll, as before.
    """
    return (
        event.type == "message.created"
        and event.data.get("direction") == "in"
        and event.data.get("media_pending", True) is not False
    )
