"""How an email shows in the timeline, helper by helper: inline (``cid:``) images
resolved to the message's own files, remote images held back, signatures and quoted
history split off, subjects compared without their ``Re:`` chains, recipients in short."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hub_email.parse import parse_mail

from admin_ui.inbox.email_html import (
    CID_PLACEHOLDER,
    MAX_DEPTH,
    MAX_HTML_CHARS,
    REMOTE_PLACEHOLDER,
    Images,
    clean,
    email_body,
    normalize_cid,
    too_deep,
)
from admin_ui.inbox.email_split import split_html, split_text
from admin_ui.inbox.email_subject import normalize_subject, reply_subject
from admin_ui.inbox.message_view import Recipients, inline_images, message_view
from hub.contract import InboundMessage
from hub.store.models import Attachment, Message


def _attachment(id_: int, content_type: str = "image/png") -> Attachment:
    return Attachment(
        id=id_,
        message_id=1,
        sha256="0" * 64,
        filename=f"f{id_}.png",
        content_type=content_type,
        size=10,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _message(html: str | None, parts: list[dict[str, object]], **kwargs: object) -> Message:
    text_part: list[dict[str, object]] = [{"kind": "text", "text": "plain", "html": html}]
    return Message(
        id=1,
        conversation_id=1,
        channel_id=1,
        direction="in",
        text=kwargs.pop("text", "plain"),
        parts=(text_part if html is not None else []) + parts,
        status="received",
        media_pending=False,
        edit_history=[],
        **kwargs,
    )


# --- images ---------------------------------------------------------------------------


def test_a_cid_image_shows_the_stored_file_and_a_missing_one_a_placeholder() -> None:
    images = Images({"logo@x": "/inbox/files/7", "later@x": None})
    html = clean(
        '<img src="cid:LOGO@x" alt="logo"><img src="cid:later@x"><img src="cid:unknown@x">',
        images,
    )
    assert '<img src="/inbox/files/7" alt="logo">' in html
    assert html.count(f'src="{CID_PLACEHOLDER}"') == 2


def test_remote_images_are_replaced_and_counted_unless_asked_for() -> None:
    html = (
        '<p>Hi<img src="https://tracker.example/open.gif" width="1" height="1">'
        '<img src="http://example.com/a.png"><img src="//cdn.example/b.png"></p>'
    )
    blocked = email_body(html)
    assert "tracker.example" not in blocked.html and "cdn.example" not in blocked.html
    assert blocked.html.count(REMOTE_PLACEHOLDER) == 3 and blocked.remote_images == 3
    shown = email_body(html, Images(remote=True))
    # Over HTTPS only: the frame's CSP allows https: images, and plain HTTP stays out.
    assert 'src="https://tracker.example/open.gif"' in shown.html
    assert shown.remote_images == 2


def test_only_image_sources_may_be_cid_or_data_and_paths_of_the_hub_never() -> None:
    html = clean(
        '<a href="data:text/html,<script>x</script>">a</a><a href="cid:x">b</a>'
        '<img src="data:image/png;base64,iVBORw0KGgo="><img src="data:text/html;base64,PHM+">'
        '<img src="/api/v1/me"><img src="javascript:alert(1)">',
        Images(),
    )
    assert "data:text" not in html and 'href="cid:' not in html
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert "/api/v1/me" not in html and "javascript" not in html


def test_links_open_in_a_new_tab_without_a_referrer() -> None:
    html = clean('<a href="https://shop.test/track?id=1" target="_self">order</a>')
    assert html == (
        '<a href="https://shop.test/track?id=1" target="_blank" rel="noopener noreferrer">order</a>'
    )


def test_scripts_handlers_and_styles_are_gone() -> None:
    html = clean('<img src="cid:a" onerror="alert(1)"><script>alert(2)</script><b style="x">b</b>')
    assert "onerror" not in html and "<script" not in html and "style" not in html


def test_html_nested_too_deep_to_parse_in_time_falls_back_to_its_text() -> None:
    deep = "<div>" * (MAX_DEPTH + 1) + "hi"
    assert too_deep(deep) and not too_deep("<div></div>" * 5000 + "<div>" * MAX_DEPTH)
    view = message_view(_message(deep, [], text="hi, in plain text"), [], email=True)
    assert view.email is None and view.text == "hi, in plain text"
    big = "<p>" + "x" * MAX_HTML_CHARS + "</p>"
    assert message_view(_message(big, [], text="x"), [], email=True).email is None
    assert message_view(_message(big[:1000], [], text="x"), [], email=True).email is not None


def test_an_image_left_without_a_source_is_dropped_not_shown_as_an_empty_box() -> None:
    html = clean('<p>a<img src="x" onerror="alert(1)">b<IMG SRC="javascript:x" alt="j"></p>')
    assert html == "<p>ab</p>"


def test_normalize_cid_drops_scheme_brackets_and_case() -> None:
    assert normalize_cid("cid:<Part1.ABC@Mail>") == "part1.abc@mail"
    assert normalize_cid("<x@y>") == "x@y"


def test_inline_images_use_only_files_of_the_message_and_hide_them_from_the_list() -> None:
    parts: list[dict[str, object]] = [
        {"kind": "media", "media_kind": "image", "content_id": "<Logo@x>", "attachment_id": 5},
        {"kind": "media", "media_kind": "image", "content_id": "other@x", "attachment_id": 99},
        {"kind": "media", "media_kind": "document", "attachment_id": 6},
    ]
    message = _message('<p>See <img src="cid:logo@x"> and <img src="cid:other@x"></p>', parts)
    files = [_attachment(5), _attachment(6, "application/pdf")]
    assert inline_images(message, files).by_cid == {"logo@x": "/inbox/files/5", "other@x": None}
    view = message_view(message, files, email=True)
    assert view.email is not None and 'src="/inbox/files/5"' in view.email.html
    # Attachment 99 belongs to another message: a placeholder, never its file.
    assert CID_PLACEHOLDER in view.email.html
    assert [f.attachment.id for f in view.files] == [6]


# --- signature and quoted history -------------------------------------------------------


def test_text_signature_after_the_dash_dash_line_and_before_the_quote() -> None:
    pieces = split_text("Thanks!\n\n-- \nAda Lovelace\nAcme\n\nOn Mon, Bob wrote:\n> old")
    assert pieces.own == "Thanks!"
    assert pieces.signature == "-- \nAda Lovelace\nAcme"
    assert pieces.quoted.startswith("On Mon, Bob wrote:")


@pytest.mark.parametrize(
    ("text", "own", "signature"),
    [
        ("Yes please.\n\nSent from my iPhone", "Yes please.", "Sent from my iPhone"),
        ("Ok\nGet Outlook for Android\n", "Ok", "Get Outlook for Android"),
        # Not the last line: the sender's own words, kept.
        ("Sent from my iPhone\nbut read this", "Sent from my iPhone\nbut read this", ""),
        # Dashes that are no signature separator.
        ("a -- b\n--not\nend", "a -- b\n--not\nend", ""),
        # Only a signature: nothing would be left, so nothing is folded.
        ("-- \nAda", "-- \nAda", ""),
    ],
)
def test_text_signature_is_split_only_where_reliable(text: str, own: str, signature: str) -> None:
    pieces = split_text(text)
    assert (pieces.own, pieces.signature) == (own, signature)


@pytest.mark.parametrize(
    "signature",
    [
        '<div class="gmail_signature" data-smartmail="gmail_signature">Ada<br>Acme</div>',
        '<div class="moz-signature">-- <br>Ada</div>',
        '<div id="Signature"><p>Ada</p></div>',
        "<div>Sent from my iPhone</div>",
    ],
)
def test_html_signatures_of_the_usual_clients_are_split(signature: str) -> None:
    html = f"<div>Thanks a lot!</div>{signature}<div class='gmail_quote'>On Mon<blockquote>x</blockquote></div>"
    pieces = split_html(html)
    assert pieces.own == "<div>Thanks a lot!</div>"
    assert pieces.signature == signature
    assert pieces.quoted.startswith("<div class='gmail_quote'>")
    body = email_body(html)
    assert body.signature is not None and body.quoted is not None
    assert "Thanks a lot!" in body.html and "Ada" not in body.html


def test_html_without_signature_or_quote_stays_whole() -> None:
    html = "<p>I was sent from my office, see below.</p><p>Regards</p>"
    assert split_html(html).own == html and email_body(html).signature is None


# --- subjects and recipients -------------------------------------------------------------


def test_subjects_compare_without_reply_chains_and_a_reply_gets_one_re() -> None:
    assert normalize_subject("RE: AW: Re[2]: [acme-list]  Order  42") == "order 42"
    assert normalize_subject("Fwd: Order 42") == normalize_subject("order 42")
    assert reply_subject("Re: Re: Order 42") == "Re: Order 42"
    assert reply_subject("AW: Order 42") == "Re: Order 42"
    assert reply_subject("Order 42") == "Re: Order 42"
    assert reply_subject(None) == "" and reply_subject("  ") == ""


def test_recipients_in_short_and_none_without_any() -> None:
    r = Recipients.of({"to": ["Support <help@acme.test>", "b@x.test"], "cc": ["c@x.test"]})
    assert r is not None
    assert r.short(r.to) == "Support +1" and r.short(r.cc) == "c@x.test"
    assert Recipients.of(None) is None and Recipients.of({"to": [], "cc": None}) is None
    assert Recipients.of({"to": "not a list"}) is None


def test_automated_mail_gets_its_label() -> None:
    message = _message(None, [], automated="bounce")
    assert message_view(message, [], email=True).automated == "Bounce"
    message.automated = None
    assert message_view(message, [], email=True).automated is None


@pytest.mark.parametrize(
    ("text", "own"),
    [
        ("Ok\n\nAm 3. März 2026 um 10:00 schrieb Acme <a@x.test>:\n> alt", "Ok"),
        ("Ok\n\nLe lun. 3 mars 2026, Acme a écrit :\n> ancien", "Ok"),
        ("Ok\n\n-----Original Message-----\nFrom: Acme\nold", "Ok"),
        ("Ok\n\nFrom: Acme Support <a@x.test>\nSent: Monday\nSubject: x\n\nold", "Ok"),
        ("Ok\n\nVon: Acme <a@x.test>\nGesendet: Montag\n\nalt", "Ok"),
        # A "From:" line that heads no mail stays the sender's own words.
        ("From: my side, all good.\nThanks", "From: my side, all good.\nThanks"),
    ],
)
def test_text_quotes_of_other_languages_and_outlook_are_split(text: str, own: str) -> None:
    assert split_text(text).own == own


@pytest.mark.parametrize(
    "quote",
    [
        '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Acme</div><div>old</div>',
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">\n'
        '<p class="MsoNormal"><b>From:</b> Acme<br><b>Sent:</b> Monday</p></div><p>old</p>',
    ],
)
def test_outlook_html_quotes_are_split(quote: str) -> None:
    pieces = split_html(f"<p>Still waiting.</p>{quote}")
    assert pieces.own == "<p>Still waiting.</p>" and pieces.quoted == quote


# --- real mail, as the email plugin parses it ----------------------------------------------

FIXTURES = Path(__file__).parent.parent / "plugins/email/tests/fixtures"


def _parsed(name: str) -> Message | None:
    """The fixture mail as the intake stores it: its parts' JSON, each media part with a
    fetched file (attachment id = its position + 100); None for a mail that is no message."""
    events = parse_mail(
        (FIXTURES / f"{name}.eml").read_bytes(),
        uidvalidity=1,
        uid=1,
        mailbox_addresses=frozenset({"support@acme.example"}),
        subject_thread_hours=72,
        received_at=None,
    )
    event = events[0] if events else None
    if not isinstance(event, InboundMessage):
        return None
    parts = [p.model_dump(mode="json", exclude_none=True) for p in event.parts]
    for index, part in enumerate(parts):
        if part["kind"] == "media":
            part["attachment_id"] = 100 + index
    text = next((p.get("text") for p in parts if p["kind"] == "text"), None)
    return _message(None, parts, text=text)


def _files(message: Message) -> list[Attachment]:
    return [
        _attachment(p["attachment_id"], p.get("mime_type") or "application/octet-stream")
        for p in message.parts
        if "attachment_id" in p
    ]


# The fixtures the parser makes a message of (the others are a bounce's status, or our
# own mail read back, which the inbox never shows).
SHOWN_FIXTURES = [p.stem for p in sorted(FIXTURES.glob("*.eml")) if _parsed(p.stem) is not None]


@pytest.mark.parametrize("name", SHOWN_FIXTURES)
def test_every_fixture_mail_shows_without_markup_that_runs(name: str) -> None:
    message = _parsed(name)
    assert message is not None
    view = message_view(message, _files(message), email=True)
    shown = "".join(
        str(x)
        for x in (view.text, view.quoted_text, view.signature_text)
        + ((view.email.html, view.email.signature, view.email.quoted) if view.email else ())
        if x
    )
    assert shown.strip()
    for danger in ("<script", "onerror", "javascript:", "<style", "<meta"):
        assert danger not in shown.lower(), (name, danger)


@pytest.mark.parametrize(
    ("name", "own", "quoted"),
    [
        ("gmail_reply", "Thanks, that fixed it!", "Please try again now."),
        ("thunderbird_reply", "Still nothing in my inbox.", "Please check your spam folder."),
        ("outlook_reply", "the replacement has not arrived yet", "A replacement is on its way."),
    ],
)
def test_the_clients_quoted_history_is_folded(name: str, own: str, quoted: str) -> None:
    message = _parsed(name)
    assert message is not None
    view = message_view(message, _files(message), email=True)
    assert view.email is not None and view.email.quoted is not None
    assert own in view.email.html and quoted not in view.email.html
    assert quoted in view.email.quoted


@pytest.mark.parametrize("name", ["apple_mail", "related_cid"])
def test_inline_images_of_real_mail_show_their_stored_file(name: str) -> None:
    message = _parsed(name)
    assert message is not None
    view = message_view(message, _files(message), email=True)
    assert view.email is not None
    assert re.search(r'<img src="/inbox/files/10\d"', view.email.html), view.email.html
    assert CID_PLACEHOLDER not in view.email.html
    assert view.files == []  # the one image is in place, not listed again
