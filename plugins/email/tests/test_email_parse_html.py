"""HTML to text (an HTML-only mail's plain reading), text to HTML (our outgoing
alternative), charset decoding, and the names of nameless and forwarded parts."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from hub.contract import InboundMessage, MediaPart

from hub_email.mime_charset import decode_text
from hub_email.mime_html import html_to_text, text_to_html
from hub_email.parse import extract_part, parse_mail

FIXTURES = Path(__file__).parent / "fixtures"


def test_html_to_text_keeps_line_structure() -> None:
    html = (
        "<html><head><title>t</title><style>p{}</style></head><body>"
        "<h1>Title</h1><p>one&nbsp;two &amp; <b>three</b></p>"
        "<div>line<br>break<br/>again</div>"
        "<ul><li>a</li><li>b</li></ul>"
        "<table><tr><td>x</td><td>y</td></tr></table>"
        "<pre>  indented\n    more</pre>"
        "<script>ignored()</script></body></html>"
    )
    assert html_to_text(html) == (
        "Title\n\none two & three\n\nline\nbreak\nagain\n\n- a\n- b\n\nx y\n\n  indented\n    more"
    )


def test_html_to_text_survives_broken_markup() -> None:
    assert html_to_text("<p>open <b>never closed <div>x") == "open never closed\nx"
    assert html_to_text("") == ""


def test_text_to_html_escapes_and_links() -> None:
    html = text_to_html("a < b & c\nnext line\n\nsee www.acme.example/x?a=1&b=2, ok")
    assert "<p>a &lt; b &amp; c<br>\nnext line</p>" in html
    assert (
        '<a href="https://www.acme.example/x?a=1&amp;b=2">www.acme.example/x?a=1&amp;b=2</a>, ok'
        in html
    )
    assert html.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in html


def test_text_to_html_does_not_link_javascript() -> None:
    assert "<a " not in text_to_html("javascript:alert(1)")


def test_forwarded_mail_is_one_eml_file() -> None:
    mail = (FIXTURES / "forwarded_as_attachment.eml").read_bytes()
    [msg] = parse_mail(
        mail,
        uidvalidity=2,
        uid=8,
        mailbox_addresses=frozenset({"support@acme.example"}),
        subject_thread_hours=72,
        received_at=None,
    )
    assert isinstance(msg, InboundMessage)
    assert msg.subject == "Fwd: Ihre Bestellbestätigung"
    [forwarded] = [p for p in msg.parts if isinstance(p, MediaPart)]
    assert forwarded.filename == "Ihre Bestellbestätigung.eml"
    assert forwarded.mime_type == "message/rfc822" and forwarded.provider_media_id == "2:8:2"
    inner = message_from_bytes(extract_part(mail, "2"), policy=policy.default)
    assert inner["Message-ID"] == "<order-confirm-77@acme.example>"
    assert forwarded.size == len(extract_part(mail, "2"))


def test_nameless_forwarded_mail_is_named_by_its_subject() -> None:
    mail = (FIXTURES / "forwarded_as_attachment.eml").read_bytes()
    nameless = mail.replace(
        b'Content-Type: message/rfc822; name="=?UTF-8?Q?Ihre_Bestellbest=C3=A4tigung=2Eeml?="\n'
        b"Content-Disposition: attachment; filename*=UTF-8''Ihre%20Bestellbest%C3%A4tigung.eml\n",
        b"Content-Type: message/rfc822\n",
    )
    assert nameless != mail
    [msg] = parse_mail(
        nameless,
        uidvalidity=2,
        uid=8,
        mailbox_addresses=frozenset(),
        subject_thread_hours=72,
        received_at=None,
    )
    assert isinstance(msg, InboundMessage)
    [forwarded] = [p for p in msg.parts if isinstance(p, MediaPart)]
    assert forwarded.filename == "Ihre Bestellbestätigung.eml"


def test_decode_text_never_raises() -> None:
    latin = "Grüße aus München".encode("latin-1")
    assert decode_text("Grüße".encode(), "utf-8") == "Grüße"
    assert decode_text(latin, "utf-8") == "Grüße aus München"
    assert decode_text("Grüße".encode(), "no-such-charset") == "Grüße"
    assert decode_text("привет мир, как дела".encode("koi8-r"), "koi8-r") == "привет мир, как дела"
    assert decode_text("Ω".encode(), '"UTF-8"') == "Ω"
    assert decode_text(b"", None) == ""
    assert isinstance(decode_text(bytes(range(256)), "us-ascii"), str)
