"""``EmailChannel.poll`` and ``fetch_media`` against a real Dovecot: what is imported,
where the cursor stands, IDLE, flags, size limit, unparseable mail and its re-processing."""

from __future__ import annotations

import asyncio
import json

import pytest
from dovecot import Dovecot, dovecot, dovecot_server
from email_imap_helpers import FastEmail, email_channel, mail
from hub.contract import InboundMessage, MediaPart, PermanentFailure, TextPart, UnsupportedPart

from hub_email import inbound, parse
from hub_email.imap import ImapSession

__all__ = ["dovecot", "dovecot_server"]  # the fixtures, used by name
pytestmark = pytest.mark.slow  # starts Dovecot (once per test process)


@pytest.fixture
def user(dovecot: Dovecot) -> str:
    return dovecot.new_user()


def ids(result: inbound.PollResult) -> list[str]:
    return [e.external_id for e in result.events]


def texts(result: inbound.PollResult) -> list[str]:
    return [
        part.text
        for event in result.events
        if isinstance(event, InboundMessage)
        for part in event.parts
        if isinstance(part, TextPart)
    ]


async def test_new_mail_is_imported_once_and_the_cursor_holds_its_place(
    dovecot: Dovecot, user: str
) -> None:
    dovecot.append_many(user, [mail("One", "one@example.org"), mail("Two", "two@example.org")])
    async with email_channel(dovecot, user) as channel:
        assert channel.polls()
        first = await channel.poll(None)
        assert ids(first) == ["one@example.org", "two@example.org"]
        assert first.problems == ()
        cursor = json.loads(first.cursor or "")
        assert cursor["uid"] == 2
        assert cursor["uidvalidity"] == dovecot.uidvalidity(user)
        [one, _] = first.events
        assert isinstance(one, InboundMessage)
        assert one.sender_id == "customer@example.org"
        assert one.subject == "One"
        # Nothing new: the same cursor text comes back (the core writes nothing).
        again = await channel.poll(first.cursor)
        assert (again.events, again.cursor) == ([], first.cursor)


async def test_a_restart_with_the_stored_cursor_neither_reimports_nor_skips(
    dovecot: Dovecot, user: str
) -> None:
    dovecot.append(user, mail("Before", "before@example.org"))
    async with email_channel(dovecot, user) as channel:
        stored = (await channel.poll(None)).cursor
    dovecot.append(user, mail("While down", "while@example.org"))
    async with email_channel(dovecot, user) as restarted:  # a new process, a new object
        result = await restarted.poll(stored)
    assert ids(result) == ["while@example.org"]


async def test_new_mail_comes_in_batches_and_the_cursor_advances_per_batch(
    dovecot: Dovecot, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "BATCH", 3)
    dovecot.append_many(user, [mail(f"m{i}", f"m{i}@example.org") for i in range(5)])
    async with email_channel(dovecot, user) as channel:
        first = await channel.poll(None)
        second = await channel.poll(first.cursor)
    assert ids(first) == ["m0@example.org", "m1@example.org", "m2@example.org"]
    assert ids(second) == ["m3@example.org", "m4@example.org"]
    assert json.loads(second.cursor or "")["uid"] == 5


async def test_an_empty_poll_waits_in_idle_and_returns_the_mail_that_arrives(
    dovecot: Dovecot, user: str
) -> None:
    class Patient(FastEmail):
        idle_seconds = 10.0

    async with email_channel(dovecot, user) as channel:
        cursor = (await channel.poll(None)).cursor  # the empty folder's cursor

    async def deliver_soon() -> None:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(dovecot.append, user, mail("Pushed", "pushed@example.org"))

    async with email_channel(dovecot, user, Patient) as channel:
        delivery = asyncio.create_task(deliver_soon())
        result = await channel.poll(cursor)
        await delivery
    # In this very poll: an IDLE that ran out of time would have returned nothing.
    assert ids(result) == ["pushed@example.org"]


