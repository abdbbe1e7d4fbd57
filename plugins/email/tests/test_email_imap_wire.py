"""The IMAP wire helpers (hub_email/imap_wire.py) on responses as aioimaplib hands them
over: FETCH data with the literal anywhere, UID sets, folder names in modified UTF-7."""

from __future__ import annotations

from aioimaplib.aioimaplib import Response

from hub_email.imap_wire import mailbox_name, parse_fetch, text_of, uid_set


def test_fetch_data_is_read_whatever_the_order_of_its_items() -> None:
    response = Response(
        "OK",
        [
            b"1 FETCH (UID 7 RFC822.SIZE 11 FLAGS (\\Seen) BODY[] {11}",
            bytearray(b"Subject: a\n"),
            b")",
            # Items after the literal, as some servers send them.
            b"2 FETCH (BODY[] {3}",
            bytearray(b"abc"),
            b' UID 9 FLAGS () INTERNALDATE "03-Dec-2026 14:56:06 +0000")',
            # An unsolicited flag change of another message: no UID, not ours.
            b"3 FETCH (FLAGS (\\Deleted))",
            b"Fetch completed (0.001 + 0.000 secs).",
        ],
    )
    first, second = parse_fetch(response)
    assert (first.uid, first.size, first.flags, first.raw) == (
        7,
        11,
        frozenset({"\\Seen"}),
        b"Subject: a\n",
    )
    assert (second.uid, second.size, second.raw) == (9, 3, b"abc")
    assert second.internaldate == "03-Dec-2026 14:56:06 +0000"
    assert text_of(response) == "Fetch completed (0.001 + 0.000 secs)."


def test_uid_sets_collapse_runs() -> None:
    assert uid_set([5]) == "5"
    assert uid_set([3, 1, 2, 7, 9, 8, 8]) == "1:3,7:9"


def test_folder_names_are_modified_utf7_and_quoted() -> None:
    assert mailbox_name("INBOX") == '"INBOX"'
    assert mailbox_name("Entwürfe") == '"Entw&APw-rfe"'
    assert mailbox_name("A&B") == '"A&-B"'
    assert mailbox_name("日本語") == '"&ZeVnLIqe-"'  # RFC 3501 5.1.3's own example
    assert mailbox_name('Say "hi"') == '"Say \\"hi\\""'
