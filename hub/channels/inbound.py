"""The inbound pipe: a webhook request → the channel's plugin → the inbound log and the
inbox, acknowledged only after the commit.

The plugin verifies and normalizes; the pipe owns everything else: the raw request and
its events in the inbound log (for audit and replay), holding events of a disabled
channel, the intake into the inbox (``hub.inbox.intake``), and answering the provider.
Every write goes through the group committer, so requests arriving together share one
transaction while each is answered only after its own commit. A request with many
events is stored in chunks, each its own job and commit, so one channel's big batch
never holds the queue for another channel's requests; it is answered only after its
last chunk is committed, and a retry after a partial store finds the stored events
as duplicates (provider ids are unique per channel).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from hub.channels.group_commit import CommitterStopped, GroupCommitter
from hub.channels.registry import ChannelInstances
from hub.channels.reject_limit import RejectLimit
from hub.channels.webhook_body import body_problem
from hub.contract.errors import WebhookRejected
from hub.contract.models import InboundEvent, WebhookRequest, WebhookResponse, WebhookResult
from hub.errors import HubError, NotFound
from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.inbox.intake import take_events
from hub.inbox.intake_batch import Delivery
from hub.inbox.intake_result import Intake
from hub.inbox.storable import log_row
from hub.store.busy import RETRY_AFTER_SECONDS, is_busy
from hub.store.models import Channel, InboundLogEntry
from hub.store.types import utcnow

log = logging.getLogger(__name__)

EVENTS = TypeAdapter(list[InboundEvent])
ERROR_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
}


@dataclass(frozen=True)
class Answer:
    """What the provider is told: a JSON body, or the plugin's own response."""

    status: int
    body: dict[str, Any] | None = None
    response: WebhookResponse | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(
        cls, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> Answer:
        """An error in the hub's one error shape."""
        body = {"error": {"code": code, "message": message, "details": None}}
        return cls(status, body, headers=headers or {})


@dataclass
class ReplayCounts:
    """What a replay did: entries replayed, and what became of their events."""

    entries: int = 0
    stored: int = 0
    duplicates: int = 0
    unknown: int = 0
    failed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def add(self, intakes: Sequence[Intake]) -> None:
        """Count one replayed entry's events."""
        self.entries += 1
        for intake in intakes:
            if intake.outcome == "stored":
                self.stored += 1
            elif intake.outcome == "duplicate":
                self.duplicates += 1
            else:
                self.unknown += 1


def summarize(intakes: Sequence[Intake]) -> tuple[str, str | None]:
    """The log ``result`` and ``reason`` of a processed request."""
    unknown = sum(1 for i in intakes if i.outcome == "unknown")
    reason = f"unknown message ({unknown} status update(s) for no message of ours)"
    if intakes and all(i.outcome == "duplicate" for i in intakes):
        return "duplicate", None
    return "stored", reason if unknown else None


def _entry(
    channel_id: int | None,
    request: WebhookRequest,
    result: str,
    status: int,
    reason: str | None = None,
    events: Sequence[Any] | None = None,
    *,
    rejected_body_bytes: int = 4096,
) -> InboundLogEntry:
    row = log_row(
        channel_id, request, result, status, reason, events, rejected_body_bytes=rejected_body_bytes
    )
    return InboundLogEntry(**row)


class InboundPipe:
    """Receives webhook requests and replays logged ones."""

    def __init__(
        self,
        committer: GroupCommitter,
        channels: ChannelInstances,
        *,
        max_events: int = 1000,
        chunk_events: int = 100,
        max_depth: int = 64,
        rejected_body_bytes: int = 4096,
        rejected_per_minute: int = 30,
    ) -> None:
        self.committer = committer
        self._channels = channels
        self._max_events = max_events
        self._chunk_events = chunk_events
        self._max_depth = max_depth
        self._prefix = rejected_body_bytes
        self.rejections = RejectLimit(rejected_per_minute)

    # --- receiving -------------------------------------------------------------------

    async def _log(self, entry: InboundLogEntry) -> None:
        async def write(work: Work) -> None:
            work.db.add(entry)

        try:
            await self.committer.submit(write)
        except Exception:  # the answer still goes out; the access log has the request
            log.exception("could not log an inbound request of channel %s", entry.channel_id)

    async def reject(
        self,
        channel: Channel,
        request: WebhookRequest,
        status: int,
        reason: str,
        source: str | None = None,
    ) -> Answer:
        """Log a refused request (``rejected``) and answer it; the inbox is untouched.

        A ``source`` address past its rejections for the minute gets 429 instead, and
        is not logged: a flood of junk must not fill the log. Only refusals are limited,
        so a provider behind the same address (or proxy) as the flood still gets through.
        """
        wait = self.rejections.retry_after(source)
        if wait:
            message = "too many rejected requests from this address; retry later"
            return Answer.error(429, "throttled", message, {"Retry-After": str(wait)})
        self.rejections.record(source)
        entry = _entry(
            channel.id, request, "rejected", status, reason, rejected_body_bytes=self._prefix
        )
        await self._log(entry)
        return Answer.error(status, ERROR_CODES.get(status, "rejected"), reason)

    async def receive(
        self, channel: Channel, request: WebhookRequest, source: str | None = None
    ) -> Answer:
        """Verify and normalize through the plugin, then log and take the events;
        ``source`` is the sender's address, whose rejections are limited."""
        if channel.deleted_at is not None:
            return await self.reject(channel, request, 404, "channel not found", source)
        problem = body_problem(request, self._max_depth)
        if problem is not None:
            return await self.reject(channel, request, 400, problem, source)
        try:
            plugin = self._channels.for_channel(channel)
        except ChannelUnavailable as err:
            log.warning("webhook of unavailable channel %s: %s", channel.id, err.reason)
            await self._log(_entry(channel.id, request, "error", 503, err.reason))
            return Answer.error(503, "channel_unavailable", "the channel cannot receive now")
        try:
            result = await plugin.handle_webhook(request)
            if not isinstance(result, WebhookResult):
                raise TypeError(f"handle_webhook returned {type(result).__name__}")
        except WebhookRejected as err:
            status = err.status if 400 <= err.status < 500 else 400
            return await self.reject(channel, request, status, err.reason, source)
        except Exception as err:
            log.exception("plugin of channel %s (%s) failed on a webhook", channel.id, channel.type)
            reason = f"plugin error: {type(err).__name__}: {err}"[:2000]
            await self._log(_entry(channel.id, request, "error", 503, reason))
            return Answer.error(503, "plugin_error", "the channel's plugin failed; retry later")
        if len(result.events) > self._max_events:
            # One request's events are stored before it is answered: an unbounded count
            # would hold the answer (and the provider's connection) for as long as it takes.
            reason = (
                f"the request carries {len(result.events)} events; at most "
                f"{self._max_events} per request (HUB_WEBHOOK_MAX_EVENTS)"
            )
            return await self.reject(channel, request, 413, reason, source)
        return await self._take(channel.id, request, result)

    def _chunk_job(
        self,
        channel_id: int,
        request: WebhookRequest,
        events: list[InboundEvent],
        chunk: list[InboundEvent],
        *,
        last: bool,
        stored_before: bool,
    ) -> Any:
        """The job storing one chunk of a request's events; the last also logs the request
        with all its events (a request of one chunk is its own last chunk)."""

        async def job(work: Work) -> str:
            # The row as of this transaction: disabled or deleted since the request came.
            channel = await work.db.get(Channel, channel_id)
            if channel is None or channel.deleted_at is not None:
                raise NotFound("channel")
            if not channel.enabled:
                # Held whole: replaying it takes every event, the stored ones as duplicates.
                work.db.add(_entry(channel_id, request, "held", 200, "channel disabled", events))
                return "held"
            outcome, reason = summarize(await take_events(work, channel, chunk))
            if last:
                if outcome == "duplicate" and stored_before:
                    outcome = "stored"
                work.db.add(_entry(channel_id, request, outcome, 200, reason, events))
            return outcome

        return job

    async def _store(
        self, channel_id: int, request: WebhookRequest, events: list[InboundEvent]
    ) -> str:
        """Store the events in chunks of at most ``chunk_events``, each its own job and
        commit, so other channels' requests queued meanwhile are committed in between;
        the outcome once the last chunk (and the log row) is committed."""
        size = self._chunk_events
        chunks = [events[i : i + size] for i in range(0, len(events), size)] or [events]
        stored_before = False
        outcome = "stored"
        for number, chunk in enumerate(chunks):
            last = number == len(chunks) - 1
            hint = Delivery(
                channel_id,
                chunk,
                request,
                logged=last,
                logged_events=events if len(chunks) > 1 else None,
            )
            job = self._chunk_job(
                channel_id, request, events, chunk, last=last, stored_before=stored_before
            )
            outcome = await self.committer.submit(job, hint=hint)
            if outcome == "held":
                break
            stored_before = stored_before or outcome == "stored"
        return outcome

    async def _take(
        self, channel_id: int, request: WebhookRequest, result: WebhookResult
    ) -> Answer:
        events = list(result.events)
        try:
            outcome = await self._store(channel_id, request, events)
        except CommitterStopped:
            return Answer.error(503, "shutting_down", "the hub is restarting; retry later")
        except NotFound:
            entry = _entry(
                channel_id,
                request,
                "rejected",
                404,
                "channel not found",
                rejected_body_bytes=self._prefix,
            )
            await self._log(entry)
            return Answer.error(404, "not_found", "channel not found")
        except Exception as err:
            if is_busy(err):
                # Logging it would wait for the same lock again; the provider retries.
                log.warning("database busy storing a webhook of channel %s", channel_id)
                return Answer.error(
                    503,
                    "database_busy",
                    "the database is busy; retry shortly",
                    {"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            log.exception("storing the events of a webhook of channel %s failed", channel_id)
            reason = f"processing failed: {type(err).__name__}: {err}"[:2000]
            await self._log(_entry(channel_id, request, "error", 503, reason, events))
            return Answer.error(503, "processing_error", "the events could not be stored; retry")
        if result.response is not None:
            return Answer(result.response.status, response=result.response)
        return Answer(200, {"ok": True, "result": outcome, "events": len(events)})

    # --- replay ----------------------------------------------------------------------

    def _replay_job(self, entry_id: int, channel_id: int | None) -> Any:
        async def job(work: Work) -> list[Intake]:
            entry = await work.db.get(InboundLogEntry, entry_id)
            if entry is None or (channel_id is not None and entry.channel_id != channel_id):
                raise NotFound("inbound log entry")
            if entry.events is None:
                raise HubError(409, "nothing_to_replay", "nothing verified to replay")
            channel = await work.db.get(Channel, entry.channel_id) if entry.channel_id else None
            if channel is None or channel.deleted_at is not None:
                raise HubError(409, "channel_deleted", "the entry's channel has been deleted")
            if not channel.enabled:
                raise HubError(409, "channel_disabled", "enable the channel before replaying")
            try:
                events = EVENTS.validate_python(entry.events)
            except ValidationError as err:
                raise HubError(409, "events_unreadable", f"stored events invalid: {err}") from None
            intakes = await take_events(work, channel, events)
            entry.result, entry.reason = summarize(intakes)
            entry.replayed_at = utcnow()
            return intakes

        return job

    async def replay(self, entry_id: int) -> list[Intake]:
        """Take one logged entry's events again; known ones are duplicates (idempotent)."""
        try:
            intakes: list[Intake] = await self.committer.submit(self._replay_job(entry_id, None))
        except CommitterStopped:
            raise HubError(503, "shutting_down", "the hub is restarting; retry later") from None
        return intakes

    async def replay_held(self, channel_id: int) -> ReplayCounts:
        """Replay every held entry of an enabled channel, oldest first."""

        async def held(work: Work) -> list[int]:
            channel = await work.db.get(Channel, channel_id)
            if channel is None or channel.deleted_at is not None:
                raise NotFound("channel")
            if not channel.enabled:
                raise HubError(409, "channel_disabled", "enable the channel before replaying")
            ids = await work.db.scalars(
                select(InboundLogEntry.id)
                .where(InboundLogEntry.channel_id == channel_id, InboundLogEntry.result == "held")
                .order_by(InboundLogEntry.id)
            )
            return list(ids)

        counts = ReplayCounts()
        for entry_id in await self.committer.submit(held):
            try:
                counts.add(await self.committer.submit(self._replay_job(entry_id, channel_id)))
            except HubError as err:
                counts.failed += 1
                counts.failures.append({"entry_id": entry_id, "message": err.message})
        return counts