async def test_a_server_without_idle_is_checked_every_poll_seconds(
    dovecot: Dovecot, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(inbound, "clock", lambda: now[0])
    async with email_channel(
        dovecot, user, imap_host=dovecot.host_without_idle, poll_seconds=60
    ) as channel:
        cursor = (await channel.poll(None)).cursor  # the empty folder's cursor
        idled: list[bool] = []
        real_idle = ImapSession.idle

        async def recorded(session: ImapSession, seconds: float) -> bool:
            idled.append(session.has_idle)
            return await real_idle(session, seconds)

        monkeypatch.setattr(ImapSession, "idle", recorded)
        assert (await channel.poll(cursor)).cursor == cursor  # checked: nothing new
        assert idled == [False]  # the server offers no IDLE: nothing to wait in
        dovecot.append(user, mail("Later", "later@example.org"))
        logins = dovecot.logins(user)
        now[0] += 30  # half a poll_seconds later: not due, no login
        assert (await channel.poll(cursor)).events == []
        assert dovecot.logins(user) == logins
        now[0] += 31
        assert ids(await channel.poll(cursor)) == ["later@example.org"]
        assert dovecot.logins(user) == logins + 1


async def test_polling_peeks_and_mark_seen_sets_seen(dovecot: Dovecot, user: str) -> None:
    [uid] = [dovecot.append(user, mail("Peek", "peek@example.org"))]
    async with email_channel(dovecot, user) as channel:
        await channel.poll(None)
    assert "\\Seen" not in dovecot.flags(user, uid)
    marked = dovecot.new_user()
    [uid] = [dovecot.append(marked, mail("Seen", "seen@example.org"))]
    async with email_channel(dovecot, marked, mark_seen=True) as channel:
        await channel.poll(None)
    assert "\\Seen" in dovecot.flags(marked, uid)


async def test_a_mail_over_the_size_limit_is_imported_as_headers_and_a_note(
    dovecot: Dovecot, user: str
) -> None:
    big = mail("Scans", "big@example.org", attachment=("scan.pdf", b"%PDF" + b"x" * 1_200_000))
    dovecot.append_many(user, [big, mail("Small", "small@example.org")])
    async with email_channel(dovecot, user, max_message_mb=1) as channel:
        result = await channel.poll(None)
    assert ids(result) == ["big@example.org", "small@example.org"]
    big_event = result.events[0]
    assert isinstance(big_event, InboundMessage)
    assert big_event.subject == "Scans"
    assert not [p for p in big_event.parts if isinstance(p, MediaPart)]
    note = texts(result)[0]
    assert "MB" in note and "limit" in note


async def test_attachments_are_fetched_through_fetch_media(dovecot: Dovecot, user: str) -> None:
    data = b"%PDF-1.4 invoice " + bytes(range(256))
    dovecot.append(user, mail("Invoice", "inv@example.org", attachment=("invoice.pdf", data)))
    async with email_channel(dovecot, user) as channel:
        result = await channel.poll(None)
        [message] = result.events
        assert isinstance(message, InboundMessage)
        [part] = [p for p in message.parts if isinstance(p, MediaPart)]
        assert part.filename == "invoice.pdf"
        assert await channel.fetch_media(part) == data
        # After the folder was rebuilt, the numbers point nowhere: a permanent failure.
        dovecot.set_uidvalidity(user, 42)
        with pytest.raises(PermanentFailure, match="rebuilt"):
            await channel.fetch_media(part)


async def test_a_uidvalidity_change_reads_the_folder_again(dovecot: Dovecot, user: str) -> None:
    dovecot.append(user, mail("Old", "old@example.org"))
    async with email_channel(dovecot, user) as channel:
        cursor = (await channel.poll(None)).cursor
        dovecot.set_uidvalidity(user, 777)
        dovecot.append(user, mail("New", "new@example.org"))
        result = await channel.poll(cursor)
    # The old mail comes again (the core drops it by its Message-ID), the new one too.
    assert ids(result) == ["old@example.org", "new@example.org"]
    assert json.loads(result.cursor or "")["uidvalidity"] == 777


async def test_unparseable_mail_is_kept_whole_reported_and_parsed_again_after_a_fix(
    dovecot: Dovecot, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = mail("Broken", "broken@example.org", "the text")
    dovecot.append_many(user, [raw, mail("Fine", "fine@example.org")])
    real_parse = parse.parse_mail

    def failing(raw: bytes, **kwargs: object) -> object:
        if b"Broken" in raw:
            raise ValueError("parser bug")
        return real_parse(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parse, "parse_mail", failing)
    async with email_channel(dovecot, user) as channel:
        first = await channel.poll(None)
        assert ids(first) == ["broken@example.org", "fine@example.org"]
        placeholder = first.events[0]
        assert isinstance(placeholder, InboundMessage)
        assert [p.kind for p in placeholder.parts] == ["unsupported", "media"]
        unsupported, whole = placeholder.parts
        assert isinstance(unsupported, UnsupportedPart) and "parser bug" in unsupported.description
        assert isinstance(whole, MediaPart) and whole.filename == "message.eml"
        assert (await channel.fetch_media(whole)).replace(b"\r\n", b"\n") == raw.replace(
            b"\r\n", b"\n"
        )
        [problem] = first.problems
        assert "UID 1" in problem and "parser bug" in problem
        assert json.loads(first.cursor or "")["retry"] == [1]
        # Same parser: nothing is tried again.
        assert (await channel.poll(first.cursor)).events == []

        # A fixed parser ships: the mail is fetched again and edits the placeholder.
        monkeypatch.setattr(parse, "parse_mail", real_parse)
        monkeypatch.setattr(parse, "PARSER_VERSION", parse.PARSER_VERSION + 1)
        fixed = await channel.poll(first.cursor)
    [edit] = fixed.events
    assert isinstance(edit, InboundMessage)
    assert (edit.external_id, edit.edited) == ("broken@example.org", True)
    assert "the text" in texts(fixed)[0]
    cursor = json.loads(fixed.cursor or "")
    assert (cursor["retry"], cursor["parser"], cursor["uid"]) == ([], parse.PARSER_VERSION, 2)


async def test_reprocessing_works_through_a_retry_list_longer_than_a_batch(
    dovecot: Dovecot, user: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "BATCH", 2)
    raws = [mail(f"Broken {n}", f"b{n}@example.org", f"text {n}") for n in range(3)]
    dovecot.append_many(user, raws)
    real_parse = parse.parse_mail
    still_broken = [b"Broken 0", b"Broken 1", b"Broken 2"]

    def failing(raw: bytes, **kwargs: object) -> object:
        if any(marker in raw for marker in still_broken):
            raise ValueError("parser bug")
        return real_parse(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parse, "parse_mail", failing)
    async with email_channel(dovecot, user) as channel:
        cursor = None
        for _ in range(3):
            cursor = (await channel.poll(cursor)).cursor
        assert json.loads(cursor or "")["retry"] == [1, 2, 3]
        # A fix for two of the three: the one still failing stays on the list.
        still_broken[:] = [b"Broken 1"]
        monkeypatch.setattr(parse, "PARSER_VERSION", parse.PARSER_VERSION + 1)
        fixed = await channel.poll(cursor)
    assert sorted(ids(fixed)) == ["b0@example.org", "b2@example.org"]
    assert all(isinstance(e, InboundMessage) and e.edited for e in fixed.events)
    assert [p for p in fixed.problems if "UID 2" in p]
    after = json.loads(fixed.cursor or "")
    assert (after["retry"], after["parser"]) == ([2], parse.PARSER_VERSION)
