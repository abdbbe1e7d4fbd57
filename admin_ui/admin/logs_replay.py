"""Replaying inbound log entries from the admin pages, and saying in plain words what
happened: how many events were stored, already in the inbox, or refused and why."""

from __future__ import annotations

from aiohttp import ChainMapProxy, web

from admin_ui.flash import Flash
from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from hub import appkeys
from hub.channels.inbound import ReplayCounts
from hub.errors import HubError

# The replay service's refusals, as a sentence an admin can act on.
WHY = {
    "channel_disabled": N_("its channel is disabled; enable the channel, then replay"),
    "channel_deleted": N_("its channel has been deleted"),
    "nothing_to_replay": N_(
        "it has nothing to replay: the request was refused before its events were verified"
    ),
    "shutting_down": N_("the hub is restarting; try again in a moment"),
    "not_found": N_("there is no such entry"),
}
MAX_SELECTED = 100


def why_not(err: HubError) -> str:
    """Why an entry could not be replayed, readable."""
    return _(WHY[err.code]) if err.code in WHY else err.message


def outcome(counts: ReplayCounts) -> str:
    """What a replay did to the events, e.g. "1 event stored, 2 already in the inbox"."""
    parts = []
    if counts.stored:
        parts.append(
            ngettext("%(num)d event stored", "%(num)d events stored", counts.stored)
            % {"num": counts.stored}
        )
    if counts.duplicates:
        parts.append(_("%(num)d already in the inbox") % {"num": counts.duplicates})
    if counts.unknown:
        parts.append(
            ngettext(
                "%(num)d status update for messages the hub does not have",
                "%(num)d status updates for messages the hub does not have",
                counts.unknown,
            )
            % {"num": counts.unknown}
        )
    return ", ".join(parts) if parts else _("no events in it")


async def replay_entries(
    app: web.Application | ChainMapProxy, entry_ids: list[int]
) -> ReplayCounts:
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
        reason = counts.failures[0]["message"]
        return "error", _("Entry #%(id)d was not replayed: %(reason)s.") % {
            "id": entry_id,
            "reason": reason,
        }
    text = _("Entry #%(id)d replayed: %(outcome)s.") % {"id": entry_id, "outcome": outcome(counts)}
    if counts.stored == 0 and counts.duplicates > 0:
        text += " " + _("Nothing new was stored.")
    return "success", text


def many_flash(counts: ReplayCounts) -> Flash:
    """The notice after replaying several entries: what worked, and what did not (one
    notice, kept short: it travels in a cookie)."""
    sentences = []
    if counts.entries:
        sentences.append(
            ngettext(
                "Replayed %(num)d entry: %(outcome)s.",
                "Replayed %(num)d entries: %(outcome)s.",
                counts.entries,
            )
            % {"num": counts.entries, "outcome": outcome(counts)}
        )
    if counts.failures:
        shown = "; ".join(f"#{f['entry_id']}: {f['message']}" for f in counts.failures[:5])
        if len(counts.failures) > 5:
            shown = _("%(shown)s and %(num)d more") % {
                "shown": shown,
                "num": len(counts.failures) - 5,
            }
        sentences.append(
            ngettext(
                "%(num)d entry was not replayed (%(shown)s).",
                "%(num)d entries were not replayed (%(shown)s).",
                counts.failed,
            )
            % {"num": counts.failed, "shown": shown}
        )
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
