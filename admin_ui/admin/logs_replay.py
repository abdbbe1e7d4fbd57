"""Replaying inbound log entries from the admin pages, and saying in plain words what
happened: how many events were stored, already in the inbox, or refused and why."""

from __future__ import annotations

from aiohttp import web

from admin_ui.flash import Flash
from hub import appkeys
from hub.channels.inbound import ReplayCounts
from hub.errors import HubError

# The replay service's refusals, as a sentence an admin can act on.
WHY = {
    "channel_disabled": "its channel is disabled; enable the channel, then replay",
    "channel_deleted": "its channel has been deleted",
    "nothing_to_replay": "it has nothing to replay: the request was refused before its "
    "events were verified",
    "shutting_down": "the hub is restarting; try again in a moment",
    "not_found": "there is no such entry",
}
MAX_SELECTED = 100


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def why_not(err: HubError) -> str:
    """Why an entry could not be replayed, readable."""
    return WHY.get(err.code, err.message)


def outcome(counts: ReplayCounts) -> str:
    """What a replay did to the events, e.g. "1 event stored, 2 already in the inbox"."""
    parts = []
    if counts.stored:
        parts.append(_count(counts.stored, "event stored", "events stored"))
    if counts.duplicates:
        parts.append(f"{counts.duplicates} already in the inbox")
    if counts.unknown:
        parts.append(
            _count(counts.unknown, "status update", "status updates")
            + " for messages the hub does not have"
        )
    return ", ".join(parts) if parts else "no events in it"


async def replay_entries(app: web.Application, entry_ids: list[int]) -> ReplayCounts:
    """Replay each entry in turn; a refused one is counted with its reason, the rest go on."""
    counts = ReplayCounts()
    for entry_id in entry_ids:
        try:
            counts.add(await app[appkeys.INBOUND].replay(entry_id))
        except HubError as err:
            counts.failed += 1
            counts.failures.append({"entry_id": entry_id, "message": why_not(err)})
    return counts


def one_flash(entry_id: int, counts: ReplayCounts) -> Flash:
    """The notice after replaying one entry."""
    if counts.failures:
        return "error", f"Entry #{entry_id} was not replayed: {counts.failures[0]['message']}."
    nothing_new = counts.stored == 0 and counts.duplicates > 0
    note = " Nothing new was stored." if nothing_new else ""
    return "success", f"Entry #{entry_id} replayed: {outcome(counts)}.{note}"


def many_flash(counts: ReplayCounts) -> Flash:
    """The notice after replaying several entries: what worked, and what did not (one
    notice, kept short: it travels in a cookie)."""
    sentences = []
    if counts.entries:
        replayed = _count(counts.entries, "entry", "entries")
        sentences.append(f"Replayed {replayed}: {outcome(counts)}.")
    if counts.failures:
        shown = "; ".join(f"#{f['entry_id']}: {f['message']}" for f in counts.failures[:5])
        more = f" and {len(counts.failures) - 5} more" if len(counts.failures) > 5 else ""
        failed = _count(counts.failed, "entry was", "entries were")
        sentences.append(f"{failed} not replayed ({shown}{more}).")
    if not counts.failures:
        return "success", " ".join(sentences)
    return ("warning" if counts.entries else "error"), " ".join(sentences)


def selected_ids(values: list[str]) -> list[int]:
    """The entry ids ticked on the list, in order, each once; junk values are ignored
    (a tampered form cannot name anything but an id)."""
    ids: list[int] = []
    for value in values:
        if value.isdigit() and len(value) <= 18 and int(value) not in ids:
            ids.append(int(value))
    return ids[:MAX_SELECTED]
