"""How an email shows in the timeline, helper by helper: inline (``cid:``) images
resolved to the message's own files, remote images held back, signatures and quoted
history split off, subjects compared without their ``Re:`` chains, recipients in short."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from admin_ui.inbox.email_html import (
    CID_PLACEHOLDER,
    REMOTE_PLACEHOLDER,
    Images,
    clean,
    email_body,
    normalize_cid,
)
from admin_ui.inbox.email_split import split_html, split_text
from admin_ui.inbox.email_subject import normalize_subject, reply_subject
from admin_ui.inbox.message_view import Recipients, inline_images, message_view
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


def test_scripts_handlers_and_styles_are_gone() -> None:
    html = clean('<img src="cid:a" onerror="alert(1)"><script>alert(2)</script><b style="x">b</b>')
    assert "onerror" not in html and "<script" not in html and "style" not in html


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
